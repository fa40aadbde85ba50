"""The archive that ``bin/backup`` writes and ``bin/restore`` reads (docs/backup.md).

An archive is one directory, ``dangjian-<UTC time>``, holding

* ``database.pgdump`` (``pg_dump --format=custom``) or ``database.sqlite3`` (a copy made
  with SQLite's online backup API);
* ``media.tar``: every regular file under ``MEDIA_ROOT``, uncompressed (uploads are images,
  PDFs and office files, compressed already; an uncompressed tar also cannot unpack to
  more bytes than it holds);
* ``manifest.json``, written last: when, from which code, which database and migrations,
  and the size and SHA-256 of each part.

``bin/backup`` builds it under a temporary name and renames it only when it is complete,
so a directory of that name with a manifest is a whole archive. ``bin/restore`` checks
every part against the manifest, and every name in the tar, before it changes anything.
The checksums catch a truncated copy or a flipped bit, not a forger who rewrites the
manifest too: keep archives where only the operators can write.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

FORMAT = "dangjian-backup/1"
MANIFEST_FILE = "manifest.json"
MEDIA_FILE = "media.tar"
DATABASE_FILES = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}
ARCHIVE_NAME = re.compile(r"dangjian-\d{8}T\d{6}Z")
# A manifest lists a few hundred migration names; anything much larger is not ours.
MANIFEST_MAX_BYTES = 2 * 1024 * 1024
# Names of skipped media files kept in the manifest (the count is always complete).
SKIPPED_LISTED = 100
_SHA256 = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1024 * 1024

# The DATABASES options libpq also reads from the environment, so that pg_dump and
# pg_restore connect exactly as the app does (sslmode=require in DATABASE_URL, say).
_LIBPQ_OPTIONS = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "options": "PGOPTIONS",
    "application_name": "PGAPPNAME",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
}


class ArchiveError(Exception):
    """A backup or restore that cannot go on; the message is for the operator."""


@dataclasses.dataclass(frozen=True)
class MediaSummary:
    files: int
    bytes: int
    skipped: list[str] = dataclasses.field(default_factory=list)


def vendor_of(database: dict[str, Any]) -> str:
    """``postgresql`` or ``sqlite`` for a Django DATABASES entry; refuse any other engine."""
    engine = str(database.get("ENGINE", ""))
    if engine.endswith("postgresql"):
        return "postgresql"
    if engine.endswith("sqlite3"):
        return "sqlite"
    raise ArchiveError(f"cannot back up or restore a database of engine {engine!r}")


def database_describe(database: dict[str, Any]) -> str:
    """The database in words for the operator, never with its password."""
    if vendor_of(database) == "sqlite":
        return f"SQLite database {database['NAME']}"
    host = database.get("HOST") or "the local socket"
    port = f":{database['PORT']}" if database.get("PORT") else ""
    return f"PostgreSQL database {database['NAME']!r} on {host}{port}"


def libpq_environment(database: dict[str, Any]) -> dict[str, str]:
    """Environment variables that make pg_dump / pg_restore connect as Django does.

    The password goes through the environment, not the command line, where any user of
    the machine could read it in the process list.
    """
    environment = {"PGDATABASE": str(database["NAME"])}
    for key, variable in (
        ("HOST", "PGHOST"),
        ("PORT", "PGPORT"),
        ("USER", "PGUSER"),
        ("PASSWORD", "PGPASSWORD"),
    ):
        if database.get(key):
            environment[variable] = str(database[key])
    for option, variable in _LIBPQ_OPTIONS.items():
        value = (database.get("OPTIONS") or {}).get(option)
        if value is not None:
            environment[variable] = str(value)
    return environment


def major_version(text: str) -> int:
    """The major version in ``pg_dump (PostgreSQL) 15.20`` or ``15.20 (Debian …)``."""
    found = re.search(r"(\d+)(?:\.\d+)*", text)
    if not found:
        raise ArchiveError(f"cannot read a version number from {text.strip()!r}")
    return int(found.group(1))


def file_digest(path: Path) -> str:
    """The SHA-256 of a file, read in chunks (dumps can be larger than memory)."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def part_describe(path: Path) -> dict[str, Any]:
    """A part's entry in the manifest: its file name, size and SHA-256."""
    return {"file": path.name, "bytes": path.stat().st_size, "sha256": file_digest(path)}


