"""Shared fixtures: a small organisation tree, people in each role, the content sections.

They are built by the factories in ``tests.factories``.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.test import TransactionTestCase

from learning.models import Member, Organization
from learning.people import roles
from learning.points.db import ledger_maintenance
from tests.factories.pages import Content, site_content
from tests.factories.people import MemberFactory, OrganizationFactory, secretary_of

# Benchmarks run with `make bench`, never in the normal suite.
collect_ignore_glob = [] if os.environ.get("DANGJIAN_BENCH") else ["benchmarks/*"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock",
        metavar="WHEN",
        help=(
            "run the tests with the clock starting at WHEN, an ISO 8601 time with its offset "
            "(2027-01-04T00:00:05+08:00), and ticking from there: finds tests that pass only "
            "at some hours (make test-boundaries runs the suite at each period boundary)"
        ),
    )


def pytest_configure(config: pytest.Config) -> None:
    when = config.getoption("--clock")
    if when:
        import time_machine

        moment = datetime.datetime.fromisoformat(when)
        if moment.tzinfo is None:
            raise pytest.UsageError("--clock needs an offset, e.g. 2027-01-04T00:00:05+08:00")
        # Started once for the whole session; every test's own travel nests inside it.
        time_machine.travel(moment, tick=True).start()


def pytest_report_header(config: pytest.Config) -> str | None:
    when = config.getoption("--clock")
    return f"clock: started at {when}" if when else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that need a real PostgreSQL or Redis run only where one is configured.

    A transactional test must restore the migrations' data (roles, the home page) after
    it: without ``serialized_rollback`` its flush leaves the database without them, and the
    tests after it fail far from the cause.
    """
    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    has_redis = bool(os.environ.get("REDIS_URL"))
    for item in items:
        marker = item.get_closest_marker("django_db")
        if (
            marker
            and marker.kwargs.get("transaction")
            and not marker.kwargs.get("serialized_rollback")
        ):
            raise pytest.UsageError(
                f"{item.nodeid}: django_db(transaction=True) needs serialized_rollback=True"
            )
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs DATABASE_URL=postgres://…"))
        if "redis" in item.keywords and not has_redis:
            item.add_marker(pytest.mark.skip(reason="needs REDIS_URL=redis://…"))


@pytest.fixture(autouse=True, scope="session")
def _ledger_rows_removable_between_tests() -> Iterator[None]:
    """Let Django's flush after a transactional test empty the append-only ledger.

    On SQLite the flush is a DELETE, which the ledger's trigger refuses unless the
    process is in maintenance mode; on PostgreSQL it is a TRUNCATE, which the row
    trigger does not see.
    """
    original = TransactionTestCase._fixture_teardown

    def teardown(self: TransactionTestCase) -> None:
        with ledger_maintenance():
            original(self)

    TransactionTestCase._fixture_teardown = teardown  # type: ignore[method-assign]
    yield
    TransactionTestCase._fixture_teardown = original  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def _fresh_cache_and_pace(request: pytest.FixtureRequest, settings: object) -> Iterator[None]:
    """Empty throttle counters for every test; no reading time unless it is ``paced``.

    Most tests answer a question the moment it is served and submit at once, as no person
    can; the tests of pacing and of the too-fast signal (``@pytest.mark.paced``) keep the
    production settings (a quiz's own seconds per question still apply everywhere).
    """
    from django.core.cache import cache

    cache.clear()
    if request.node.get_closest_marker("paced") is None:
        settings.DANGJIAN_READING_FLOOR_SECONDS = 0  # type: ignore[attr-defined]
        settings.DANGJIAN_READING_CHARS_PER_SECOND = 10**9  # type: ignore[attr-defined]
        settings.DANGJIAN_PLAUSIBLE_FLOOR_SECONDS = 0  # type: ignore[attr-defined]
        settings.DANGJIAN_PLAUSIBLE_CHARS_PER_SECOND = 10**9  # type: ignore[attr-defined]
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _own_search_index(tmp_path_factory: pytest.TempPathFactory, settings: object) -> Iterator[None]:
    """Give every test an empty search index of its own, and close its searchers after."""
    from cms.search.storage import forget_searchers

    settings.SEARCH_INDEX_DIR = tmp_path_factory.mktemp("search-index")  # type: ignore[attr-defined]
    forget_searchers()
    yield
    forget_searchers()


@dataclass
class Tree:
    committee: Organization
    general_a: Organization
    general_b: Organization
    branch_a1: Organization
    branch_a2: Organization
    branch_b1: Organization
    group_a1: Organization


@pytest.fixture
def tree(db: None) -> Tree:
    """某党委 › {第一党总支 › {第一党支部 › 第一党小组, 第二党支部}, 第二党总支 › 第三党支部}."""
    committee = OrganizationFactory(name="某党委", code="DW", kind=Organization.Kind.COMMITTEE)
    general_a = OrganizationFactory(
        name="第一党总支", code="ZZB1", kind=Organization.Kind.GENERAL_BRANCH, parent=committee
    )
    general_b = OrganizationFactory(
        name="第二党总支", code="ZZB2", kind=Organization.Kind.GENERAL_BRANCH, parent=committee
    )
    branch_a1 = OrganizationFactory(name="第一党支部", code="ZB1", parent=general_a)
    branch_a2 = OrganizationFactory(name="第二党支部", code="ZB2", parent=general_a)
    branch_b1 = OrganizationFactory(name="第三党支部", code="ZB3", parent=general_b)
    group_a1 = OrganizationFactory(
        name="第一党小组", code="XZ1", kind=Organization.Kind.GROUP, parent=branch_a1
    )
    return Tree(committee, general_a, general_b, branch_a1, branch_a2, branch_b1, group_a1)


@pytest.fixture
def secretary_a(tree: Tree) -> Member:
    """Secretary of 第一党总支: sees 第一党总支 and everything below it, nothing else."""
    return secretary_of(tree.general_a, "secretary_a", "王书记", member_of=tree.branch_a1)


def _of_the_committee(tree: Tree, username: str, display_name: str, role: str) -> Member:
    return MemberFactory(
        username=username,
        display_name=display_name,
        organization=tree.committee,
        role_names=[role],
    )


@pytest.fixture
def administrator(tree: Tree) -> Member:
    return _of_the_committee(tree, "admin_user", "管理员", roles.ADMINISTRATOR)


@pytest.fixture
def editor(tree: Tree) -> Member:
    return _of_the_committee(tree, "editor_user", "编辑甲", roles.EDITOR)


@pytest.fixture
def approver(tree: Tree) -> Member:
    return _of_the_committee(tree, "approver_user", "审核甲", roles.APPROVER)


@pytest.fixture
def content(db: None) -> Content:
    """The home page with a course index (/courses/) and a policy index (/policies/)."""
    return site_content()
