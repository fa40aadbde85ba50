"""The reader of the demo content files (``demo/data/``): what it accepts and what it refuses.

Every malformed file must fail with an error naming the file and the line, so whoever
edits the texts can find the mistake without reading Python.
"""

from __future__ import annotations

import datetime
import shutil
from pathlib import Path

import pytest

from demo import content_data
from demo.content_data import (
    Callout,
    Heading,
    KeyPoints,
    Paragraph,
    Quote,
    content_read,
)
from demo.errors import DemoDataError

COURSE = """\
---
title: 示范课程
slug: course-9
category: 党史学习
tags: [党史, 示范]
estimated_hours: 1.5
---

一段课程简介。
"""

LESSON = """\
---
title: 示范课时
slug: lesson-9-1
estimated_minutes: 12
min_study_minutes: 4
---

第一段。

第二段的第一行
第二段的第二行

## 一、标题

> 引文一句。
> —— 出处

> [!warning]
> 提醒的话。

### 学习要点
- 要点一
- 要点二
"""

POLICY = """\
---
title: 关于示范的通知
document_number: 青机党办〔2024〕7号
issuer: 青禾新区机关党委办公室
category: 通知
issue_date: 2024-03-05
status: amended
status_note: 已作调整。
---

各党支部：

## 一、事项

正文。
"""

LESSON_PATH = Path("courses", "01-course-9", "01-lesson-9-1.md")
POLICY_PATH = Path("policies", "policy-2024-office-07.md")


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A small data folder: the real content.yaml, one course of one lesson, one document."""
    shutil.copy(content_data.DATA_DIRECTORY / "content.yaml", tmp_path / "content.yaml")
    write(tmp_path, Path("courses", "01-course-9", "course.md"), COURSE)
    write(tmp_path, LESSON_PATH, LESSON)
    write(tmp_path, POLICY_PATH, POLICY)
    return tmp_path


def write(root: Path, relative: Path, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def refused(root: Path, relative: Path, text: str) -> str:
    """Write one file, read the folder, return the error's message."""
    write(root, relative, text)
    with pytest.raises(DemoDataError) as error:
        content_read(directory=root)
    return str(error.value)


def test_files_are_read_into_the_dataclasses(data: Path) -> None:
    content = content_read(directory=data)
    (course,) = content.courses
    assert (course.slug, course.title, course.category) == ("course-9", "示范课程", "党史学习")
    assert (course.tags, course.estimated_hours, course.summary) == (
        ("党史", "示范"),
        "1.5",
        "一段课程简介。",
    )
    (lesson,) = course.lessons
    assert (lesson.slug, lesson.estimated_minutes, lesson.min_study_minutes) == (
        "lesson-9-1",
        12,
        4,
    )
    assert lesson.body == (
        Paragraph("第一段。"),
        Paragraph("第二段的第一行\n第二段的第二行"),  # a line break stays one
        Heading("一、标题"),
        Quote(text="引文一句。", source="出处"),
        Callout(text="提醒的话。", kind="warning"),
        KeyPoints(points=("要点一", "要点二"), title="学习要点"),
    )
    (document,) = content.policy_documents
    assert document.slug == "policy-2024-office-07"
    assert document.document_number == "青机党办〔2024〕7号"
    assert document.issuer.code == "office"
    assert document.issue_date == datetime.date(2024, 3, 5)
    assert (document.effective_date, document.status, document.status_note) == (
        None,
        "amended",
        "已作调整。",
    )
    assert document.body == (Paragraph("各党支部："), Heading("一、事项"), Paragraph("正文。"))
    assert content.course_index_intro.startswith("<p>") and content.issuers


def test_the_module_names_are_the_files_of_demo_data() -> None:
    assert content_data.demo_content().courses == content_data.COURSES
    assert len(content_data.POLICY_DOCUMENTS) == 40
    with pytest.raises(AttributeError):
        content_data.NO_SUCH_NAME  # noqa: B018


def test_a_missing_field_names_the_file_and_the_field(data: Path) -> None:
    message = refused(data, LESSON_PATH, LESSON.replace("slug: lesson-9-1\n", ""))
    assert message.startswith(f"{data / LESSON_PATH}:1: ")
    assert "missing field: slug" in message


