"""CSRF, open redirects and session handling, attacked as a browser would be.

CSRF: a page on another site makes the member's browser post to every state-changing
member endpoint. The browser sends the session cookie (and the CSRF cookie, if it has
one) but the other site cannot read the token: with no token, or a wrong one, every
request is refused with 403 and nothing changes. The same request with the token goes
through, so the refusal is the CSRF check and not something else. (The heartbeat and
the API's start are also tried in tests/cms/test_heartbeat.py and tests/quizzes/test_api.py;
this is the complete list, and a guard fails when a new member route appears outside it.)

Open redirects: ``next`` on login, logout, the language switch and the admin's grading
forms never sends the member off the site, whatever spelling of another host it holds.

Sessions: logging in gives a new session key (a key planted before login is worthless),
logging out ends the session for whoever holds its cookie, and a password change signs
out every other session.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from cms.models import LessonPage
from learning.models import LessonProgress, Member, PointsEntry
from quizzes.models import Attempt, AttemptQuestion, Quiz, WrongAnswer
from quizzes.taking.attempts import attempt_start
from quizzes.taking.pacing import served_token
from quizzes.taking.submitting import attempt_submit
from tests.conftest import Tree
from tests.factories.pages import add_course
from tests.factories.people import DEFAULT_PASSWORD, MemberFactory
from tests.factories.questions import bank_of_each_type, question_create
from tests.factories.questions import short_answer as short_answer_question
from tests.factories.quizzes import fixed_quiz, right_answer
from tests.security.conftest import signed_in

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Xin-mima-2026-ok"
# Any 32 alphanumerics are a well-formed CSRF secret; the attacker's page can set neither.
PLANTED_CSRF_COOKIE = "a" * 32
WRONG_TOKEN = "b" * 32


class World:
    """The member's things a forged request could change; the lesson made only when needed."""

    def __init__(self, member: Member) -> None:
        self.member = member
        bank = bank_of_each_type()
        self.question = bank["single"]
        self.quiz = fixed_quiz(list(bank.values()), title="尚未开始的测验")
        running = fixed_quiz(
            list(bank.values()), title="作答中的测验", review=Quiz.Review.AFTER_EACH
        )
        self.attempt = attempt_start(quiz=running, member=member)
        self.entry = WrongAnswer.objects.create(
            member=member, question=self.question, last_wrong_at=timezone.now()
        )

    @cached_property
    def lesson(self) -> LessonPage:
        return LessonPage.objects.child_of(add_course("党史学习", ["第一课"])).get()


@pytest.fixture
def world(tree: Tree) -> World:
    return World(MemberFactory(username="csrf_target", organization=tree.branch_a1))


@pytest.fixture
def member(tree: Tree) -> Member:
    """A member with nothing but an account: for the login, redirect and session tests."""
    return MemberFactory(username="plain_member", organization=tree.branch_a1)


def state_of(world: World) -> dict[str, Any]:
    member = Member.objects.get(pk=world.member.pk)
    return {
        "password": member.password,
        "attempts": list(Attempt.objects.order_by("pk").values_list("pk", "state", "score")),
        "answers": list(
            AttemptQuestion.objects.order_by("pk").values_list(
                "pk", "response", "response_seq", "state"
            )
        ),
        "book": list(
            WrongAnswer.objects.order_by("pk").values_list("pk", "correct_streak", "removed_at")
        ),
        "points": PointsEntry.objects.count(),
        "progress": LessonProgress.objects.count(),
        "sessions": Session.objects.count(),
    }


def _right(world: World, position: int = 1) -> dict[str, Any]:
    return right_answer(world.attempt.questions.get(position=position).snapshot)


def _right_choice(world: World) -> dict[str, Any]:
    return {"choices": [c.pk for c in world.question.choices.all() if c.is_correct]}


def _practised(world: World) -> dict[str, Any]:
    """A practised answer with the token the page served the question with."""
    return {
        "response": _right_choice(world),
        "served": served_token(world.member, world.question.pk),
    }


