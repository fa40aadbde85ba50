"""``bin/backup`` and ``bin/restore``, run as an operator runs them, on real databases.

An archive is made from the test database itself (what a transactional test committed
through the product's services), and restored into a database created for the test: a
fresh PostgreSQL database on the same server in the PostgreSQL pass, a new SQLite file in
the SQLite pass. The scripts run as subprocesses with the development settings and the
test's own DATABASE_URL, MEDIA_ROOT and VAR_DIR.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from learning.models import Member, Organization, PointsEntry
from learning.points.ledger import points_reverse
from tests.factories.documents import docx_bytes, upload
from tests.factories.people import MemberFactory, OrganizationFactory
from tests.factories.points import give

ROOT = Path(settings.BASE_DIR)
ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
SCRIPT_TIMEOUT = 180
_numbers = itertools.count()

pytestmark = pytest.mark.skipif(
    not hasattr(tarfile, "data_filter"), reason="bin/restore needs Python 3.11.4+ (tar filters)"
)


def database_url(database: dict[str, Any]) -> str:
    """DATABASE_URL for a Django DATABASES entry (a socket directory as the host works too)."""
    if not database["ENGINE"].endswith("postgresql"):
        return f"sqlite:///{database['NAME']}"
    user = quote(database.get("USER") or "", safe="")
    password = f":{quote(database['PASSWORD'], safe='')}" if database.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    host = quote(database.get("HOST") or "", safe="")
    port = f":{database['PORT']}" if database.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{quote(database['NAME'], safe='')}"


def run(
    argv: list[str],
    *,
    database: str,
    media_root: Path,
    var_dir: Path,
    path: str | None = None,
    more: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a script of the project as an operator would, with this test's environment."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "DATABASE_URL": database,
        "MEDIA_ROOT": str(media_root),
        "VAR_DIR": str(var_dir),
        **(more or {}),
    }
    environment.pop("REDIS_URL", None)  # caches and queues are not part of a backup
    if path is not None:
        environment["PATH"] = path
    return subprocess.run(
        [sys.executable, *argv],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=SCRIPT_TIMEOUT,
        check=False,
    )


def backup(output: Path, *, media_root: Path, var_dir: Path, extra: tuple[str, ...] = ()) -> Path:
    finished = run(
        [str(ROOT / "bin" / "backup"), "--output", str(output), *extra],
        database=database_url(connection.settings_dict),
        media_root=media_root,
        var_dir=var_dir,
    )
    assert finished.returncode == 0, finished.stderr
    return output


def files_under(directory: Path) -> dict[str, bytes]:
    if not directory.is_dir():
        return {}
    return {
        path.relative_to(directory).as_posix(): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


@dataclass
class Target:
    """The database a test restores into, read with the plain driver (not Django's)."""

    url: str
    query: Callable[[str], list[tuple[Any, ...]]]
    tables: Callable[[], list[str]]


@pytest.fixture
def target(tmp_path: Path) -> Iterator[Target]:
    """A fresh, empty database of the test database's kind, dropped afterwards."""
    if not ON_POSTGRES:
        path = tmp_path / "restored.sqlite3"

        def sqlite_query(sql: str) -> list[tuple[Any, ...]]:
            with sqlite3.connect(path) as db:
                rows = db.execute(sql).fetchall()
            db.close()
            return rows

        def sqlite_tables() -> list[str]:
            if not path.exists():
                return []
            rows = sqlite_query("SELECT name FROM sqlite_master WHERE type = 'table'")
            return sorted(name for (name,) in rows)

        yield Target(f"sqlite:///{path}", sqlite_query, sqlite_tables)
        return

    server = connection.settings_dict
    params = {
        key: server[name]
        for key, name in (("host", "HOST"), ("port", "PORT"), ("user", "USER"))
        if server.get(name)
    }
    if server.get("PASSWORD"):
        params["password"] = server["PASSWORD"]
    name = f"dj_opsbackup_{os.getpid()}_{next(_numbers)}"
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')

    def postgres_query(sql: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(dbname=name, autocommit=True, **params) as db:
            cursor = db.execute(sql)  # type: ignore[arg-type]
            return cursor.fetchall() if cursor.description else []

    def postgres_tables() -> list[str]:
        rows = postgres_query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return sorted(table for (table,) in rows)

    yield Target(database_url({**server, "NAME": name}), postgres_query, postgres_tables)
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def restore(
    archive: Path, target: Target, media_root: Path, *options: str
) -> subprocess.CompletedProcess[str]:
    return run(
        [str(ROOT / "bin" / "restore"), str(archive), "--database-url", target.url, *options],
        database=f"sqlite:///{media_root.parent / 'not-this-one.sqlite3'}",  # the option wins
        media_root=media_root,
        var_dir=media_root.parent / "var",
    )


@pytest.fixture(scope="module")
def base_archive(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One archive of the migrated test database, no media: copied by the refusal tests."""
    work = tmp_path_factory.mktemp("base-archive")
    return backup(work / "archive", media_root=work / "media", var_dir=work / "var")


def copy_of(archive: Path, tmp_path: Path) -> Path:
    copy = tmp_path / archive.name
    shutil.copytree(archive, copy)
    return copy


def manifest_of(archive: Path) -> dict[str, Any]:
    return json.loads((archive / "manifest.json").read_text())


# --- round trip ---------------------------------------------------------------------------


def _seed(media_root: Path) -> None:
    """Organisations, members, awards and a reversal through the services; an uploaded
    document; a file in MEDIA_ROOT."""
    committee = OrganizationFactory(name="备份党委", code="BFDW", kind=Organization.Kind.COMMITTEE)
    branch = OrganizationFactory(name="备份第一支部", code="BF1", parent=committee)
    other = OrganizationFactory(name="备份第二支部", code="BF2", parent=committee)
    today = timezone.localdate()
    members = [
        MemberFactory(username=f"backup{i}", display_name=f"备份党员{i}", organization=org)
        for i, org in enumerate([branch, branch, other])
    ]
    for i, member in enumerate(members):
        give(member, 10 * (i + 1) + 4, today)
    first = PointsEntry.objects.filter(member=members[0]).order_by("pk").first()
    assert first is not None
    points_reverse(entry=first, reason="录入错误", by=None)
    upload("支部会议纪要", "minutes.docx", docx_bytes("学习党章，按时交纳党费。"))
    # A file in a folder, with a Chinese name: the tar keeps both.
    (media_root / "images").mkdir(parents=True, exist_ok=True)
    (media_root / "images" / "党徽.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))


def _round_trip(target: Target, tmp_path: Path, settings: Any) -> None:
    source_media = tmp_path / "source-media"
    settings.MEDIA_ROOT = source_media
    _seed(source_media)
    entries = PointsEntry.objects.count()
    total = PointsEntry.objects.aggregate(total=Sum("points"))["total"]
    people = sorted(Member.objects.values_list("username", "display_name", "organization__code"))
    organisations = sorted(Organization.objects.values_list("code", "name", "path"))
    media = files_under(source_media)
    assert entries >= 8 and len(media) == 2

    archive = backup(tmp_path / "archive", media_root=source_media, var_dir=tmp_path / "var")
    manifest = manifest_of(archive)
    assert all(path.stat().st_mode & 0o077 == 0 for path in [archive, *archive.iterdir()])
    assert manifest["database"]["vendor"] == connection.vendor
    assert manifest["parts"]["media"]["files"] == 2
    assert "learning" in manifest["migrations"]
    assert sorted(path.name for path in archive.iterdir()) == sorted(
        ["manifest.json", "media.tar", manifest["parts"]["database"]["file"]]
    )

    restored_media = tmp_path / "restored" / "media"
    finished = restore(archive, target, restored_media)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "check_ledger: OK" in finished.stdout
    assert "rebuild_modelsearch_index" in finished.stdout

    ledger = PointsEntry._meta.db_table
    members, orgs = Member._meta.db_table, Organization._meta.db_table
    assert target.query(f"SELECT count(*), sum(points) FROM {ledger}") == [(entries, total)]  # noqa: S608
    assert (
        sorted(
            target.query(
                f"SELECT m.username, m.display_name, o.code FROM {members} m"  # noqa: S608
                f" JOIN {orgs} o ON o.id = m.organization_id"
            )
        )
        == people
    )
    assert sorted(target.query(f"SELECT code, name, path FROM {orgs}")) == organisations  # noqa: S608
    assert files_under(restored_media) == media

    # check_ledger on its own, as the operator runs it on the restored database.
    checked = run(
        [str(ROOT / "manage.py"), "check_ledger"],
        database=target.url,
        media_root=restored_media,
        var_dir=tmp_path / "restored" / "var",
    )
    assert checked.returncode == 0, checked.stderr
    assert "OK" in checked.stdout
    # The ledger's append-only trigger came back with the rows.
    # (SQLite's trigger asks a function only the app registers: any other client is refused.)
    with pytest.raises(
        psycopg.errors.IntegrityConstraintViolation if ON_POSTGRES else sqlite3.OperationalError,
        match=r"append-only|no such function: dangjian_ledger_maintenance",
    ):
        target.query(f"UPDATE {ledger} SET points = points + 1")  # noqa: S608


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_postgresql_round_trip_keeps_every_row_and_file_and_passes_check_ledger(
    target: Target, tmp_path: Path, settings: Any
) -> None:
    _round_trip(target, tmp_path, settings)


@pytest.mark.skipif(ON_POSTGRES, reason="the SQLite round trip runs in the SQLite pass")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sqlite_round_trip_keeps_every_row_and_file_and_passes_check_ledger(
    target: Target, tmp_path: Path, settings: Any
) -> None:
    _round_trip(target, tmp_path, settings)


# --- refusals before anything changes -------------------------------------------------


def _flip_a_database_byte(archive: Path) -> None:
    dump = archive / manifest_of(archive)["parts"]["database"]["file"]
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))


def _truncate_the_media(archive: Path) -> None:
    tar = archive / "media.tar"
    tar.write_bytes(tar.read_bytes()[:-512])


def _drop_the_manifest(archive: Path) -> None:
    (archive / "manifest.json").unlink()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_flip_a_database_byte, "does not match its SHA-256"),
        (_truncate_the_media, "truncated or damaged"),
        (_drop_the_manifest, "not a complete backup"),
    ],
    ids=["flipped-byte-in-dump", "truncated-media", "no-manifest"],
)
def test_damaged_archive_is_refused_and_the_target_stays_empty(
    base_archive: Path,
    target: Target,
    tmp_path: Path,
    damage: Callable[[Path], None],
    message: str,
) -> None:
    archive = copy_of(base_archive, tmp_path)
    damage(archive)
    media_root = tmp_path / "restored" / "media"

    finished = restore(archive, target, media_root)

    assert finished.returncode == 1
    assert "restore refused" in finished.stderr and message in finished.stderr
    assert target.tables() == []
    assert not media_root.exists()


def _evil_tar(tar_path: Path, member: tarfile.TarInfo, data: bytes = b"") -> None:
    with tarfile.open(tar_path, "w", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(member, io.BytesIO(data) if member.isfile() else None)


def _file(name: str) -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.size = len(b"pwned")
    return member


def _link(name: str, kind: bytes, to: str) -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.type, member.linkname = kind, to
    return member


@pytest.mark.parametrize(
    ("make_member", "message"),
    [
        (lambda tmp: _file("../outside.txt"), "climbs out"),
        (lambda tmp: _file("images/../../outside.txt"), "climbs out"),
        (lambda tmp: _file(str(tmp / "absolute.txt")), "absolute path"),
        (lambda tmp: _link("images/passwd", tarfile.SYMTYPE, "/etc/passwd"), "is a link"),
        (lambda tmp: _link("images/inside", tarfile.SYMTYPE, "other.png"), "is a link"),
        (lambda tmp: _link("images/hard", tarfile.LNKTYPE, "/etc/passwd"), "is a link"),
        (lambda tmp: _link("dev/zero", tarfile.CHRTYPE, ""), "not a regular file"),
    ],
    ids=[
        "dot-dot",
        "dot-dot-inside",
        "absolute",
        "symlink-out",
        "symlink-in",
        "hardlink",
        "device",
    ],
)
def test_media_that_could_land_outside_media_root_is_refused_before_the_database_changes(
    base_archive: Path,
    target: Target,
    tmp_path: Path,
    make_member: Callable[[Path], tarfile.TarInfo],
    message: str,
) -> None:
    """As a forger would make it: the manifest's checksums agree with the bad tar."""
    archive = copy_of(base_archive, tmp_path)
    member = make_member(tmp_path)
    _evil_tar(archive / "media.tar", member, b"pwned")
    manifest = manifest_of(archive)
    tar_bytes = (archive / "media.tar").read_bytes()
    manifest["parts"]["media"].update(
        bytes=len(tar_bytes),
        sha256=hashlib.sha256(tar_bytes).hexdigest(),
        files=1 if member.isfile() else 0,
    )
    (archive / "manifest.json").write_text(json.dumps(manifest))
    media_root = tmp_path / "restored" / "media"

    finished = restore(archive, target, media_root)

    assert finished.returncode == 1, finished.stdout
    assert message in finished.stderr and repr(member.name) in finished.stderr
    assert not (tmp_path / "restored" / "outside.txt").exists()
    assert not (tmp_path / "outside.txt").exists()
    assert not (tmp_path / "absolute.txt").exists()
    assert not media_root.exists()
    assert target.tables() == []


def test_restore_into_a_database_that_is_not_empty_needs_force(
    base_archive: Path, target: Target, tmp_path: Path
) -> None:
    target.query("CREATE TABLE notes (body text)")
    target.query("INSERT INTO notes VALUES ('someone else''s data')")
    media_root = tmp_path / "restored" / "media"

    refused = restore(base_archive, target, media_root)

    assert refused.returncode == 1
    assert "is not empty" in refused.stderr and "--force" in refused.stderr
    assert target.tables() == ["notes"]
    assert not media_root.exists()

    forced = restore(base_archive, target, media_root, "--force")

    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert "check_ledger: OK" in forced.stdout
    assert PointsEntry._meta.db_table in target.tables()


def test_restore_into_a_media_root_that_is_not_empty_is_refused(
    base_archive: Path, target: Target, tmp_path: Path
) -> None:
    media_root = tmp_path / "restored" / "media"
    media_root.mkdir(parents=True)
    (media_root / "kept.txt").write_text("an earlier upload")

    refused = restore(base_archive, target, media_root)

    assert refused.returncode == 1
    assert "MEDIA_ROOT" in refused.stderr and "is not empty" in refused.stderr
    assert target.tables() == []
    assert files_under(media_root) == {"kept.txt": b"an earlier upload"}


# --- backup failures and retention ---------------------------------------------------------


@pytest.mark.postgres
def test_backup_without_pg_dump_fails_clearly_and_leaves_no_archive(
    django_db_setup: None, tmp_path: Path
) -> None:
    backups = tmp_path / "backups"
    backups.mkdir()
    empty_path = tmp_path / "bin"
    empty_path.mkdir()

    finished = run(
        [str(ROOT / "bin" / "backup"), "--output", str(backups / "archive")],
        database=database_url(connection.settings_dict),
        media_root=tmp_path / "media",
        var_dir=tmp_path / "var",
        path=str(empty_path),
    )

    assert finished.returncode == 1
    assert "pg_dump was not found on PATH" in finished.stderr
    assert list(backups.iterdir()) == []


def test_keep_deletes_only_older_complete_archives_after_a_new_one(
    django_db_setup: None, tmp_path: Path
) -> None:
    backups = tmp_path / "var" / "backups"
    earlier = {
        "dangjian-20200101T000000Z": True,
        "dangjian-20200102T000000Z": True,
        "dangjian-20200103T000000Z": False,  # interrupted: no manifest
        ".dangjian-20200104T000000Z.partial-99": False,
        "copied-by-hand": True,
    }
    for name, complete in earlier.items():
        (backups / name).mkdir(parents=True)
        if complete:
            (backups / name / "manifest.json").write_text("{}")

    finished = run(
        [str(ROOT / "bin" / "backup"), "--keep", "2"],
        database=database_url(connection.settings_dict),
        media_root=tmp_path / "media",
        var_dir=tmp_path / "var",
    )

    assert finished.returncode == 0, finished.stderr
    left = {path.name for path in backups.iterdir()}
    (new,) = left - set(earlier)
    assert (backups / new / "manifest.json").is_file()
    assert left == {new, *earlier} - {"dangjian-20200101T000000Z"}
    assert "removed the older archive" in finished.stdout


def test_uploads_in_a_bucket_are_named_as_not_in_the_archive(
    django_db_setup: None, tmp_path: Path
) -> None:
    """With MEDIA_S3_BUCKET the archive holds the database; it says where the files are."""
    finished = run(
        [str(ROOT / "bin" / "backup"), "--output", str(tmp_path / "archive")],
        database=database_url(connection.settings_dict),
        media_root=tmp_path / "media",
        var_dir=tmp_path / "var",
        more={"MEDIA_S3_BUCKET": "dangjian-media", "MEDIA_S3_PREFIX": "uploads"},
    )

    assert finished.returncode == 0, finished.stderr
    assert manifest_of(tmp_path / "archive")["media_elsewhere"] == "s3://dangjian-media/uploads"
    assert "s3://dangjian-media/uploads, NOT in this archive" in finished.stdout
