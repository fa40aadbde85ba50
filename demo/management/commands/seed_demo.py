"""``python manage.py seed_demo [--password P]``: demo data for a newcomer's first run.

Creates, once, the fictional committee of ``demo.people`` (4 general branches, 20
branches of very different sizes, a few party groups, about 600 members with realistic
Chinese names, one login per role), gives the home page an introduction, publishes
the demo courses, lessons and policy documents of ``demo.content`` (then indexes them), and
imports the demo question bank of ``demo.quizzes`` with its quizzes, an exam and the
attempts members made at them. Passwords
are random unless ``--password`` is given, and are printed only once. Running it again
changes nothing. Every data file under ``demo/data/`` is read before anything is
written, so a malformed one stops the command with its file and line and an empty
database stays empty. The command lives in the ``demo`` app, which no app imports.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.urls import reverse

from cms.models import HomePage, LessonPage
from cms.views import lesson_requirements
from demo import bank_data, content_data, people_data
from demo.activity import DEFAULT_DAYS, DemoLesson, demo_activity_seed
from demo.assignments import demo_assignments_seed
from demo.content import DemoContentError, demo_content_seed
from demo.errors import DemoDataError
from demo.people import DemoPasswords, DemoSeedError, SeedSummary, demo_passwords, demo_seed
from demo.quizzes import DemoQuizError, demo_bank_exists, demo_quiz_seed
from learning.models import Organization, UnsentTask

HOME_PAGE_INTRO = (
    "<p>欢迎来到青禾新区机关党委的<b>智慧党建</b>学习平台。</p>"
    "<p>在这里可以学习课程和政策文件、参加每日答题；每一次学习都会计入积分，"
    "并在所在支部的排行榜上体现。请使用组织分配的账号或手机号登录。</p>"
)


def home_page_intro_publish() -> bool:
    """Give the site's home page an introduction if it has none; True if published."""
    home_page = HomePage.objects.order_by("path").first()
    if home_page is None:
        return False
    # Start from the latest draft, so publishing does not drop an editor's unsaved work.
    draft = home_page.get_latest_revision_as_object()
    if draft.intro.strip():
        return False
    draft.intro = HOME_PAGE_INTRO
    draft.save_revision(log_action=True).publish()
    return True


def demo_data_read() -> None:
    """Read (and keep) every demo data file; raises ``DemoDataError`` for a bad one."""
    people_data.people()
    content_data.demo_content()
    bank_data.bank_categories()


