"""Imported members get passwords of their own: nobody can log in as a colleague.

The attack (issue 11, finding 3): imported members used to share one initial password,
so any of them could log in to every colleague who had not yet changed it — a lockout
cannot stop a right password tried once per account.
"""

from __future__ import annotations

import base64
import io
import re
import stat

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import get_hasher, identify_hasher
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from openpyxl import load_workbook

from learning.people.hashers import InitialPasswordHasher
from learning.people.member_import import generate_initial_password, members_import
from tests.factories.sheets import members_xlsx

pytestmark = pytest.mark.django_db

ROWS = [
    ["liufang", "刘芳", "13800000011", "ZB1"],
    ["chenjie", "陈杰", "", "ZB1"],
    ["sunli", "孙丽", "", "ZB2"],
]


def _login(client, username: str, password: str) -> bool:
    response = client.post(reverse("login"), {"username": username, "password": password})
    return response.status_code == 302


def test_each_imported_member_has_their_own_password_and_no_other_works(client, tree):
    result = members_import(file=io.BytesIO(members_xlsx(ROWS)))
    assert result.ok, result.problems
    passwords = {credential.username: credential.password for credential in result.credentials}
    assert set(passwords) == {"liufang", "chenjie", "sunli"}
    assert len(set(passwords.values())) == 3
    # The attack: an imported member tries their own initial password on every colleague.
    for username in passwords:
        for other, password in passwords.items():
            if other != username:
                assert not _login(client, username, password)
    for username, password in passwords.items():
        assert _login(client, username, password)
        client.logout()


def test_initial_passwords_are_readable_random_and_accepted_by_the_validators():
    from django.contrib.auth.password_validation import validate_password

    seen = {generate_initial_password() for _ in range(200)}
    assert len(seen) == 200
    for password in list(seen)[:20]:
        assert re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", password)
        assert not set(password) & set("01ilo")
        validate_password(password)


def test_an_initial_password_is_hashed_cheaply_and_rehashed_when_first_used(client, tree):
    result = members_import(file=io.BytesIO(members_xlsx(ROWS[:1])))
    member = get_user_model().objects.get(username="liufang")
    assert member.password.startswith(InitialPasswordHasher.algorithm + "$")
    assert _login(client, "liufang", result.credentials[0].password)
    member.refresh_from_db()
    # Re-hashed with the first hasher of PASSWORD_HASHERS (the default one) once used.
    assert identify_hasher(member.password).algorithm == get_hasher().algorithm
    assert member.check_password(result.credentials[0].password)
    assert member.must_change_password


def test_the_import_page_shows_each_password_once_and_as_a_sheet(client, secretary_a, tree):
    client.force_login(secretary_a)
    form = client.get(reverse("learning_member_import")).content.decode()
    assert 'name="initial_password"' not in form
    upload = SimpleUploadedFile("m.xlsx", members_xlsx(ROWS))
    response = client.post(reverse("learning_member_import"), {"file": upload})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    credentials = response.context["result"].credentials
    page = response.content.decode()
    for credential in credentials:
        assert credential.password in page
    href = re.search(r'href="data:[^;]+;base64,([^"]+)"', page)
    assert href is not None
    sheet = load_workbook(io.BytesIO(base64.b64decode(href.group(1)))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "用户名"
    assert {(row[0], row[3]) for row in rows[1:]} == {
        (credential.username, credential.password) for credential in credentials
    }


def test_the_command_writes_the_passwords_to_a_private_sheet(tree, tmp_path, capsys):
    source = tmp_path / "members.xlsx"
    source.write_bytes(members_xlsx(ROWS))
    out = tmp_path / "passwords.xlsx"
    call_command("import_members", str(source), "--credentials", str(out))
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    rows = list(load_workbook(out).active.iter_rows(values_only=True))[1:]
    assert {row[0] for row in rows} == {"liufang", "chenjie", "sunli"}
    member = get_user_model().objects.get(username="sunli")
    password = next(row[3] for row in rows if row[0] == "sunli")
    assert member.check_password(password)
    assert password not in capsys.readouterr().out
