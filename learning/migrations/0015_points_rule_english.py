"""Points rules get an English name and description, filled in for the built-in rules.

A built-in rule gets its English text only while its Chinese text is still the one the
project seeded: an administrator who reworded a rule (or changed its cap, which the
description mentions) writes the English version in the admin, so the two never say
different things.
"""

import learning.common.text
from django.db import migrations, models

# code: (seeded Chinese name, English name, seeded Chinese description, English description)
BUILT_IN_RULES = {
    "lesson_completed": (
        "完成课时",
        "Lessons completed",
        "每学完一节课时得 1 分，每日最多 6 分。",
        "1 point for each lesson you complete, at most 6 a day.",
    ),
    "study_time": (
        "学习时长",
        "Study time",
        "有效学习每满 5 分钟得 1 分，每日最多 6 分。",
        "1 point for every 5 minutes of verified study, at most 6 a day.",
    ),
    "daily_quiz_correct": (
        "每日答题",
        "Daily quiz",
        "每日答题每答对一题得 1 分，每日最多 5 分。",
        "1 point for each correct answer in the daily quiz, at most 5 a day.",
    ),
    "weekly_quiz": (
        "每周答题",
        "Weekly quiz",
        "按每周答题成绩得分，每次最多 5 分。",
        "Points by your weekly quiz score, at most 5 a quiz.",
    ),
    "topic_quiz": (
        "专项答题",
        "Topic quiz",
        "按专项答题成绩得分，每次最多 10 分。",
        "Points by your topic quiz score, at most 10 a quiz.",
    ),
    "exam_passed": (
        "考试合格",
        "Exam passed",
        "考试成绩达到合格线得 10 分。",
        "10 points when your exam score reaches the pass mark.",
    ),
    "course_completed": (
        "完成课程",
        "Course completed",
        "学完一门课程的全部课时，得该课程设定的积分（一般为 5 分）。",
        "Complete every lesson of a course to earn the points the course sets (usually 5).",
    ),
    "challenge_quiz": (
        "挑战答题",
        "Challenge quiz",
        "挑战答题连续答对每题得 1 分，每日最多 6 分。",
        "1 point for each answer in a row you get right in the challenge, at most 6 a day.",
    ),
    "wrong_answers_mastered": (
        "错题巩固",
        "Wrong answers mastered",
        "错题本中的题目连续答对两次即掌握，每题得 1 分，每日最多 2 分。",
        "A question in your wrong-answer book is mastered when you answer it right twice"
        " in a row: 1 point for each, at most 2 a day.",
    ),
    "reflection_accepted": (
        "学习心得",
        "Study reflection",
        "提交的学习心得经审核通过得 2 分。",
        "2 points when a study reflection you submitted is approved.",
    ),
    "daily_login": (
        "每日登录",
        "Daily login",
        "每日首次登录得 1 分。默认不启用：只奖励学习，不奖励签到；组织可慎重选择启用。",
        "1 point for the first login of the day. Off by default: study is rewarded, not"
        " check-ins; an organisation may choose to switch it on.",
    ),
}


def fill_english(apps, schema_editor):
    PointsRule = apps.get_model("learning", "PointsRule")
    for rule in PointsRule.objects.filter(code__in=BUILT_IN_RULES):
        name, name_en, description, description_en = BUILT_IN_RULES[rule.code]
        changed = []
        if not rule.name_en and rule.name == name:
            rule.name_en = name_en
            changed.append("name_en")
        if not rule.description_en and rule.description == description:
            rule.description_en = description_en
            changed.append("description_en")
        if changed:
            rule.save(update_fields=changed)


class Migration(migrations.Migration):
    dependencies = [
        ("learning", "0014_text_is_valid_text"),
    ]

    operations = [
        migrations.AddField(
            model_name="pointsrule",
            name="name_en",
            field=models.CharField(
                blank=True,
                help_text="Shown to members who use the site in English. Empty: the name above.",
                max_length=100,
                validators=[learning.common.text.validate_text],
                verbose_name="name in English",
            ),
        ),
        migrations.AddField(
            model_name="pointsrule",
            name="description_en",
            field=models.TextField(
                blank=True,
                help_text=(
                    "Shown to members who use the site in English. Empty: the description above."
                ),
                validators=[learning.common.text.validate_text],
                verbose_name="description in English",
            ),
        ),
        migrations.RunPython(fill_english, migrations.RunPython.noop),
    ]
