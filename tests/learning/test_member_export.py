"""Exporting the member list from the admin: real columns, the subtree only, text-safe cells."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from learning.models import Member
from tests.factories.people import MemberFactory

HEADER = ["用户名", "姓名", "手机号", "组织编码", "组织", "角色", "启用", "最近登录"]


@pytest.fixture
def people(tree):
    inside = MemberFactory(
        username="inside", display_name="李内", phone="13900000001", organization=tree.branch_a2
    )
    Member.objects.filter(pk=inside.pk).update(
        last_login=datetime.datetime(2026, 3, 1, 1, 30, tzinfo=datetime.UTC)
    )
    return {
        "inside": inside,
        "formula": MemberFactory(
            username="formula", display_name='=HYPERLINK("http://x")', organization=tree.group_a1
        ),
        "outside": MemberFactory(
            username="outside", display_name="周外", organization=tree.branch_b1
        ),
    }


def _csv_rows(response) -> list[list[str]]:
    content = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(content)))


def test_csv_export_has_columns_and_only_the_secretarys_subtree(client, secretary_a, people):
    client.force_login(secretary_a)
    response = client.get(reverse("wagtailusers_users:index"), {"export": "csv"})
    assert response.status_code == 200
    rows = _csv_rows(response)
    assert rows[0] == HEADER
    by_username = {row[0]: row for row in rows[1:]}
    assert set(by_username) == {"inside", "formula", "secretary_a"}
    assert by_username["inside"] == [
        "inside",
        "李内",
        "13900000001",
        "ZB2",
        "第二党支部",
        "党员",
        "是",
        "2026-03-01 09:30",
    ]
    assert all(len(row) == len(HEADER) and row[0] for row in rows)
    assert "支部书记" in by_username["secretary_a"][5]


def test_export_cells_that_look_like_formulas_stay_text(client, secretary_a, people):
    client.force_login(secretary_a)
    rows = _csv_rows(client.get(reverse("wagtailusers_users:index"), {"export": "csv"}))
    [formula_row] = [row for row in rows if row[0] == "formula"]
    assert formula_row[1] == '\'=HYPERLINK("http://x")'

    response = client.get(reverse("wagtailusers_users:index"), {"export": "xlsx"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = list(sheet.iter_rows(values_only=True))
    assert list(values[0]) == HEADER
    # In .xlsx the name stays as it is, in a text cell marked as typed after an apostrophe
    # (learning.common.spreadsheets): no formula, and editing it keeps it text.
    [formula_cells] = [row for row in sheet.iter_rows() if row[0].value == "formula"]
    assert formula_cells[1].value == '=HYPERLINK("http://x")'
    assert formula_cells[1].data_type == "s"
    assert formula_cells[1].quotePrefix
    assert {row[0] for row in values[1:]} == {"inside", "formula", "secretary_a"}


def test_export_follows_the_list_filters(client, administrator, people, tree):
    client.force_login(administrator)
    response = client.get(
        reverse("wagtailusers_users:index"),
        {"export": "csv", "organization": tree.branch_b1.pk},
    )
    assert [row[0] for row in _csv_rows(response)[1:]] == ["outside"]


def test_export_makes_a_bounded_number_of_queries(
    client, secretary_a, people, tree, django_assert_max_num_queries
):
    MemberFactory.create_batch(15, organization=tree.branch_a1)
    client.force_login(secretary_a)
    with django_assert_max_num_queries(20):
        rows = _csv_rows(client.get(reverse("wagtailusers_users:index"), {"export": "csv"}))
    assert len(rows) == 1 + 18