class Command(BaseCommand):
    help = (
        "Create a demo party organisation (1 committee, 4 general branches, 20 branches, "
        "~600 members) and one login per role. Does nothing if the demo already exists."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password",
            help="password for every demo account (default: random ones, printed once)",
        )
        parser.add_argument(
            "--activity-days",
            type=int,
            default=DEFAULT_DAYS,
            help=f"days of study activity to award (default {DEFAULT_DAYS}; 0 for none)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        explicit_password: str | None = options["password"]
        if explicit_password is not None and not explicit_password.strip():
            raise CommandError("--password must not be empty.")
        activity_days: int = options["activity_days"]
        if activity_days < 0:
            raise CommandError("--activity-days must be 0 or more.")
        try:
            demo_data_read()
        except DemoDataError as error:
            raise CommandError(f"示范数据文件有误，未做任何修改：{error}") from error
        # Wagtail logs every page it creates and publishes; a hundred lines would bury
        # the passwords this command prints once.
        logging.getLogger("wagtail").setLevel(logging.WARNING)
        unsent_before = UnsentTask.objects.count()
        with transaction.atomic():
            if Organization.objects.filter(code=people_data.COMMITTEE_CODE).exists():
                self.stdout.write(
                    f"示范组织已存在（组织编码 {people_data.COMMITTEE_CODE}），未做修改。"
                )
            else:
                passwords = demo_passwords(explicit_password)
                try:
                    summary = demo_seed(passwords)
                except DemoSeedError as error:
                    raise CommandError(str(error)) from error
                intro_published = home_page_intro_publish()
                self._report(summary, passwords, intro_published=intro_published)
            try:
                content = demo_content_seed()
            except DemoContentError as error:
                raise CommandError(str(error)) from error
        self.stdout.write("")
        if content.pages or content.files:
            self.stdout.write(
                f"已发布示范学习内容：课程 {content.courses} 门、课时 {content.lessons} 个、"
                f"政策文件 {content.documents} 份、文件原件 {content.files} 份。"
            )
            # Index now, so search works even before the search worker first runs.
            call_command("rebuild_modelsearch_index", verbosity=0)
        else:
            self.stdout.write("示范学习内容已存在，未做修改。")
        assigned = demo_assignments_seed()
        if assigned:
            self.stdout.write(
                f"已布置示范学习任务 {assigned} 项（见“我的学习”和书记的完成情况报表）。"
            )
        self._seed_quizzes()
        if activity_days:
            self._seed_activity(activity_days)
        self._report_unsent_tasks(unsent_before)

    def _report_unsent_tasks(self, before: int) -> None:
        # The broker refused some background tasks (learning.common.enqueue): they are
        # kept, not lost, but the operator must hear of it now rather than find out later.
        kept = UnsentTask.objects.count() - before
        if kept > 0:
            latest = UnsentTask.objects.order_by("-pk").first()
            self.stderr.write(
                self.style.WARNING(
                    f"有 {kept} 个后台任务未能送入任务队列（{latest.error if latest else ''}）。"
                    "它们已保存，队列恢复后每分钟自动重发，"
                    "也可运行 python manage.py send_unsent_tasks 立即重发。"
                )
            )

    def _seed_quizzes(self) -> None:
        self.stdout.write("")
        if demo_bank_exists():
            self.stdout.write("示范题库已存在，未做修改。")
            return
        committee = Organization.objects.get(code=people_data.COMMITTEE_CODE)
        self.stdout.write("正在生成示范题库、测验和答题记录（首次约需半分钟）……")
        try:
            quizzes = demo_quiz_seed(committee=committee)
        except DemoQuizError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"已导入示范题库：{quizzes.categories} 个分类、{quizzes.questions} 道题；"
            f"已创建每日答题、每周答题、专项答题和考试，答题记录 {quizzes.attempts} 份，"
            f"其中 {quizzes.waiting_for_grading} 道简答题待批阅。"
        )

    def _seed_activity(self, days: int) -> None:
        committee = Organization.objects.get(code=people_data.COMMITTEE_CODE)
        self.stdout.write("")
        self.stdout.write(f"正在生成近 {days} 天的学习记录和积分（首次约需半分钟）……")
        # Course by course, lesson by lesson, as a member reads them.
        lessons = [
            DemoLesson(lesson_id=lesson.pk, requirements=lesson_requirements(lesson))
            for lesson in LessonPage.objects.live().public().order_by("path")
        ]
        activity = demo_activity_seed(committee=committee, days=days, lessons=lessons)
        if activity.awards:
            self.stdout.write(f"已记入 {activity.awards} 条积分，共 {activity.points} 分。")
        else:
            self.stdout.write("学习积分已存在，未做修改。")
        if activity.screen is not None:
            url = reverse("screen", kwargs={"token": activity.screen.token})
            self.stdout.write(f"办公室大屏（无需登录）：http://127.0.0.1:8000{url}")

    def _report(
        self, summary: SeedSummary, passwords: DemoPasswords, *, intro_published: bool
    ) -> None:
        write = self.stdout.write
        member_total = len(summary.ordinary_usernames) + len(summary.created_accounts)
        write(
            self.style.SUCCESS(
                f"已创建示范组织：{people_data.COMMITTEE_NAME}（{people_data.COMMITTEE_CODE}）"
            )
        )
        write(
            f"  党总支 {summary.general_branches} 个，党支部 {summary.branches} 个，"
            f"党小组 {summary.groups} 个，党员 {member_total} 名"
        )
        write("")
        write("演示账号（密码只显示这一次，请妥善保存）：")
        write(f"  {'用户名':<18}{'密码':<16}角色")
        for account in summary.created_accounts:
            write(
                f"  {account.username:<21}{passwords.accounts[account.username]:<18}{account.label}"
            )
        if summary.ordinary_usernames:
            usernames = f"{summary.ordinary_usernames[0]}~{summary.ordinary_usernames[-1]}"
            write(f"  {usernames:<21}{passwords.ordinary_members:<18}普通党员（共用此密码）")
        for account in summary.skipped_accounts:
            write(f"  {account.username:<21}{'-':<18}用户名已被占用，未创建{account.label}账号")
        for username, phone in summary.account_phones.items():
            write(f"  {username} 也可以用手机号 {phone} 登录。")
        if intro_published:
            write("")
            write("首页简介已填写并发布。")
