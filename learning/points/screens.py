"""Office screen snapshots: small JSON documents, cached until points change.

A snapshot holds only aggregates, plus member display names where the screen and
every organisation involved allow them. It is cached per screen (and its last change,
the local date and the page version) together with the ledger version of the screen's
subtree it was computed at, which every award there bumps: a request reads the screen's
row by token (so a revoked or rotated link stops at once) and then the snapshot and the
current version in one cache round trip. An award shows on the next refresh, and a
thousand screens on one subtree cost one computation per change. Without a shared cache
(the embedded default), the short timeout bounds how stale another process can be.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import dataclass
from functools import cache as memoize
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from learning.common import redis_cache
from learning.common.periods import Period
from learning.common.raw_sql import sql_table
from learning.common.versions import LEDGER_VERSION_KEY
from learning.models import Organization, PointsEntry, Screen
from learning.points.db import prepared_cursor
from learning.points.leaderboards import (
    Metric,
    branch_ranking,
    leaderboard_range,
    names_hidden,
    subtree_figures,
)
from learning.points.member_rankings import member_ranking

SNAPSHOT_CACHE_SECONDS = 30
MAX_BRANCHES = 30
TOP_MEMBERS = 10
ACTIVITY_ITEMS = 12
ACTIVITY_DAYS = 7
# The files whose change after a deploy makes open screens reload themselves.
PAGE_FILES = ("templates/learning/screen.html", "static/js/screen.js", "static/css/screen.css")


@dataclass(frozen=True)
class Snapshot:
    body: bytes
    etag: str


@memoize
def page_version() -> str:
    """A short hash of the screen page's own files: changes when a deploy changes them."""
    digest = hashlib.sha256()
    for name in PAGE_FILES:
        path = Path(settings.BASE_DIR) / name
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()[:12]


def screen_for_token(token: str) -> Screen | None:
    """The active screen with this secret token, or None (unknown or revoked)."""
    if not token or len(token) > 64:
        return None
    return (
        Screen.objects.select_related("organization")
        .filter(token=token, is_active=True, organization__is_active=True)
        .first()
    )


def snapshot_for_token(token: str) -> Snapshot | None:
    """The snapshot of the active screen with this token, or None (unknown or revoked).

    The usual request is one small query (the screen's id, last change and subtree) and
    one cache round trip for the snapshot and the subtree's current ledger version; only
    when the snapshot is missing or out of date is the whole screen loaded and the
    snapshot computed.
    """
    if not token or len(token) > 64:
        return None
    # Plain SQL: compiling the equivalent ORM query cost more than running it.
    with prepared_cursor(connections[DEFAULT_DB_ALIAS]) as cursor:
        cursor.execute(_SCREEN_BY_TOKEN, [token])
        found = cursor.fetchone()
    if found is None:
        return None
    screen_id, updated_at, path = found
    key = _snapshot_key(screen_id, updated_at)
    version_key = LEDGER_VERSION_KEY.format(path=path)
    cached = redis_cache.get_many([key, version_key])
    version = str(cached.get(version_key, "0"))
    hit = cached.get(key)
    if hit is not None and hit[0] == version:
        return Snapshot(body=hit[1], etag=hit[2])
    screen = Screen.objects.select_related("organization").get(pk=screen_id)
    return _compute(screen, key, version)


_SCREENS = sql_table(Screen)
_ORGANIZATIONS = sql_table(Organization)
_SCREEN_BY_TOKEN = (
    f"SELECT s.id, s.updated_at, o.path FROM {_SCREENS} s"  # noqa: S608 - table names only
    f" JOIN {_ORGANIZATIONS} o ON o.id = s.organization_id"
    " WHERE s.token = %s AND s.is_active AND o.is_active"
)


def _snapshot_key(screen_id: int, updated_at: object) -> str:
    """The cache key of a screen's snapshot: it changes with the screen, the day and a
    deploy that changes the page (the ledger version is stored with the snapshot).
    """
    if isinstance(updated_at, datetime.datetime):
        changed = updated_at.isoformat()
    else:  # SQLite may hand back the stored text
        changed = str(updated_at).replace(" ", "T")
    return ":".join(
        [
            "dangjian:screen-snapshot",
            str(screen_id),
            changed,
            timezone.localdate().isoformat(),
            page_version(),
        ]
    )


def _compute(screen: Screen, key: str, version: str) -> Snapshot:
    """Compute and cache the snapshot, marked with the ledger version read *before*: an
    award while it is computed leaves it out of date, never wrongly current.
    """
    with override(settings.LANGUAGE_CODE):
        data = screen_data(screen)
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    # The ETag covers the data, not the moment it was computed.
    stable = {k: v for k, v in data.items() if k != "generated_at"}
    etag = '"' + hashlib.sha256(json.dumps(stable, sort_keys=True).encode()).hexdigest()[:20] + '"'
    cache.set(key, (version, body, etag), SNAPSHOT_CACHE_SECONDS)
    return Snapshot(body=body, etag=etag)


