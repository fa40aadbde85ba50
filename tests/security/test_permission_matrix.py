"""The permission matrix: every URL pattern the project serves × seven roles.

The URL patterns come from ``django.urls.get_resolver()``, walked through every include
(the member pages, accounts, quizzes, the API, screens, documents, i18n and the whole
Wagtail admin with its snippets, viewsets and our hooks' views). Each is asked as the
anonymous visitor, the member, a member of another branch, the secretary of another
subtree, an editor, an approver and an administrator, about objects owned by the member
(``permission_world``), and the answer must be what its rule in ``permission_rules``
says: allowed or refused, as defined there. A pattern without a rule fails, and so does
a rule that matches no pattern (docs/security.md, "Permission matrix").
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.db import connection, transaction
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

from tests.security.permission_rules import ANONYMOUS, MEMBER, ROLES, RULES, Rule
from tests.security.permission_world import World, world_build

# Who may open which URL does not depend on the database engine: CI asks once, on SQLite.
pytestmark = pytest.mark.once

ALLOWED = "allowed"
REFUSED = "refused"
RULES_FILE = "tests/security/permission_rules.py"
# Statuses of a view that took the request and judged its content (a bad body, an
# attempt already submitted, too many requests): the permission check was passed.
JUDGED = {400, 429}
# 409: the request conflicts with what the asker may do now (the API's "this quiz is not
# open to you"), the page's refusal with an error message.
REFUSING = {401, 403, 404, 409}


@dataclass(frozen=True)
class Endpoint:
    """One URL pattern: its full route, its name (with namespaces) and parameter names."""

    route: str
    name: str | None
    parameters: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.route} ({self.name})" if self.name else self.route


def _parameters(pattern: Any) -> tuple[str, ...]:
    """The names of a pattern's path parameters (a route's converters, a regex's groups)."""
    if hasattr(pattern, "_route"):
        return tuple(pattern.converters)
    regex = getattr(pattern, "regex", None)
    return tuple(regex.groupindex) if regex is not None else ()


def endpoints() -> list[Endpoint]:
    """Every URL pattern, in the resolver's order, with the route and name it is known by."""
    found: list[Endpoint] = []

    def walk(patterns: list[Any], prefix: str, namespaces: tuple[str, ...], params: tuple) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            own = params + _parameters(pattern.pattern)
            if isinstance(pattern, URLResolver):
                namespace = (pattern.namespace,) if pattern.namespace else ()
                walk(pattern.url_patterns, route, namespaces + namespace, own)
            elif isinstance(pattern, URLPattern):
                name = ":".join((*namespaces, pattern.name)) if pattern.name else None
                found.append(Endpoint(route, name, own))

    walk(get_resolver().url_patterns, "", (), ())
    return found


def _matches(rule: Rule, endpoint: Endpoint) -> bool:
    for subject in (endpoint.name, endpoint.route):
        if subject is None:
            continue
        if subject == rule.match or fnmatch.fnmatchcase(subject, rule.match):
            return True
    return False


def rule_for(endpoint: Endpoint) -> Rule | None:
    return next((rule for rule in RULES if _matches(rule, endpoint)), None)


ENDPOINTS = endpoints()
RULED = [(endpoint, rule) for endpoint in ENDPOINTS if (rule := rule_for(endpoint)) is not None]


def _how_to_add(endpoint: Endpoint) -> str:
    key = endpoint.name or endpoint.route
    return (
        f"no permission rule for the URL pattern {endpoint.label}: add a line to RULES in "
        f'{RULES_FILE}, e.g. Rule("{key}", MEMBER_ONLY, "why these roles and no others")'
    )


def test_every_url_pattern_has_a_rule() -> None:
    missing = [_how_to_add(endpoint) for endpoint in ENDPOINTS if rule_for(endpoint) is None]
    assert missing == [], "\n".join(missing)


def test_every_rule_is_the_first_match_of_some_url_pattern() -> None:
    """A rule nothing reaches (the view is gone, or a rule above shadows it) is stale."""
    used = {id(rule) for _endpoint, rule in RULED}
    stale = [rule.match for rule in RULES if id(rule) not in used]
    assert stale == [], f"rules in {RULES_FILE} that match no URL pattern: {stale}"


