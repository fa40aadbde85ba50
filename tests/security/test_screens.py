"""Office screen links: only the exact, active token opens a screen.

The token in ``/screens/<token>/`` is the only credential of a kiosk. Someone who has
seen part of it, or guesses, tries near misses (one character short or long, other
case, padding, SQL and LIKE wildcards, very long strings) on the page and on its
snapshot JSON: every one is 404, with the same body as an unknown link, so a near miss
tells nothing. The lookup is one equality in the database (no comparison in Python that
could stop early); only a token longer than any real one is refused before the query,
which says nothing an attacker does not know. A switched-off screen, or one whose
organisation is switched off, is 404 too. (``tests/learning/test_screen_endpoints.py``
tries an unknown token and a revoked screen.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from learning.models import Screen
from learning.models.screens import new_screen_token
from tests.conftest import Tree

pytestmark = pytest.mark.django_db

# Near misses of a real token ``t``.
NEAR_MISSES: dict[str, Callable[[str], str]] = {
    "another-token": lambda t: new_screen_token(),
    "one-short": lambda t: t[:-1],
    "first-eight": lambda t: t[:8],
    "one-long": lambda t: t + "A",
    "other-case": lambda t: t.swapcase(),
    "upper-case": lambda t: t.upper(),
    "leading-space": lambda t: " " + t,
    "trailing-space": lambda t: t + " ",
    "last-as-like-wildcard": lambda t: t[:-1] + "_",
    "all-like-wildcards": lambda t: "_" * len(t),
    "percent": lambda t: "%",
    "sql-quote": lambda t: "' OR '1'='1",
    "over-long": lambda t: t + "x" * 100,
    "very-long": lambda t: "a" * 5000,
    "full-width": lambda t: "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else c for c in t),
}


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def screen(tree: Tree) -> Screen:
    screen = Screen.objects.create(name="三楼大厅屏幕", organization=tree.committee)
    # A token with letters of both cases, so that swapping the case changes it.
    while screen.token.swapcase() == screen.token:
        screen.token = new_screen_token()
        screen.save()
    return screen


def _urls(token: str) -> dict[str, str]:
    return {
        "page": reverse("screen", kwargs={"token": token}),
        "snapshot": reverse("screen_snapshot", kwargs={"token": token}),
    }


def assert_same_answer(response: HttpResponse, unknown: HttpResponse) -> None:
    """The snapshot's JSON is byte for byte the same; the page is the same 404 page (it
    differs only where it repeats the address asked for, in its language switch)."""
    if response["Content-Type"] == "application/json":
        assert response.content == unknown.content
    else:
        assert [t.name for t in response.templates] == [t.name for t in unknown.templates]


@pytest.mark.parametrize("view", ["page", "snapshot"])
@pytest.mark.parametrize("miss", list(NEAR_MISSES))
def test_a_near_miss_of_the_token_is_not_found(
    miss: str, view: str, screen: Screen, client: Client
) -> None:
    guess = NEAR_MISSES[miss](screen.token)
    assert guess != screen.token
    unknown = client.get(_urls("no-such-screen")[view])

    response = client.get(_urls(guess)[view])

    assert response.status_code == 404
    assert "三楼大厅屏幕" not in response.content.decode()
    # The same answer as for a link that never existed: nothing to learn from a near miss.
    assert_same_answer(response, unknown)
    assert client.get(_urls(screen.token)[view]).status_code == 200


def _screen_lookups(captured: CaptureQueriesContext) -> list[str]:
    return [
        query["sql"] for query in captured.captured_queries if "learning_screen" in query["sql"]
    ]


def test_the_token_is_compared_by_the_database_in_one_lookup(screen: Screen) -> None:
    """A wrong token of a real token's length costs exactly the lookup the right one does.

    (A 404 then also asks Wagtail's redirects table: that is the same for every miss.)
    """
    client = Client()
    guess = new_screen_token()
    with CaptureQueriesContext(connection) as wrong:
        client.get(_urls(guess)["snapshot"])
    with CaptureQueriesContext(connection) as right:
        client.get(_urls(screen.token)["snapshot"])
    [wrong_lookup] = _screen_lookups(wrong)
    right_lookup = _screen_lookups(right)[0]
    assert "s.token = " in wrong_lookup and "LIKE" not in wrong_lookup.upper()
    assert wrong_lookup.replace(guess, "?") == right_lookup.replace(screen.token, "?")


@pytest.mark.parametrize("view", ["page", "snapshot"])
@pytest.mark.parametrize("switched_off", ["screen", "organisation"])
def test_a_switched_off_screen_is_not_found(
    switched_off: str, view: str, screen: Screen, client: Client
) -> None:
    url = _urls(screen.token)[view]
    assert client.get(url).status_code == 200
    if switched_off == "screen":
        Screen.objects.filter(pk=screen.pk).update(is_active=False)
    else:
        type(screen.organization).objects.filter(pk=screen.organization_id).update(is_active=False)
    cache.clear()

    response = client.get(url)

    assert response.status_code == 404
    assert "三楼大厅屏幕" not in response.content.decode()
    assert_same_answer(response, client.get(_urls("no-such-screen")[view]))


def test_a_screen_link_needs_no_session_and_grants_none(screen: Screen, client: Client) -> None:
    """Opening a kiosk link signs nobody in and opens nothing else."""
    assert client.get(_urls(screen.token)["page"]).status_code == 200
    assert client.get(reverse("learning:account")).status_code == 302
    assert client.get(reverse("quizzes_api:attempts")).status_code in (401, 403)
