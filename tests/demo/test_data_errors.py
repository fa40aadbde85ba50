"""A broken demo data file: one ``DemoDataError`` naming the file and line, nothing written.

Each kind of data file (the organisation CSVs, the question bank's GIFT files, the
course and policy Markdown) is copied to a temporary folder, spoiled in one place, and
read again; ``seed_demo`` on a spoiled copy stops with the file and line and leaves the
database as it was.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from cms.models import CoursePage
from demo import bank_data, content_data, people_data
from demo.errors import DemoDataError
from learning.models import Member, Organization
from quizzes.models import Question

DATA = Path(people_data.__file__).resolve().parent / "data"


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A copy of ``demo/data`` to spoil."""
    target = tmp_path / "data"
    shutil.copytree(DATA, target)
    return target


def spoil(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, text: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if text in line)


def refused(read: Callable[[], object]) -> DemoDataError:
    with pytest.raises(DemoDataError) as error:
        read()
    return error.value


def test_the_committed_files_read() -> None:
    assert people_data.people_read(directory=DATA).committee_code == "DW01"
    assert len(bank_data.bank_read(directory=DATA / "bank")) == 8
    assert len(content_data.content_read(directory=DATA).courses) == 6


def test_importing_the_people_module_reads_no_file() -> None:
    # The names are read on first use, so a broken CSV cannot break ``import``.
    people_data.people.cache_clear()
    assert people_data.people.cache_info().currsize == 0
    assert people_data.COMMITTEE_CODE == "DW01"
    assert people_data.people.cache_info().currsize == 1
    with pytest.raises(AttributeError):
        people_data.NO_SUCH_NAME  # noqa: B018


@pytest.mark.parametrize(
    ("file_name", "old", "new", "message"),
    [
        (
            "organisations.csv",
            "ZB01,机关第一党支部,branch,ZZB01,12",
            "ZB01,机关第一党支部,branch,ZZB01,twelve",
            "column size: 'twelve' is not a whole number of at least 1",
        ),
        (
            "organisations.csv",
            "ZB02,机关第二党支部,branch,ZZB01",
            "ZB02,机关第二党支部,brunch,ZZB01",
            "column kind: 'brunch' is not one of",
        ),
        (
            "accounts.csv",
            "editor,演示编辑,编辑,ZB01",
            "editor,演示编辑,编辑,ZB99",
            "column branch: ZB99 is not a branch of organisations.csv",
        ),
        ("accounts.csv", "党员;编辑", "党员;主编", "column roles: use roles from"),
        (
            "family_names.csv",
            "name,weight",
            "name,share",
            "the first line lacks the columns weight",
        ),
    ],
)
def test_a_broken_csv_names_its_file_line_and_column(
    copy: Path, file_name: str, old: str, new: str, message: str
) -> None:
    path = copy / file_name
    spoil(path, old, new)
    error = refused(lambda: people_data.people_read(directory=copy))
    line = 1 if "first line" in message else line_of(path, new)
    assert error.path == path
    assert error.line == line
    assert f"{file_name}:{line}: {message}" in str(error)


def test_a_csv_without_a_committee_is_refused(copy: Path) -> None:
    path = copy / "organisations.csv"
    path.write_text("code,name,kind,parent,size,groups,retired\n", encoding="utf-8")
    error = refused(lambda: people_data.people_read(directory=copy))
    assert (error.path, error.line) == (path, 0)
    assert str(error).endswith("organisations.csv: no committee row")


def test_a_broken_gift_question_names_its_file_and_line(copy: Path) -> None:
    path = copy / "bank" / "01-党史.gift"
    spoil(path, "\t=上海\n", "\t上海\n")
    error = refused(lambda: bank_data.bank_read(directory=copy / "bank"))
    assert error.path == path
    assert error.line > 0
    assert str(error).startswith(f"{path}:{error.line}: ")


def test_a_gift_file_with_two_categories_is_refused(copy: Path) -> None:
    path = copy / "bank" / "02-党章党规.gift"
    path.write_text(
        path.read_text(encoding="utf-8") + "\n$CATEGORY: 另一个分类\n\n问题？ {T}\n",
        encoding="utf-8",
    )
    error = refused(lambda: bank_data.bank_read(directory=copy / "bank"))
    assert (error.path, error.line) == (path, 0)
    assert "one $CATEGORY line" in str(error)


def test_an_empty_bank_folder_is_refused(tmp_path: Path) -> None:
    error = refused(lambda: bank_data.bank_read(directory=tmp_path))
    assert "no .gift file here" in str(error)


def test_a_broken_lesson_names_its_file_and_line(copy: Path) -> None:
    path = sorted((copy / "courses").glob("*/*-lesson-*.md"))[0]
    spoil(path, "estimated_minutes:", "estimated_minutes: [")
    error = refused(lambda: content_data.content_read(directory=copy))
    assert error.path == path
    assert "not valid YAML" in str(error)


@pytest.mark.django_db
@pytest.mark.parametrize("spoilt", ["people", "bank", "content"])
def test_seed_demo_on_a_broken_file_stops_before_writing(
    copy: Path, monkeypatch: pytest.MonkeyPatch, spoilt: str
) -> None:
    monkeypatch.setattr(people_data, "DATA_DIR", copy)
    monkeypatch.setattr(bank_data, "BANK_DIR", copy / "bank")
    monkeypatch.setattr(content_data, "DATA_DIRECTORY", copy)
    if spoilt == "people":
        spoil(copy / "accounts.csv", "editor,演示编辑,编辑,ZB01", "editor,演示编辑,编辑,ZB99")
        where = "accounts.csv:3"
    elif spoilt == "bank":
        path = copy / "bank" / "08-廉洁文化.gift"
        path.write_text(
            path.read_text(encoding="utf-8") + "\n$CATEGORY: 甲\n\n问？ {T}\n", encoding="utf-8"
        )
        where = "08-廉洁文化.gift"
    else:
        spoil(copy / "content.yaml", "issuers:", "issuer:")
        where = "content.yaml"
    for cached in (people_data.people, bank_data.bank_categories, content_data.demo_content):
        cached.cache_clear()
    organisations, members = Organization.objects.count(), Member.objects.count()
    try:
        with pytest.raises(CommandError, match=f"示范数据文件有误.*{where}"):
            call_command("seed_demo", "--password", "Demo-pass-2024", "--activity-days", "0")
    finally:
        for cached in (people_data.people, bank_data.bank_categories, content_data.demo_content):
            cached.cache_clear()
    assert (Organization.objects.count(), Member.objects.count()) == (organisations, members)
    assert not CoursePage.objects.exists()
    assert not Question.objects.exists()