# --- Asking ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """One set of objects for the whole module, rolled back at its end.

    Each test runs in a savepoint inside this transaction (pytest-django's ``db``), so an
    allowed POST is undone before the next cell.
    """
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            world = world_build()
            for role, person in world.people.items():
                client = Client()
                client.force_login(person)
                world.sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
            yield world
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def url_of(endpoint: Endpoint, rule: Rule, values: dict[str, Any]) -> str:
    if rule.path is not None:
        return rule.path.format(**values)
    kwargs = {}
    for parameter in endpoint.parameters:
        key = rule.args.get(parameter, parameter)
        if key not in values:
            raise LookupError(
                f"{endpoint.label}: no value for the path parameter {parameter!r}; name a key "
                f"of permission_world's values in the rule's args, e.g. args={{{parameter!r}: "
                f"'attempt_open'}}"
            )
        kwargs[parameter] = values[key]
    if endpoint.name is None:
        raise LookupError(f"{endpoint.label} has no name: give its rule a path")
    try:
        return reverse(endpoint.name, kwargs=kwargs)
    except NoReverseMatch as error:
        raise LookupError(f"{endpoint.label}: give its rule a path ({error})") from error


def _login_paths() -> tuple[str, ...]:
    return (
        resolve_url(settings.LOGIN_URL),
        reverse("wagtailadmin_login"),
        reverse("wagtailcore_login"),
    )


def outcome(response: Any, rule: Rule) -> str:
    """``allowed``, ``refused``, or what went wrong (docs in ``permission_rules``)."""
    status = response.status_code
    if status in REFUSING:
        return REFUSED
    if 300 <= status < 400:
        location = response["Location"].split("?")[0]
        if location in _login_paths():
            return ALLOWED if rule.login_is_the_answer else REFUSED
        levels = [message.level for message in get_messages(response.wsgi_request)]
        return REFUSED if message_levels.ERROR in levels else ALLOWED
    if 200 <= status < 300 or status in JUDGED:
        return ALLOWED
    return f"status {status}"


def rows_written() -> int:
    """Rows inserted, updated or deleted so far by this connection (in this transaction on
    PostgreSQL), sessions left out: one query, so every refused request can be checked."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT COALESCE(SUM(n_tup_ins + n_tup_upd + n_tup_del), 0) "
                "FROM pg_stat_xact_user_tables WHERE relname <> 'django_session'"
            )
        else:
            cursor.execute("SELECT total_changes()")
        return int(cursor.fetchone()[0])


def ask(world: World, role: str, rule: Rule, url: str) -> Any:
    client = Client()
    if role != ANONYMOUS:
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
    if rule.method == "get":
        return client.get(url)
    if rule.json:
        body = json.dumps(rule.data or {})
        return client.generic(rule.method.upper(), url, body, content_type="application/json")
    if rule.method == "post":
        return client.post(url, rule.data or {})
    return client.generic(rule.method.upper(), url)


def answer_of(world: World, role: str, rule: Rule, url: str) -> str | None:
    """What went wrong when ``role`` asks for ``url``, or ``None`` if the rule held."""
    expected = ALLOWED if role in rule.allow else REFUSED
    if rule.raises is not None and expected == ALLOWED:
        with pytest.raises(Exception, match=re.escape(rule.raises)):
            ask(world, role, rule, url)
        return None
    written = rows_written()
    response = ask(world, role, rule, url)
    got = outcome(response, rule)
    if got != expected:
        return f"{role}: {got} ({response.status_code}), the rule says {expected}"
    if expected == REFUSED and rows_written() != written:
        return f"{role}: refused, but the request wrote to the database"
    return None


@pytest.mark.parametrize(
    ("endpoint", "rule"), RULED, ids=[endpoint.route for endpoint, _rule in RULED]
)
def test_only_the_roles_the_rule_names_are_allowed(
    endpoint: Endpoint, rule: Rule, world: World, db: None
) -> None:
    url = url_of(endpoint, rule, world.values)
    wrong = []
    for role in ROLES:
        with transaction.atomic():
            problem = answer_of(world, role, rule, url)
            transaction.set_rollback(True)
        if problem is not None:
            wrong.append(problem)
    assert wrong == [], (
        f"{rule.method.upper()} {url}, rule {rule.match!r} ({rule.why}):\n" + "\n".join(wrong)
    )


def test_the_write_check_sees_a_write(world: World, db: None) -> None:
    """The member removing their own wrong-answer entry writes: the check would notice."""
    endpoint = next(
        endpoint for endpoint, _rule in RULED if endpoint.name == "quizzes:wrong_remove"
    )
    rule = rule_for(endpoint)
    assert rule is not None
    before = rows_written()

    response = ask(world, MEMBER, rule, url_of(endpoint, rule, world.values))

    assert outcome(response, rule) == ALLOWED
    assert rows_written() > before