def file_sync(path: Path) -> None:
    """Flush a file (or a directory's entries) to disk before it is called complete."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def manifest_write(directory: Path, manifest: dict[str, Any]) -> None:
    path = directory / MANIFEST_FILE
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    file_sync(path)


def manifest_read(archive: Path) -> dict[str, Any]:
    """The manifest of ``archive``, checked for the shape ``bin/backup`` writes."""
    if not archive.is_dir():
        raise ArchiveError(f"{archive} is not a backup directory")
    path = archive / MANIFEST_FILE
    if not path.is_file():
        raise ArchiveError(
            f"{archive} has no {MANIFEST_FILE}: not a complete backup (an interrupted "
            "backup leaves none)"
        )
    if path.stat().st_size > MANIFEST_MAX_BYTES:
        raise ArchiveError(f"{path} is larger than any manifest bin/backup writes")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ArchiveError(f"{path} is not valid JSON ({error})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise ArchiveError(f"{path} is not a manifest of format {FORMAT}")
    vendor = (manifest.get("database") or {}).get("vendor")
    if vendor not in DATABASE_FILES:
        raise ArchiveError(f"{path}: unknown database vendor {vendor!r}")
    parts = manifest.get("parts")
    if not isinstance(parts, dict):
        raise ArchiveError(f"{path} lists no parts")
    for name, expected_file in (("database", DATABASE_FILES[vendor]), ("media", MEDIA_FILE)):
        part = parts.get(name)
        if (
            not isinstance(part, dict)
            or part.get("file") != expected_file
            or not isinstance(part.get("bytes"), int)
            or part["bytes"] < 0
            or not isinstance(part.get("sha256"), str)
            or not _SHA256.fullmatch(part["sha256"])
        ):
            raise ArchiveError(f"{path}: the {name} part is not described as bin/backup does")
    if not isinstance(parts["media"].get("files"), int):
        raise ArchiveError(f"{path}: the media part does not say how many files it holds")
    return manifest


def archive_verify(archive: Path, manifest: dict[str, Any]) -> None:
    """Refuse an archive whose parts differ from the manifest: sizes first, then SHA-256."""
    parts = [manifest["parts"]["database"], manifest["parts"]["media"]]
    for part in parts:
        path = archive / part["file"]
        if not path.is_file() or path.is_symlink():
            raise ArchiveError(f"{path} is missing: the archive is incomplete")
        size = path.stat().st_size
        if size != part["bytes"]:
            raise ArchiveError(
                f"{path} has {size} bytes, the manifest says {part['bytes']}: "
                "the archive is truncated or damaged"
            )
    for part in parts:
        path = archive / part["file"]
        if file_digest(path) != part["sha256"]:
            raise ArchiveError(
                f"{path} does not match its SHA-256 in the manifest: the archive is damaged "
                "or was changed"
            )


def media_pack(media_root: Path, tar_path: Path) -> MediaSummary:
    """Write every regular file under ``media_root`` to ``tar_path``, by relative name.

    Symbolic links and special files are left out (and listed): a restore refuses links,
    since one could point outside MEDIA_ROOT.
    """
    files = total = 0
    skipped: list[str] = []
    with tarfile.open(tar_path, "w", format=tarfile.PAX_FORMAT) as tar:
        for path, relative in _media_walk(media_root, skipped):
            info = tar.gettarinfo(str(path), arcname=relative)
            with path.open("rb") as stream:
                tar.addfile(info, stream)
            files += 1
            total += info.size
    file_sync(tar_path)
    return MediaSummary(files=files, bytes=total, skipped=skipped)


def _media_walk(media_root: Path, skipped: list[str]) -> Iterator[tuple[Path, str]]:
    if not media_root.is_dir():
        return
    for directory, subdirectories, names in os.walk(media_root):
        here = Path(directory)
        subdirectories.sort()
        for name in list(subdirectories):
            if (here / name).is_symlink():  # os.walk does not enter it; say so
                skipped.append((here / name).relative_to(media_root).as_posix())
        for name in sorted(names):
            path = here / name
            relative = path.relative_to(media_root).as_posix()
            if path.is_symlink() or not path.is_file():
                skipped.append(relative)
                continue
            yield path, relative


def media_check(tar_path: Path, destination: Path, *, expected_files: int) -> MediaSummary:
    """Refuse a tar that could write outside ``destination``, before anything is unpacked.

    Only regular files and directories with relative names that stay inside are
    accepted: no absolute name, no ``..``, no symbolic or hard link, no device, no sparse
    file. The standard library's ``data`` filter is applied to each member as well.
    """
    files = total = 0
    destination = destination.resolve()
    try:
        with tarfile.open(tar_path, "r:") as tar:
            for member in tar:
                problem = _member_problem(member, destination)
                if problem:
                    raise ArchiveError(
                        f"{tar_path}: member {member.name!r} {problem}; nothing was restored"
                    )
                if member.isfile():
                    files += 1
                    total += member.size
    except tarfile.TarError as error:
        raise ArchiveError(f"{tar_path} is not a readable tar ({error})") from None
    if files != expected_files:
        raise ArchiveError(f"{tar_path} holds {files} files, the manifest says {expected_files}")
    return MediaSummary(files=files, bytes=total)


def _member_problem(member: tarfile.TarInfo, destination: Path) -> str | None:
    name = PurePosixPath(member.name)
    if name.is_absolute() or member.name.startswith("/"):
        return "has an absolute path"
    if ".." in name.parts:
        return "climbs out of MEDIA_ROOT with '..'"
    if member.issym() or member.islnk():
        return "is a link"
    if not (member.isfile() or member.isdir()) or member.issparse():
        return "is not a regular file or directory"
    try:
        tarfile.data_filter(member, str(destination))
    except tarfile.FilterError as error:
        return f"is refused by the tar data filter ({error})"
    return None


def media_unpack(tar_path: Path, destination: Path) -> None:
    """Unpack a tar that ``media_check`` accepted, through the ``data`` filter again."""
    destination.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tar_path, "r:") as tar:
        tar.extractall(destination, filter="data")


def links_under(directory: Path) -> list[str]:
    """Symbolic links below ``directory``: unpacking over one could write outside it."""
    if not directory.is_dir():
        return []
    found = []
    for here, subdirectories, names in os.walk(directory):
        for name in [*subdirectories, *names]:
            path = Path(here) / name
            if path.is_symlink():
                found.append(path.relative_to(directory).as_posix())
    return sorted(found)
