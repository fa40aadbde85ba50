"""``python -m tests.load.dataset``: members for the morning spike, with sessions.

    DJANGO_SETTINGS_MODULE=config.settings.production SECRET_KEY=… DATABASE_URL=… \
        python -m tests.load.dataset --members 2000 --out var/load/members.json

Run it with the server's own environment (settings module, ``SECRET_KEY``, database,
``REDIS_URL``): a session is signed with the server's key and stored where the server
keeps sessions. It creates ``--members`` members (usernames ``<prefix>-00001`` …, a new
prefix each run: the daily quiz can be taken once a day) spread over the active branches
of the demo organisation (``seed_demo``), all through ``members_bulk_create`` with one
shared password, and for each one a signed-in session as a login would leave it. The file
lists every member with the session key, the cookie name and the password, for the
members who log in fresh (``tests.load.spike --fresh``). Nothing here is used by the
server itself.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any


def members_create(*, count: int, prefix: str, password: str) -> dict[str, Any]:
    """``count`` new members of the demo's branches with a session each (Django set up)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.utils.module_loading import import_string

    from learning.models import Organization
    from learning.people.services import NewMember, members_bulk_create

    branches = list(
        Organization.objects.filter(kind=Organization.Kind.BRANCH, is_active=True).order_by("path")
    )
    if not branches:
        raise SystemExit("no branch to put the members in: run seed_demo first")
    people = [
        NewMember(
            username=f"{prefix}-{number:05d}",
            display_name=f"压测党员{number:05d}",
            organization=branches[number % len(branches)],
        )
        for number in range(1, count + 1)
    ]
    members = members_bulk_create(people=people, password=password)
    store_class = import_string(f"{settings.SESSION_ENGINE}.SessionStore")
    # The backend a login through the form records (the lockout backend only refuses).
    backend = "learning.people.auth.UsernameOrPhoneBackend"
    rows = []
    for member in members:
        session = store_class()
        session[SESSION_KEY] = member._meta.pk.value_to_string(member)
        session[BACKEND_SESSION_KEY] = backend
        session[HASH_SESSION_KEY] = member.get_session_auth_hash()
        session.create()
        rows.append({"username": member.username, "session": session.session_key})
    return {
        "prefix": prefix,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "session_cookie": settings.SESSION_COOKIE_NAME,
        "password": password,
        "members": rows,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--members", type=int, required=True)
    parser.add_argument("--prefix", default=f"spike{time.strftime('%m%d%H%M%S')}")
    parser.add_argument("--password", default=f"Load-{secrets.token_urlsafe(12)}")
    parser.add_argument("--out", type=Path, required=True)
    options = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    import django

    django.setup()
    data = members_create(count=options.members, prefix=options.prefix, password=options.password)
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    options.out.chmod(0o600)  # sessions and a password
    print(f"{len(data['members'])} members {options.prefix}-… with sessions in {options.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