def test_an_unknown_field_is_refused(data: Path) -> None:
    message = refused(data, POLICY_PATH, POLICY.replace("status: amended", "statuss: amended"))
    line = POLICY.split("\n").index("status: amended") + 1
    assert message.startswith(f"{data / POLICY_PATH}:{line}: unknown field: statuss")


def test_an_unknown_callout_kind_names_the_file_and_its_line(data: Path) -> None:
    message = refused(data, LESSON_PATH, LESSON.replace("[!warning]", "[!tip]"))
    line = LESSON.split("\n").index("> [!warning]") + 1
    assert message.startswith(f"{data / LESSON_PATH}:{line}: unknown callout kind 'tip'")
    assert "info, important, warning" in message


@pytest.mark.parametrize("date", ["2024-13-05", "2024-3-5", "三月五日"])
def test_a_bad_date_names_the_file_and_the_field(data: Path, date: str) -> None:
    message = refused(data, POLICY_PATH, POLICY.replace("2024-03-05", date))
    line = POLICY.split("\n").index("issue_date: 2024-03-05") + 1
    assert message.startswith(f"{data / POLICY_PATH}:{line}: field 'issue_date' needs a date")
    assert date in message


def test_broken_yaml_names_its_line(data: Path) -> None:
    message = refused(data, LESSON_PATH, LESSON.replace("title: 示范课时", "title: [示范"))
    assert message.startswith(f"{data / LESSON_PATH}:") and "not valid YAML" in message


def test_a_file_without_front_matter_is_refused(data: Path) -> None:
    message = refused(data, LESSON_PATH, LESSON.removeprefix("---\n"))
    assert message.startswith(f"{data / LESSON_PATH}:1: a file starts with a '---' line")


@pytest.mark.parametrize(
    ("replaced", "by", "expected"),
    [
        ("## 一、标题", "# 一、标题", "'# ' starts no block here"),
        ("### 学习要点\n", "", "'- ' starts no block here"),
        ("- 要点二", "要点二", "under a '### ' title come only '- ' points"),
        ("> 引文一句。", ">引文一句。", "every line of a quote or callout starts with '> '"),
        ("## 一、标题", "## 一、标题\n下一行", "a heading is one line"),
    ],
)
def test_a_malformed_body_names_the_line(data: Path, replaced: str, by: str, expected: str) -> None:
    message = refused(data, LESSON_PATH, LESSON.replace(replaced, by))
    assert message.startswith(f"{data / LESSON_PATH}:") and expected in message
    line = int(message.split(":")[1])
    assert 7 < line <= len(LESSON.split("\n"))


def test_the_document_number_must_fit_the_issuer_and_the_file_name(data: Path) -> None:
    wrong_prefix = POLICY.replace("青机党办〔2024〕7号", "青机组发〔2024〕7号")
    assert "starts with 青机党办" in refused(data, POLICY_PATH, wrong_prefix)
    renamed = POLICY.replace("〔2024〕7号", "〔2024〕8号")
    assert "is named policy-2024-office-08.md" in refused(data, POLICY_PATH, renamed)


def test_an_unknown_category_lists_the_known_ones(data: Path) -> None:
    message = refused(data, POLICY_PATH, POLICY.replace("category: 通知", "category: 公告"))
    assert "field 'category' is one of 通知, 实施意见, 工作方案, 制度规定, not '公告'" in message


def test_a_lesson_file_is_named_after_its_slug(data: Path) -> None:
    message = refused(data, LESSON_PATH, LESSON.replace("slug: lesson-9-1", "slug: lesson-9-2"))
    assert "slug 'lesson-9-2' differs from the name '01-lesson-9-1'" in message


def test_a_lesson_file_needs_its_number(data: Path) -> None:
    (data / LESSON_PATH).rename(data / LESSON_PATH.with_name("lesson-9-1.md"))
    with pytest.raises(DemoDataError, match=r"lesson-9-1\.md:1: the name is NN-<slug>"):
        content_read(directory=data)


def test_an_original_file_must_lie_beside_its_document(data: Path) -> None:
    attached = POLICY.replace(
        "status: amended\n",
        "status: amended\noriginal_file: missing.pdf\noriginal_file_title: 原件\n",
    )
    assert "original_file 'missing.pdf' is not beside it" in refused(data, POLICY_PATH, attached)
