"""An editor imports questions in the admin: a GIFT file with a bad question, then a fixed one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from learning.people import roles, services
from quizzes.models import Question
from tests.browser.conftest import DESKTOP
from tests.browser.test_journeys import log_in
from tests.factories.people import MemberFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

NewPage = Callable[..., Any]
Screenshot = Callable[[Any, str], Path]

FIXED = """$CATEGORY: $course$/top/党史/新民主主义革命时期

::中共一大::中国共产党第一次全国代表大会于哪一年召开？{
\t~1919
\t=1921
\t~1927
\t####中共一大于1921年7月在上海召开。
}

中国共产党的成立是中国历史上开天辟地的大事变。{T}

中共一大于{=1921}年在{=上海 =上海市}召开。
"""
BAD = FIXED + "\n“四个意识”的对应关系：{=政治意识 -> 政治 =大局意识 -> 大局}\n"


def test_an_editor_fixes_a_gift_file_and_imports_it(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    committee = services.organization_create(name="某党委", code="DW", kind="committee")
    MemberFactory(
        username="bianji",
        display_name="李编辑",
        organization=committee,
        role_names=[roles.EDITOR],
    )
    page = new_page(DESKTOP)
    log_in(page, "bianji")

    page.goto(reverse("wagtailsnippets_quizzes_question:list"))
    page.locator(f"a[href='{reverse('quizzes_question_import')}']").first.click()
    page.wait_for_load_state()
    page.set_input_files(
        "#id_file", {"name": "bank.gift", "mimeType": "text/plain", "buffer": BAD.encode()}
    )
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    problem = page.locator(".quiz-import-problems tbody tr")
    assert problem.count() == 1
    assert problem.first.locator("td").first.inner_text().strip() == "14"
    assert page.locator(".quiz-import-row--error").count() == 0  # the bad one was not read
    assert page.locator("form[action$='/confirm/']").count() == 0
    screenshot(page, "question-import-problems")
    assert not Question.objects.exists()

    page.locator(f"main a[href='{reverse('quizzes_question_import')}']").first.click()
    page.wait_for_load_state()
    page.set_input_files(
        "#id_file", {"name": "bank.gift", "mimeType": "text/plain", "buffer": FIXED.encode()}
    )
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(".quiz-import-preview tbody tr").count() == 3
    screenshot(page, "question-import-preview")
    page.locator("form[action$='/confirm/'] button[type=submit]").click()
    page.wait_for_load_state()
    page.locator("#import-done").wait_for(state="visible")
    assert page.locator("#import-percent").inner_text() == "100"
    screenshot(page, "question-import-done")
    assert Question.objects.count() == 3

    list_url = reverse("wagtailsnippets_quizzes_question:list")
    page.locator(f"main a[href='{list_url}']").first.click()
    page.wait_for_load_state()
    listing = page.locator("main table").inner_text()
    assert "中国共产党第一次全国代表大会于哪一年召开" in listing
    assert "党史/新民主主义革命时期" in listing
    screenshot(page, "question-bank-list")


def test_an_editor_fixes_a_bad_row_of_an_xlsx_and_imports_it(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    from tests.factories.sheets import make_xlsx, row

    committee = services.organization_create(name="某党委", code="DW", kind="committee")
    MemberFactory(
        username="bianji",
        display_name="李编辑",
        organization=committee,
        role_names=[roles.EDITOR],
    )
    good = row("单选", "中国共产党第一次全国代表大会在哪一年召开？", ["1919", "1921", "1927"], "B")
    bad = row("单选", "党的最高领导机关是什么？", ["全国代表大会", "中央委员会"], "E")
    fixed = row("单选", "党的最高领导机关是什么？", ["全国代表大会", "中央委员会"], "A")
    page = new_page(DESKTOP)
    log_in(page, "bianji")
    page.goto(reverse("quizzes_question_import"))
    page.set_input_files(
        "#id_file",
        {
            "name": "题库.xlsx",
            "mimeType": "application/octet-stream",
            "buffer": make_xlsx([good, bad]),
        },
    )
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    problems = page.locator(".quiz-import-problems tbody tr")
    assert problems.count() == 1
    assert problems.first.locator("td").first.inner_text().strip() == "3"  # the sheet's row
    assert page.locator(".quiz-import-row--error").count() == 1
    assert page.locator("form[action$='/confirm/']").count() == 0
    screenshot(page, "question-import-xlsx-row-error")
    assert not Question.objects.exists()

    page.goto(reverse("quizzes_question_import"))
    page.set_input_files(
        "#id_file",
        {
            "name": "题库.xlsx",
            "mimeType": "application/octet-stream",
            "buffer": make_xlsx([good, fixed]),
        },
    )
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator(".quiz-import-preview tbody tr").count() == 2
    page.locator("form[action$='/confirm/'] button[type=submit]").click()
    page.wait_for_load_state()
    page.locator("#import-done").wait_for(state="visible")
    assert Question.objects.count() == 2