@dataclass(frozen=True)
class Forgery:
    """One cross-site request: route, arguments, method, body and how it is encoded."""

    route: str
    method: str
    args: Callable[[World], list[int]] = lambda w: []
    body: Callable[[World], dict[str, Any]] = lambda w: {}
    encoding: str = "form"  # "form", "json" (the page's fetch) or "api"
    allowed: tuple[int, ...] = (200, 302)

    @property
    def id(self) -> str:
        return f"{self.route}-{self.method}"

    def send(self, client: Client, world: World, **extra: Any) -> Any:
        url = reverse(self.route, args=self.args(world))
        method = getattr(client, self.method)
        if self.encoding == "json":
            return method(
                url, data=json.dumps(self.body(world)), content_type="application/json", **extra
            )
        if self.encoding == "api":
            return method(url, self.body(world), format="json", **extra)
        return method(url, self.body(world), **extra)


def _attempt(world: World) -> list[int]:
    return [world.attempt.pk]


def _entry(world: World) -> list[int]:
    return [world.entry.pk]


FORGERIES = [
    # The member's pages and their scripts' JSON endpoints.
    Forgery("quizzes:start", "post", lambda w: [w.quiz.pk]),
    Forgery("quizzes:daily_start", "post"),
    Forgery("quizzes:challenge_start", "post"),
    Forgery(
        "quizzes:save",
        "post",
        _attempt,
        lambda w: {"position": 1, "response": _right(w), "seq": 1},
        "json",
    ),
    Forgery(
        "quizzes:check", "post", _attempt, lambda w: {"position": 1, "response": _right(w)}, "json"
    ),
    Forgery("quizzes:submit", "post", _attempt),
    Forgery("quizzes:wrong_practise", "post", _entry, _practised, "json"),
    Forgery("quizzes:wrong_remove", "post", _entry),
    Forgery(
        "quizzes:practice",
        "post",
        lambda w: [w.question.category_id],
        lambda w: {"question": w.question.pk, **_practised(w)},
        "json",
    ),
    Forgery(
        "lesson_heartbeat",
        "post",
        lambda w: [w.lesson.pk],
        lambda w: {"visible": True, "active": True, "reached_end": True},
        "json",
    ),
    Forgery(
        "password_change",
        "post",
        body=lambda w: {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    ),
    Forgery("set_language", "post", body=lambda w: {"language": "en", "next": "/"}),
    Forgery("logout", "post"),
    # The API, signed in with the session cookie (the mobile web app's way).
    Forgery("quizzes_api:start", "post", lambda w: [w.quiz.pk], encoding="api", allowed=(201,)),
    Forgery("quizzes_api:daily_start", "post", encoding="api", allowed=(200, 201)),
    Forgery("quizzes_api:challenge_start", "post", encoding="api", allowed=(200, 201)),
    Forgery(
        "quizzes_api:answer",
        "put",
        lambda w: [w.attempt.pk, 1],
        lambda w: {"response": _right(w), "seq": 1},
        "api",
    ),
    Forgery(
        "quizzes_api:check",
        "post",
        lambda w: [w.attempt.pk, 1],
        lambda w: {"response": _right(w)},
        "api",
    ),
    Forgery("quizzes_api:submit", "post", _attempt, encoding="api"),
    Forgery("quizzes_api:wrong_answer", "delete", _entry, encoding="api", allowed=(204,)),
    Forgery(
        "quizzes_api:wrong_answer_practise",
        "post",
        _entry,
        _practised,
        "api",
    ),
]


@pytest.mark.parametrize("forgery", FORGERIES, ids=[forgery.id for forgery in FORGERIES])
def test_a_forged_request_without_the_token_is_refused_and_changes_nothing(
    forgery: Forgery, world: World
) -> None:
    client = signed_in(world.member, api=forgery.encoding == "api", enforce_csrf_checks=True)
    forgery.args(world)  # make what the request needs before taking stock
    before = state_of(world)

    no_cookie = forgery.send(client, world)
    client.cookies[settings.CSRF_COOKIE_NAME] = PLANTED_CSRF_COOKIE
    cookie_only = forgery.send(client, world)
    wrong_token = forgery.send(client, world, HTTP_X_CSRFTOKEN=WRONG_TOKEN)

    for response in (no_cookie, cookie_only, wrong_token):
        assert response.status_code == 403
        assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    assert state_of(world) == before
    assert client.get(reverse("learning:account")).status_code == 200  # still signed in

    # The page's own request, with the token, goes through: the 403 was the CSRF check.
    genuine = forgery.send(client, world, HTTP_X_CSRFTOKEN=PLANTED_CSRF_COOKIE)
    assert genuine.status_code in forgery.allowed


def _member_routes() -> Iterator[tuple[str, URLPattern]]:
    """Every named route outside the admin, the documents and the Wagtail page tree."""

    def walk(patterns: list[Any], namespace: str | None, prefix: str):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, pattern.namespace or namespace, route)
            elif pattern.name:
                yield (f"{namespace}:{pattern.name}" if namespace else pattern.name), route

    for name, route in walk(get_resolver().url_patterns, None, ""):
        if not route.startswith(("admin/", "documents/", "_util/", "^")):
            yield name, route


