"""Bulk member import: all rows or none, and every problem named by row and column."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import load_workbook

from learning.models import Member, Membership
from learning.people import roles
from learning.people.member_import import COLUMNS, members_import, parse_member_rows
from tests.factories.people import MemberFactory
from tests.factories.sheets import members_xlsx

GOOD_ROWS = [
    ["wangfang", "王芳", "13800000001", "ZB1"],
    ["liqiang", "李强", 13800000002, "ZB2"],  # typed as a number in Excel
    ["zhaomin", "赵敏", None, "XZ1"],
]


def test_a_clean_sheet_imports_every_member_with_membership_and_role(tree):
    result = members_import(
        file=io.BytesIO(members_xlsx(GOOD_ROWS)), initial_password="Chushi-mima-2026"
    )
    assert result.ok, result.problems
    assert result.created == 3
    liqiang = Member.objects.get(username="liqiang")
    assert liqiang.phone == "13800000002"
    assert liqiang.organization == tree.branch_a2
    assert liqiang.must_change_password
    assert liqiang.check_password("Chushi-mima-2026")
    assert list(liqiang.groups.values_list("name", flat=True)) == [roles.MEMBER]
    assert Membership.objects.filter(
        member__username="zhaomin", organization=tree.group_a1
    ).exists()


@pytest.mark.parametrize(
    ("bad_row", "column", "fragment"),
    [
        (["newone", "新人", "13800000009", "NOPE"], "组织编码", "NOPE"),
        (["wangfang", "重名", "13800000009", "ZB1"], "用户名", "wangfang"),
        (["newone", "新人", "1380000", "ZB1"], "手机", "1380000"),
        (["newone", "", "13800000009", "ZB1"], "姓名", ""),
        (["bad name!", "新人", "13800000009", "ZB1"], "用户名", ""),
    ],
)
def test_one_bad_row_writes_nothing_and_names_row_and_column(tree, bad_row, column, fragment):
    before = Member.objects.count()
    rows = [*GOOD_ROWS, bad_row]
    result = members_import(file=io.BytesIO(members_xlsx(rows)))
    assert not result.ok
    assert Member.objects.count() == before
    assert Membership.objects.count() == 0
    # The header is row 1, so the bad row (4th data row) is row 5, as Excel numbers it.
    problem = next(p for p in result.problems if p.row == 5)
    assert problem.column == column
    assert "5" in str(problem)
    assert column in str(problem)
    assert fragment in problem.message


def test_username_or_phone_already_taken_is_reported(tree):
    MemberFactory(username="taken", organization=tree.branch_a1, phone="13900000000")
    rows = [["taken", "甲", "", "ZB1"], ["fresh", "乙", "13900000000", "ZB1"]]
    result = members_import(file=io.BytesIO(members_xlsx(rows)))
    assert [(p.row, p.column) for p in result.problems] == [(2, "用户名"), (3, "手机")]
    assert not Member.objects.filter(username="fresh").exists()


def test_duplicates_inside_the_file_are_reported_on_each_row(tree):
    rows = [["same", "甲", "13800000001", "ZB1"], ["same", "乙", "13800000001", "ZB1"]]
    result = members_import(file=io.BytesIO(members_xlsx(rows)))
    assert {(p.row, p.column) for p in result.problems} == {
        (2, "用户名"),
        (3, "用户名"),
        (2, "手机"),
        (3, "手机"),
    }


def test_missing_header_column_is_reported(tree):
    result = members_import(file=io.BytesIO(members_xlsx([["a", "b"]], header=["用户名", "姓名"])))
    assert not result.ok
    assert "组织编码" in result.problems[0].message


def test_a_file_that_is_not_xlsx_is_a_clear_problem(tree):
    result = members_import(file=io.BytesIO(b"this is not a spreadsheet"))
    assert not result.ok
    assert result.problems[0].row == 0


def test_dry_run_reports_but_writes_nothing(tree):
    result = members_import(file=io.BytesIO(members_xlsx(GOOD_ROWS)), dry_run=True)
    assert result.ok
    assert len(result.rows) == 3
    assert not Member.objects.filter(username="wangfang").exists()


def test_secretary_cannot_import_into_an_organisation_outside_their_subtree(tree, secretary_a):
    from learning.people.selectors import organizations_visible_to

    rows = [["inside1", "甲", "", "ZB1"], ["outside1", "乙", "", "ZB3"]]
    result = members_import(
        file=io.BytesIO(members_xlsx(rows)),
        allowed_organizations=organizations_visible_to(secretary_a),
    )
    assert [(p.row, p.column) for p in result.problems] == [(3, "组织编码")]
    assert not Member.objects.filter(username="inside1").exists()


def test_blank_rows_are_skipped_and_headers_may_be_english():
    rows, problems = parse_member_rows(
        [
            ("username", "name", "phone", "organization code"),
            (None, None, None, None),
            ("a1", "甲", "", "ZB1"),
        ]
    )
    assert problems == []
    assert [(row.row, row.username) for row in rows] == [(3, "a1")]


def test_command_imports_and_refuses_a_bad_file(tree, tmp_path):
    good = tmp_path / "good.xlsx"
    good.write_bytes(members_xlsx(GOOD_ROWS))
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(members_xlsx([["x1", "甲", "", "NOPE"]]))
    with pytest.raises(CommandError):
        call_command("import_members", str(bad))
    call_command("import_members", str(good), "--dry-run")
    assert not Member.objects.filter(username="wangfang").exists()
    call_command("import_members", str(good), "--password", "Chushi-mima-2026")
    assert Member.objects.filter(username__in=["wangfang", "liqiang", "zhaomin"]).count() == 3


def test_admin_import_page_shows_problems_and_writes_nothing(client, tree, secretary_a):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(secretary_a)
    upload = SimpleUploadedFile("m.xlsx", members_xlsx([["x1", "甲", "", "ZB3"]]))
    response = client.post(reverse("learning_member_import"), {"file": upload})
    assert response.status_code == 200
    assert not response.context["result"].ok
    assert not Member.objects.filter(username="x1").exists()
    upload = SimpleUploadedFile("m.xlsx", members_xlsx([["x1", "甲", "", "ZB1"]]))
    response = client.post(reverse("learning_member_import"), {"file": upload})
    assert response.context["result"].created == 1
    assert Member.objects.get(username="x1").organization == tree.branch_a1


def test_template_download_has_the_columns(client, tree, secretary_a):
    client.force_login(secretary_a)
    response = client.get(reverse("learning_member_import_template"))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert [cell.value for cell in sheet[1]] == COLUMNS


def test_ordinary_member_cannot_import(client, tree):
    client.force_login(MemberFactory(organization=tree.branch_a1))
    response = client.get(reverse("learning_member_import"))
    assert response.status_code in (302, 403)
