"""Seed the default points rules, guard the ledger in the database, backfill headcounts."""

from collections import defaultdict

from django.db import migrations

# (code, name, points, most per award, daily cap, active, description)
DEFAULT_RULES = [
    ("lesson_completed", "完成课时", 1, None, 6, True, "每学完一节课时得 1 分，每日最多 6 分。"),
    ("study_time", "学习时长", 1, None, 6, True, "有效学习每满 5 分钟得 1 分，每日最多 6 分。"),
    ("daily_quiz_correct", "每日答题", 1, None, 5, True, "每日答题每答对一题得 1 分，每日最多 5 分。"),
    ("weekly_quiz", "每周答题", 1, 5, None, True, "按每周答题成绩得分，每次最多 5 分。"),
    ("topic_quiz", "专项答题", 1, 10, None, True, "按专项答题成绩得分，每次最多 10 分。"),
    ("exam_passed", "考试合格", 10, None, None, True, "考试成绩达到合格线得 10 分。"),
    ("course_completed", "完成课程", 5, None, None, True, "学完一门课程的全部课时得 5 分。"),
    ("challenge_quiz", "挑战答题", 1, None, 6, True, "挑战答题连续答对每题得 1 分，每日最多 6 分。"),
    ("wrong_answers_mastered", "错题巩固", 1, None, 2, True, "错题本中的题目连续答对两次即掌握，每题得 1 分，每日最多 2 分。"),
    ("reflection_accepted", "学习心得", 2, None, None, True, "提交的学习心得经审核通过得 2 分。"),
    ("daily_login", "每日登录", 1, None, 1, False, "每日首次登录得 1 分。默认不启用：只奖励学习，不奖励签到；组织可慎重选择启用。"),
]


def seed_rules(apps, schema_editor):
    PointsRule = apps.get_model("learning", "PointsRule")
    for order, (code, name, points, most, cap, active, description) in enumerate(DEFAULT_RULES):
        PointsRule.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "points": points,
                "max_points_per_award": most,
                "daily_cap": cap,
                "is_active": active,
                "description": description,
                "sort_order": (order + 1) * 10,
            },
        )


def backfill_headcounts(apps, schema_editor):
    Membership = apps.get_model("learning", "Membership")
    HeadcountChange = apps.get_model("learning", "HeadcountChange")
    summed = defaultdict(int)
    for organization_id, start, end in Membership.objects.values_list(
        "organization_id", "start_date", "end_date"
    ).iterator():
        summed[(organization_id, start)] += 1
        if end is not None:
            summed[(organization_id, end)] -= 1
    HeadcountChange.objects.bulk_create(
        [
            HeadcountChange(organization_id=org, day=day, delta=delta)
            for (org, day), delta in summed.items()
            if delta
        ],
        batch_size=500,
    )


def install_guards(apps, schema_editor):
    from learning.points.db import install_ledger_guards

    install_ledger_guards(schema_editor)


def uninstall_guards(apps, schema_editor):
    from learning.points.db import uninstall_ledger_guards

    uninstall_ledger_guards(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("learning", "0003_points_ledger_and_screens")]

    operations = [
        migrations.RunPython(seed_rules, migrations.RunPython.noop),
        migrations.RunPython(backfill_headcounts, migrations.RunPython.noop),
        migrations.RunPython(install_guards, uninstall_guards),
    ]