def screen_data(screen: Screen) -> dict[str, Any]:
    """Everything a screen shows, as plain data (no member ids, no usernames)."""
    root = screen.organization
    date_range = leaderboard_range(screen.period)
    today = leaderboard_range(Period.DAY)
    names_allowed = screen.show_member_names and not names_hidden(root)
    metric = Metric(screen.metric)

    data: dict[str, Any] = {
        "version": page_version(),
        "generated_at": timezone.localtime().isoformat(timespec="seconds"),
        "screen": {
            "name": screen.name,
            "organization": root.name,
            "period": screen.period,
            "period_label": str(Period(screen.period).label),
            "range": [date_range.start.isoformat(), date_range.end.isoformat()],
            "metric": screen.metric,
            "metric_label": str(metric.label),
            "theme": screen.theme,
            "refresh_seconds": screen.refresh_seconds,
            "names_shown": names_allowed,
        },
        "panels": {
            "branches": screen.show_branch_ranking,
            "top_members": screen.show_top_members and names_allowed,
            "today": screen.show_today,
            "activity": screen.show_activity,
        },
    }
    if screen.show_today:
        figures = subtree_figures(root=root, date_range=today)
        data["today"] = {
            "points": figures.points,
            "active_members": figures.active_members,
            "members": figures.members,
            "participation": round(figures.participation, 4),
        }
    if screen.show_branch_ranking:
        standings = branch_ranking(root=root, date_range=date_range, metric=metric)
        data["branches"] = [
            {
                "rank": row.rank,
                "name": row.name,
                "value": _metric_number(metric, row),
                "display": _metric_display(metric, row),
                "points": row.points,
                "members": row.members,
                "active_members": row.active_members,
                "small": row.below_min_size,
            }
            for row in standings[:MAX_BRANCHES]
        ]
        data["branch_count"] = len(standings)
    if screen.show_top_members and names_allowed:
        data["top_members"] = [
            {
                "rank": row.rank,
                "name": row.display_name,
                "organization": row.organization_name,
                "points": row.points,
            }
            for row in member_ranking(root=root, date_range=date_range, limit=TOP_MEMBERS)
        ]
    if screen.show_activity:
        data["activity"] = _recent_activity(root, names_allowed)
    return data


def _metric_number(metric: str, row: Any) -> float:
    if metric == Metric.TOTAL:
        return float(row.points)
    if metric == Metric.PARTICIPATION:
        return round(row.participation, 4)
    return row.per_member


def _metric_display(metric: str, row: Any) -> str:
    if metric == Metric.TOTAL:
        return _("%(points)d pts") % {"points": row.points}
    if metric == Metric.PARTICIPATION:
        return f"{row.participation * 100:.0f}%"
    return _("%(points).1f pts/member") % {"points": row.per_member}


def _when(moment: datetime.datetime, today: datetime.date) -> str:
    """ "14:05" for today's awards, "11-26 14:05" for older ones."""
    local = timezone.localtime(moment)
    return local.strftime("%H:%M" if local.date() == today else "%m-%d %H:%M")


def _recent_activity(root: Organization, names_allowed: bool) -> list[dict[str, Any]]:
    """The latest awards in the subtree; names only where allowed (never on reversals)."""
    hidden_paths = list(
        Organization.objects.filter(path__startswith=root.path, hide_member_names=True).values_list(
            "path", flat=True
        )
    )
    today = timezone.localdate()
    # A bounded window keeps this an index range scan even for a quiet subtree.
    since = today - datetime.timedelta(days=ACTIVITY_DAYS)
    entries = (
        PointsEntry.objects.filter(
            branch__path__startswith=root.path,
            local_date__gte=since,
            points__gt=0,
            reverses__isnull=True,
        )
        .select_related("branch", "organization", "rule", "member")
        .only(
            "points",
            "created_at",
            "branch__name",
            "organization__path",
            "rule__name",
            "rule__name_en",
            "member__display_name",
        )
        .order_by("-id")[:ACTIVITY_ITEMS]
    )
    items = []
    for entry in entries:
        path = entry.organization.path
        named = names_allowed and not any(path.startswith(p) for p in hidden_paths)
        items.append(
            {
                "time": _when(entry.created_at, today),
                "branch": entry.branch.name,
                "member": entry.member.display_name if named else None,
                "rule": entry.rule.display_name,
                "points": entry.points,
            }
        )
    return items
