"""Office screen endpoints: no login, aggregates only, 404 once revoked, cheap to repeat."""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from learning.models import Member, Organization, Screen
from learning.people import services
from learning.points.ledger import points_award
from learning.points.screens import page_version
from tests.conftest import Tree
from tests.factories.people import MemberFactory

JOINED = datetime.date(2026, 1, 1)
# Distinctive names, so finding one in a response cannot be a coincidence.
NAME_A = "欧阳明珠"
NAME_B = "司马青云"


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """Snapshots and ledger versions live in the cache: start every test without them."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def member_a(tree: Tree) -> Member:
    return MemberFactory(
        username="ouyang",
        display_name=NAME_A,
        phone="13900001111",
        organization=tree.group_a1,
        joined_on=JOINED,
    )


@pytest.fixture
def member_b(tree: Tree) -> Member:
    return MemberFactory(
        username="sima", display_name=NAME_B, organization=tree.branch_b1, joined_on=JOINED
    )


@pytest.fixture
def awarded(member_a: Member, member_b: Member, django_capture_on_commit_callbacks: Any) -> None:
    """第一党支部's member has 20 points today, 第三党支部's 12."""
    with django_capture_on_commit_callbacks(execute=True):
        for i in range(2):
            points_award(member=member_a, rule_code="exam_passed", key=f"a:e{i}")
        points_award(member=member_b, rule_code="exam_passed", key="b:e0")
        points_award(member=member_b, rule_code="reflection_accepted", key="b:r0")


def make_screen(organization: Organization, **fields: Any) -> Screen:
    return Screen.objects.create(name="三楼大厅屏幕", organization=organization, **fields)


def page_url(screen: Screen) -> str:
    return reverse("screen", kwargs={"token": screen.token})


def snapshot_url(screen: Screen) -> str:
    return reverse("screen_snapshot", kwargs={"token": screen.token})


def assert_no_names(content: bytes, *names: str) -> None:
    for name in names:
        assert name.encode() not in content, name
        escaped = json.dumps(name).strip('"').encode()  # \\uXXXX form
        assert escaped not in content, name


# --- Access ----------------------------------------------------------------------


def test_page_and_snapshot_need_no_login(client: Client, tree: Tree, awarded: None) -> None:
    screen = make_screen(tree.committee)

    page = client.get(page_url(screen))
    snapshot = client.get(snapshot_url(screen))

    assert page.status_code == 200
    assert page["Cache-Control"] == "no-store"
    assert page["Referrer-Policy"] == "no-referrer"
    assert snapshot.status_code == 200
    assert snapshot["Content-Type"] == "application/json"
    data = snapshot.json()
    assert data["screen"]["organization"] == "某党委"
    assert data["screen"]["refresh_seconds"] == screen.refresh_seconds


@pytest.mark.parametrize("view", ["screen", "screen_snapshot"])
def test_unknown_token_is_not_found(client: Client, db: None, view: str) -> None:
    response = client.get(reverse(view, kwargs={"token": "no-such-screen-token"}))
    assert response.status_code == 404


def test_revoked_link_is_not_found_and_the_snapshot_says_so(client: Client, tree: Tree) -> None:
    screen = make_screen(tree.committee)
    assert client.get(snapshot_url(screen)).status_code == 200

    screen.is_active = False
    screen.save()

    assert client.get(page_url(screen)).status_code == 404
    response = client.get(snapshot_url(screen))
    assert response.status_code == 404
    assert response.json()["error"] == "revoked"
    assert response.json()["message"]


def test_page_carries_what_the_script_needs_and_only_local_assets(
    client: Client, tree: Tree
) -> None:
    screen = make_screen(tree.committee, theme=Screen.Theme.LIGHT, refresh_seconds=45)

    html = client.get(page_url(screen)).content.decode()

    assert f'data-snapshot-url="{snapshot_url(screen)}"' in html
    assert 'data-refresh-seconds="45"' in html
    assert f'data-page-version="{page_version()}"' in html
    assert "theme-light" in html
    assert '<meta name="viewport"' in html
    assets = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert assets and all(url.startswith(("/static/", "data:")) for url in assets), assets
    assert "//" not in "".join(assets)


# --- Conditional requests and freshness ------------------------------------------


def test_repeat_with_the_etag_gets_304_with_no_body(client: Client, tree: Tree) -> None:
    screen = make_screen(tree.committee)

    first = client.get(snapshot_url(screen))
    etag = first["ETag"]
    again = client.get(snapshot_url(screen), headers={"If-None-Match": etag})

    assert etag.startswith('"') and etag.endswith('"')
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    assert again["Cache-Control"] == "no-cache"


def test_an_award_in_the_subtree_changes_the_etag_and_shows_at_once(
    client: Client, tree: Tree, member_b: Member, django_capture_on_commit_callbacks: Any
) -> None:
    screen = make_screen(tree.committee, period="day", metric="total")
    before = client.get(snapshot_url(screen))
    assert before.json()["today"]["points"] == 0

    with django_capture_on_commit_callbacks(execute=True):
        points_award(member=member_b, rule_code="exam_passed", key="fresh:1")

    after = client.get(snapshot_url(screen), headers={"If-None-Match": before["ETag"]})
    assert after.status_code == 200
    assert after["ETag"] != before["ETag"]
    data = after.json()
    assert data["today"]["points"] == 10
    assert data["today"]["active_members"] == 1
    top = data["branches"][0]
    assert (top["name"], top["points"], top["rank"]) == ("第三党支部", 10, 1)
    assert data["activity"][0]["points"] == 10


def test_snapshot_queries_are_bounded_and_the_cache_answers_repeats(
    client: Client, tree: Tree, awarded: None, django_assert_max_num_queries: Any
) -> None:
    screen = make_screen(tree.committee)
    for i in range(6):
        branch = services.organization_create(
            name=f"新建第{i}支部", code=f"NEW{i}", kind="branch", parent=tree.general_b
        )
        MemberFactory(organization=branch, joined_on=JOINED)

    with django_assert_max_num_queries(14):
        first = client.get(snapshot_url(screen))
    assert len(first.json()["branches"]) == 9

    with django_assert_max_num_queries(1):
        again = client.get(snapshot_url(screen))
    assert again.content == first.content


# --- Names: only where allowed ----------------------------------------------------


def test_with_names_shown_top_members_carry_only_rank_name_branch_and_points(
    client: Client, tree: Tree, awarded: None
) -> None:
    screen = make_screen(tree.committee, period="day")

    response = client.get(snapshot_url(screen))
    data = response.json()

    assert data["screen"]["names_shown"] is True
    assert data["panels"]["top_members"] is True
    assert data["top_members"][0] == {
        "rank": 1,
        "name": NAME_A,
        # The branch the points count for (the member sits in its party group).
        "organization": "第一党支部",
        "points": 20,
    }
    for row in data["top_members"]:
        assert set(row) == {"rank", "name", "organization", "points"}
    assert {item["member"] for item in data["activity"]} == {NAME_A, NAME_B}
    for private in (b"ouyang", b"sima", b"13900001111"):
        assert private not in response.content
    # Branch rows are aggregates: no member fields at all.
    for row in data["branches"]:
        assert set(row) == {
            "rank",
            "name",
            "value",
            "display",
            "points",
            "members",
            "active_members",
            "small",
        }


def test_names_switched_off_on_the_screen_leave_no_name_anywhere(
    client: Client, tree: Tree, awarded: None
) -> None:
    screen = make_screen(tree.committee, period="day", show_member_names=False)

    snapshot = client.get(snapshot_url(screen))
    page = client.get(page_url(screen))

    data = snapshot.json()
    assert data["screen"]["names_shown"] is False
    assert data["panels"]["top_members"] is False
    assert "top_members" not in data
    assert data["activity"] and all(item["member"] is None for item in data["activity"])
    assert data["today"]["points"] == 32
    assert_no_names(snapshot.content, NAME_A, NAME_B)
    assert_no_names(page.content, NAME_A, NAME_B)


@pytest.mark.parametrize("hiding", ["committee", "general_a"], ids=["above", "at"])
def test_an_organisation_hiding_names_at_or_above_the_screen_hides_them(
    client: Client, tree: Tree, awarded: None, hiding: str
) -> None:
    Organization.objects.filter(pk=getattr(tree, hiding).pk).update(hide_member_names=True)
    screen = make_screen(tree.general_a, period="day")

    snapshot = client.get(snapshot_url(screen))
    page = client.get(page_url(screen))

    data = snapshot.json()
    assert data["screen"]["names_shown"] is False
    assert "top_members" not in data
    assert data["activity"] and all(item["member"] is None for item in data["activity"])
    assert data["branches"][0]["points"] == 20
    assert_no_names(snapshot.content, NAME_A, NAME_B)
    assert_no_names(page.content, NAME_A, NAME_B)


def test_a_branch_hiding_names_below_the_screen_hides_only_its_own_members(
    client: Client, tree: Tree, awarded: None
) -> None:
    Organization.objects.filter(pk=tree.branch_b1.pk).update(hide_member_names=True)
    screen = make_screen(tree.committee, period="day")

    snapshot = client.get(snapshot_url(screen))

    data = snapshot.json()
    assert [row["name"] for row in data["top_members"]] == [NAME_A]
    members = {item["branch"]: item["member"] for item in data["activity"]}
    assert members == {"第一党支部": NAME_A, "第三党支部": None}
    assert_no_names(snapshot.content, NAME_B)


def test_the_page_itself_never_names_members(client: Client, tree: Tree, awarded: None) -> None:
    screen = make_screen(tree.committee, period="day")

    page = client.get(page_url(screen))

    assert page.status_code == 200
    assert_no_names(page.content, NAME_A, NAME_B)