# Routes that change nothing: reads, and the kiosk (no session, GET only).
READ_ONLY = {
    "login",  # tested below; Django's view is CSRF-protected
    "quizzes:index",
    "quizzes:attempt",
    "quizzes:result",
    "quizzes:history",
    "quizzes:wrong_book",
    "quizzes:practice_index",
    "quizzes_api:quizzes",
    "quizzes_api:attempts",
    "quizzes_api:attempt",
    "quizzes_api:wrong_answers",
    # The JSON 404 for any other path under /api/v1/: it answers every method, changes nothing.
    "quizzes_api:unknown",
    "search",
    "screen",
    "screen_snapshot",
    "learning:learn",
    "learning:points",
    "learning:leaderboards",
    "learning:account",
    # A member's own data as a download: GET and HEAD only (require_safe).
    "learning:account_data",
    # The load balancer's probes: GET and HEAD only, no session.
    "healthz",
    "readyz",
}


def test_every_member_route_is_read_only_or_forged() -> None:
    forged = {forgery.route for forgery in FORGERIES}
    for name, route in _member_routes():
        assert name in forged or name in READ_ONLY, f"{name} ({route}) is not tried for CSRF"


def test_the_login_form_itself_needs_the_token(member: Member) -> None:
    """Login CSRF: another site must not sign the member into the attacker's account."""
    client = Client(enforce_csrf_checks=True)
    client.cookies[settings.CSRF_COOKIE_NAME] = PLANTED_CSRF_COOKIE
    response = client.post(
        reverse("login"), {"username": member.username, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 403
    assert client.get(reverse("learning:account")).status_code == 302


# --- Open redirects ---------------------------------------------------------------------------

OFF_SITE = [
    "https://evil.example/",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "https:evil.example",
    " //evil.example",
    "/\t/evil.example",
    "javascript:alert(1)",
    "JavaScript:alert(document.cookie)//",
    "data:text/html,<script>alert(1)</script>",
]


def assert_stays_on_site(response: Any, expected: str) -> None:
    assert response.status_code == 302
    assert response["Location"] == expected


# Each test tries every target as a subtest: one member and one set-up for all of them.


def test_login_never_redirects_off_site(member: Member, subtests: Any) -> None:
    for target in OFF_SITE:
        with subtests.test(next=target):
            client = Client()
            page = client.get(reverse("login"), {"next": target})
            assert page.status_code == 200
            # The form's hidden "next" is emptied (the language switch's is this page).
            assert page.context["next"] == ""
            response = client.post(
                reverse("login"),
                {"username": member.username, "password": DEFAULT_PASSWORD, "next": target},
            )
            assert_stays_on_site(response, settings.LOGIN_REDIRECT_URL)
            # Signed in already, the login page sends the member on: never off the site.
            assert_stays_on_site(client.get(reverse("login"), {"next": target}), "/")


def test_logout_and_the_language_switch_never_redirect_off_site(
    member: Member, subtests: Any
) -> None:
    for target in OFF_SITE:
        with subtests.test(next=target):
            client = signed_in(member)
            language = client.post(
                reverse("set_language"), {"language": "en", "next": target}, HTTP_REFERER=target
            )
            assert_stays_on_site(language, "/")
            logout = client.post(reverse("logout"), {"next": target})
            assert_stays_on_site(logout, settings.LOGOUT_REDIRECT_URL)


def test_admin_login_never_redirects_off_site(editor: Member, subtests: Any) -> None:
    for target in OFF_SITE:
        with subtests.test(next=target):
            response = Client().post(
                reverse("wagtailadmin_login"),
                {"username": editor.username, "password": DEFAULT_PASSWORD, "next": target},
            )
            assert_stays_on_site(response, reverse("wagtailadmin_home"))


@pytest.fixture
def graded_work(tree: Tree) -> tuple[Attempt, AttemptQuestion]:
    """A submitted attempt in 第一党总支 with a short answer waiting for a mark."""
    member = MemberFactory(username="writer", organization=tree.branch_a2)
    quiz = fixed_quiz(
        [question_create(short_answer_question())], attempts_allowed=0, min_seconds_per_question=60
    )
    attempt = attempt_submit(attempt=attempt_start(quiz=quiz, member=member), member=member)
    return attempt, attempt.questions.get()


def test_the_admins_grading_forms_never_redirect_off_site(
    secretary_a: Member, graded_work: tuple[Attempt, AttemptQuestion], subtests: Any
) -> None:
    attempt, item = graded_work
    client = signed_in(secretary_a)
    field = f"item-{item.pk}"
    for target in OFF_SITE:
        with subtests.test(next=target):
            graded = client.post(
                reverse("quizzes_grade", args=[item.pk]),
                {f"{field}-percent": "50", f"{field}-comment": "", "next": target},
            )
            assert_stays_on_site(graded, reverse("quizzes_grading"))
            accepted = client.post(
                reverse("quizzes_attempt_accept_fast", args=[attempt.pk]), {"next": target}
            )
            results = reverse("quizzes_quiz_results", args=[attempt.quiz_id])
            assert_stays_on_site(accepted, results)


# --- Sessions ---------------------------------------------------------------------------------


def _log_in(client: Client, member: Member, password: str = DEFAULT_PASSWORD) -> Any:
    return client.post(reverse("login"), {"username": member.username, "password": password})


def _session_key(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _holder_of(key: str, *, api: bool = False) -> Client:
    """Someone else's browser, presenting a session cookie they got hold of."""
    client = APIClient() if api else Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = key
    return client


def test_a_session_key_planted_before_login_is_worthless_after(member: Member) -> None:
    victim = Client()
    planted = victim.session  # an anonymous session, as an attacker would plant
    planted["planted"] = True
    planted.save()
    victim.cookies[settings.SESSION_COOKIE_NAME] = planted.session_key

    assert _log_in(victim, member).status_code == 302

    assert _session_key(victim) != planted.session_key
    assert not Session.objects.filter(session_key=planted.session_key).exists()
    attacker = _holder_of(planted.session_key)
    assert attacker.get(reverse("learning:account")).status_code == 302
    assert victim.get(reverse("learning:account")).status_code == 200


def test_logging_in_again_gives_a_new_session_key(member: Member) -> None:
    client = Client()
    _log_in(client, member)
    first = _session_key(client)
    _log_in(client, member)  # the login page sends a signed-in member on
    client.post(reverse("logout"))
    _log_in(client, member)
    assert _session_key(client) != first


def test_the_admin_login_gives_a_new_session_key(editor: Member) -> None:
    client = Client()
    planted = client.session
    planted["planted"] = True
    planted.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = planted.session_key
    response = client.post(
        reverse("wagtailadmin_login"), {"username": editor.username, "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    assert _session_key(client) != planted.session_key
    assert _holder_of(planted.session_key).get(reverse("wagtailadmin_home")).status_code == 302


@pytest.mark.parametrize("logout", ["logout", "wagtailadmin_logout"])
def test_a_session_cookie_is_worthless_after_logout(logout: str, editor: Member) -> None:
    client = Client()
    _log_in(client, editor)
    stolen = _session_key(client)
    assert _holder_of(stolen).get(reverse("learning:account")).status_code == 200

    assert client.post(reverse(logout)).status_code == 302

    assert not Session.objects.filter(session_key=stolen).exists()
    assert _holder_of(stolen).get(reverse("learning:account")).status_code == 302
    assert _holder_of(stolen).get(reverse("wagtailadmin_home")).status_code == 302
    api = _holder_of(stolen, api=True).get(reverse("quizzes_api:attempts"))
    assert api.status_code in (401, 403)
    assert api.json()["code"] == "not_authenticated"


def test_a_password_change_signs_out_every_other_session(member: Member) -> None:
    phone, laptop = Client(), Client()
    _log_in(phone, member)
    _log_in(laptop, member)
    response = phone.post(
        reverse("password_change"),
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert phone.get(reverse("learning:account")).status_code == 200
    assert laptop.get(reverse("learning:account")).status_code == 302


def test_the_session_cookie_is_out_of_reach_of_scripts_and_other_sites(member: Member) -> None:
    client = Client()
    _log_in(client, member)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"]
    assert cookie["samesite"].lower() in ("lax", "strict")
