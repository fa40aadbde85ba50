"""Bulk member import from an ``.xlsx`` sheet.

The sheet has a header row with the columns 用户名, 姓名, 手机, 组织编码 (English
headers are accepted too). Every row is checked — format first, then against the
database — before anything is written; one bad cell means nothing is imported, and
each problem names its row and column so the sheet can be fixed and uploaded again.

Secretaries can import, so the file is read within ``SHEET_LIMITS`` (see
``learning.common.sheets``): the upload at most ``MAX_UPLOAD_BYTES``, the archive
and its XML bounded before openpyxl opens it, each cell at most the length its field
allows, and a time budget.
"""

from __future__ import annotations

import re
import secrets
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from learning.common import sheets
from learning.common.sheets import (
    SheetError,
    SheetLimits,
    column_name,
    header_positions,
    xlsx_rows,
)
from learning.common.spreadsheets import sheet_add, sheet_append, workbook_bytes, workbook_new
from learning.common.text import excerpt, text_problem
from learning.models import PHONE_PATTERN, Member, Organization

COLUMN_USERNAME = "用户名"
COLUMN_NAME = "姓名"
COLUMN_PHONE = "手机"
COLUMN_ORGANIZATION = "组织编码"
COLUMNS = [COLUMN_USERNAME, COLUMN_NAME, COLUMN_PHONE, COLUMN_ORGANIZATION]
REQUIRED_COLUMNS = [COLUMN_USERNAME, COLUMN_NAME, COLUMN_ORGANIZATION]
HEADER_ALIASES = {
    "用户名": COLUMN_USERNAME,
    "username": COLUMN_USERNAME,
    "姓名": COLUMN_NAME,
    "name": COLUMN_NAME,
    "手机": COLUMN_PHONE,
    "手机号": COLUMN_PHONE,
    "phone": COLUMN_PHONE,
    "mobile": COLUMN_PHONE,
    "组织编码": COLUMN_ORGANIZATION,
    "organization code": COLUMN_ORGANIZATION,
    "organisation code": COLUMN_ORGANIZATION,
}
MAX_ROWS = 20_000
MAX_PROBLEMS = 1_000
MAX_UPLOAD_BYTES = sheets.MAX_UPLOAD_BYTES
# The model's field lengths (Member.username, display_name; Organization.code).
MAX_USERNAME_LENGTH = 150
MAX_NAME_LENGTH = 100
MAX_CODE_LENGTH = 40
# Blank rows between members are fine, up to twice as many rows as members. A member
# sheet is small (20,000 members are about 4 MB of XML), and secretaries may import: its
# parts, its text and its time are bounded tighter than a question sheet's.
SHEET_LIMITS = SheetLimits(
    max_rows=2 * MAX_ROWS + 1,
    max_columns=32,
    max_total_chars=5_000_000,
    max_seconds=10,
    max_part_bytes=8 * sheets.MiB,
    max_archive_bytes=16 * sheets.MiB,
)
_username_validator = UnicodeUsernameValidator()


@dataclass(frozen=True)
class ImportProblem:
    """One thing wrong with the file: its row (1-based, as Excel shows it) and column."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        if self.row == 0:
            return self.message
        return _("Row %(row)d, column %(column)s: %(message)s") % {
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }


@dataclass(frozen=True)
class MemberRow:
    row: int
    username: str
    display_name: str
    phone: str | None
    organization_code: str


@dataclass(frozen=True)
class InitialCredential:
    """An imported member's generated initial password, shown to the importer once."""

    username: str
    display_name: str
    organization_code: str
    password: str


@dataclass
class MemberImportResult:
    rows: list[MemberRow] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    created: int = 0
    dry_run: bool = False
    # One password shared by every imported member (only when the importer chose one).
    initial_password: str = ""
    # Otherwise each member's own generated password, in the sheet's order.
    credentials: list[InitialCredential] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _cell_text(value: Any) -> str:
    """A cell as text: numbers typed into Excel (phone numbers) lose their ``.0``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_member_rows(rows: Iterable[Sequence[Any]]) -> tuple[list[MemberRow], list[ImportProblem]]:
    """Check the header and every cell's format. Pure: no database access.

    A ``SheetError`` from ``rows`` (a bound of the file crossed) is the last problem,
    named by its row and column.
    """
    iterator = iter(rows)
    try:
        header = next(iterator, None)
    except SheetError as error:
        return [], [ImportProblem(error.row, column_name(error.column, {}), error.message)]
    if header is None:
        return [], [ImportProblem(0, "", _("The file is empty."))]
    positions = header_positions(header, HEADER_ALIASES, lambda title: _cell_text(title).lower())
    missing = [column for column in REQUIRED_COLUMNS if column not in positions]
    if missing:
        message = _("The header row is missing the column(s): %(columns)s.") % {
            "columns": "、".join(missing)
        }
        return [], [ImportProblem(1, "、".join(missing), message)]

    parsed: list[MemberRow] = []
    problems: list[ImportProblem] = []
    try:
        _parse_body(iterator, positions, parsed, problems)
    except SheetError as error:
        problems.append(
            ImportProblem(error.row, column_name(error.column, positions), error.message)
        )
    if not parsed and not problems:
        problems.append(ImportProblem(0, "", _("The file has no member rows.")))
    return parsed, problems


def _parse_body(
    iterator: Iterator[Sequence[Any]],
    positions: dict[str, int],
    parsed: list[MemberRow],
    problems: list[ImportProblem],
) -> None:
    for row_number, values in enumerate(iterator, start=2):
        cells = {
            column: _cell_text(values[index]) if index < len(values) else ""
            for column, index in positions.items()
        }
        if not any(cells.values()):
            continue
        if len(parsed) >= MAX_ROWS:
            problems.append(
                ImportProblem(
                    row_number,
                    "",
                    _("Too many rows: at most %(max)d per file.") % {"max": MAX_ROWS},
                )
            )
            return
        if len(problems) >= MAX_PROBLEMS:
            problems.append(
                ImportProblem(
                    row_number,
                    "",
                    _(
                        "Too many problems: reading stopped here after the first %(max)d. "
                        "Fix them and upload the file again."
                    )
                    % {"max": MAX_PROBLEMS},
                )
            )
            return
        row_problems = _check_cells(row_number, cells)
        problems.extend(row_problems)
        if not row_problems:
            parsed.append(
                MemberRow(
                    row=row_number,
                    username=cells[COLUMN_USERNAME],
                    display_name=cells[COLUMN_NAME],
                    phone=cells.get(COLUMN_PHONE) or None,
                    organization_code=cells[COLUMN_ORGANIZATION],
                )
            )


def _check_cells(row: int, cells: dict[str, str]) -> list[ImportProblem]:
    problems = []
    for column, value in cells.items():
        message = text_problem(value)
        if message is not None:
            problems.append(ImportProblem(row, column, message))
    if problems:
        return problems
    username = cells[COLUMN_USERNAME]
    if not username:
        problems.append(ImportProblem(row, COLUMN_USERNAME, _("The username is empty.")))
    elif len(username) > MAX_USERNAME_LENGTH:
        problems.append(
            ImportProblem(row, COLUMN_USERNAME, _("The username is longer than 150 characters."))
        )
    else:
        try:
            _username_validator(username)
        except ValidationError:
            problems.append(
                ImportProblem(
                    row,
                    COLUMN_USERNAME,
                    _("The username may contain only letters, digits and @ . + - _ characters."),
                )
            )
    name = cells[COLUMN_NAME]
    if not name:
        problems.append(ImportProblem(row, COLUMN_NAME, _("The name is empty.")))
    elif len(name) > MAX_NAME_LENGTH:
        problems.append(
            ImportProblem(row, COLUMN_NAME, _("The name is longer than 100 characters."))
        )
    phone = cells.get(COLUMN_PHONE, "")
    if phone and not re.fullmatch(PHONE_PATTERN, phone):
        problems.append(
            ImportProblem(
                row,
                COLUMN_PHONE,
                _("“%(phone)s” is not an 11-digit mainland mobile number.")
                % {"phone": excerpt(phone)},
            )
        )
    code = cells[COLUMN_ORGANIZATION]
    if not code:
        problems.append(
            ImportProblem(row, COLUMN_ORGANIZATION, _("The organisation code is empty."))
        )
    elif len(code) > MAX_CODE_LENGTH:
        problems.append(
            ImportProblem(
                row,
                COLUMN_ORGANIZATION,
                _("The organisation code “%(code)s” is longer than %(max)d characters.")
                % {"code": excerpt(code), "max": MAX_CODE_LENGTH},
            )
        )
    return problems


def check_member_rows_against_database(
    rows: list[MemberRow], *, allowed_organizations: Iterable[Organization] | None = None
) -> list[ImportProblem]:
    """Duplicates inside the file, names already taken, unknown or foreign organisations."""
    problems: list[ImportProblem] = []
    username_counts = Counter(row.username.lower() for row in rows)
    phone_counts = Counter(row.phone for row in rows if row.phone)
    taken_usernames = {
        name.lower()
        for name in Member.objects.filter(username__in=[row.username for row in rows]).values_list(
            "username", flat=True
        )
    }
    taken_phones = set(
        Member.objects.filter(phone__in=[row.phone for row in rows if row.phone]).values_list(
            "phone", flat=True
        )
    )
    organizations = {
        organization.code: organization
        for organization in Organization.objects.filter(
            code__in={row.organization_code for row in rows}
        )
    }
    allowed_ids = (
        None
        if allowed_organizations is None
        else {organization.pk for organization in allowed_organizations}
    )
    for row in rows:
        if username_counts[row.username.lower()] > 1:
            problems.append(
                ImportProblem(
                    row.row,
                    COLUMN_USERNAME,
                    _("The username “%(username)s” appears more than once in the file.")
                    % {"username": row.username},
                )
            )
        elif row.username.lower() in taken_usernames:
            problems.append(
                ImportProblem(
                    row.row,
                    COLUMN_USERNAME,
                    _("The username “%(username)s” is already taken.") % {"username": row.username},
                )
            )
        if row.phone and phone_counts[row.phone] > 1:
            problems.append(
                ImportProblem(
                    row.row,
                    COLUMN_PHONE,
                    _("The mobile number %(phone)s appears more than once in the file.")
                    % {"phone": row.phone},
                )
            )
        elif row.phone in taken_phones:
            problems.append(
                ImportProblem(
                    row.row,
                    COLUMN_PHONE,
                    _("The mobile number %(phone)s already belongs to another member.")
                    % {"phone": row.phone},
                )
            )
        organization = organizations.get(row.organization_code)
        if organization is None:
            problems.append(
                ImportProblem(
                    row.row,
                    COLUMN_ORGANIZATION,
                    _("There is no organisation with the code “%(code)s”.")
                    % {"code": row.organization_code},
                )
            )
        elif not organization.is_active:
            problems.append(
                ImportProblem(
                    row.row,
                    COLUMN_ORGANIZATION,
                    _("The organisation “%(code)s” is no longer active.")
                    % {"code": row.organization_code},
                )
            )
        elif allowed_ids is not None and organization.pk not in allowed_ids:
            problems.append(
                ImportProblem(
                    row.row,
                    COLUMN_ORGANIZATION,
                    _("You may not add members to the organisation “%(code)s”.")
                    % {"code": row.organization_code},
                )
            )
    return problems


def read_xlsx_rows(file: IO[bytes]) -> Iterator[tuple[Any, ...]]:
    """The first sheet's rows, read as they are asked for, within ``SHEET_LIMITS``.

    At most ``MAX_UPLOAD_BYTES`` are read from ``file``; crossing a bound (or a file that
    is not a readable .xlsx) raises ``SheetError`` from the iteration.
    """
    data = file.read(SHEET_LIMITS.max_file_bytes + 1)
    return xlsx_rows(data, limits=SHEET_LIMITS)


# Lower-case letters and digits that cannot be mistaken for one another (no 0/o, 1/l/i).
READABLE_CHARACTERS = "abcdefghjkmnpqrstuvwxyz23456789"
INITIAL_PASSWORD_GROUPS = 3
INITIAL_PASSWORD_GROUP_LENGTH = 4


def generate_initial_password() -> str:
    """A random initial password such as ``k7mq-x2pw-9rtd``: about 59 bits, easy to read
    out and type on a phone, and accepted by Django's validators (it has a digit and a
    letter). Members must replace it at their first login."""
    while True:
        groups = [
            "".join(
                secrets.choice(READABLE_CHARACTERS)
                for _index in range(INITIAL_PASSWORD_GROUP_LENGTH)
            )
            for _group in range(INITIAL_PASSWORD_GROUPS)
        ]
        candidate = "-".join(groups)
        if any(c.isdigit() for c in candidate) and any(c.isalpha() for c in candidate):
            return candidate


def members_import(
    *,
    file: IO[bytes],
    initial_password: str | None = None,
    created_by: Member | None = None,
    allowed_organizations: Iterable[Organization] | None = None,
    dry_run: bool = False,
) -> MemberImportResult:
    """Validate the whole sheet, then create every member in one transaction (or none).

    Imported members get the ``member`` role and their organisation from the row. Each
    gets an initial password of their own, generated at random (``result.credentials``,
    to be handed out once), so that no imported member can log in as a colleague; only
    an explicit ``initial_password`` is shared by all of them. Either way they must
    change it at their first login.
    """
    result = MemberImportResult(dry_run=dry_run)
    raw_rows = read_xlsx_rows(file)
    try:
        parsed, problems = parse_member_rows(raw_rows)
    finally:
        raw_rows.close()
    if any(problem.row == 0 for problem in problems):
        # The file itself could not be read: nothing to check against the database.
        result.problems = problems
        return result
    problems += check_member_rows_against_database(
        parsed, allowed_organizations=allowed_organizations
    )
    if initial_password:
        try:
            validate_password(initial_password)
        except ValidationError as error:
            problems.append(
                ImportProblem(
                    0, "", _("Initial password: %(error)s") % {"error": " ".join(error.messages)}
                )
            )
    result.rows = parsed
    result.problems = sorted(problems, key=lambda problem: (problem.row, problem.column))
    if result.problems or dry_run:
        return result

    from learning.people import services

    organizations = {
        organization.code: organization
        for organization in Organization.objects.filter(
            code__in={row.organization_code for row in parsed}
        )
    }
    own = {} if initial_password else {row.username: generate_initial_password() for row in parsed}
    services.members_bulk_create(
        people=[
            services.NewMember(
                username=row.username,
                display_name=row.display_name,
                phone=row.phone,
                organization=organizations[row.organization_code],
                password=own.get(row.username, ""),
            )
            for row in parsed
        ],
        password=initial_password or "",
        must_change_password=True,
        created_by=created_by,
    )
    result.created = len(parsed)
    if initial_password:
        result.initial_password = initial_password
    else:
        result.credentials = [
            InitialCredential(
                username=row.username,
                display_name=row.display_name,
                organization_code=row.organization_code,
                password=own[row.username],
            )
            for row in parsed
        ]
    return result


CREDENTIAL_COLUMNS = [COLUMN_USERNAME, COLUMN_NAME, COLUMN_ORGANIZATION]


def initial_credentials_xlsx(credentials: Sequence[InitialCredential]) -> bytes:
    """The imported members' initial passwords as a sheet, to print or hand out once."""
    workbook, sheet = workbook_new(_("Initial passwords"))
    sheet_append(sheet, [*CREDENTIAL_COLUMNS, _("Initial password")])
    for credential in credentials:
        sheet_append(
            sheet,
            [
                credential.username,
                credential.display_name,
                credential.organization_code,
                credential.password,
            ],
        )
    return workbook_bytes(workbook)


def member_import_template() -> bytes:
    """A blank import sheet with the header, an example row and instructions."""
    from openpyxl.styles import Font, PatternFill

    workbook, sheet = workbook_new("党员")
    sheet_append(sheet, COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="FDECEA")
    sheet_append(sheet, ["zhangsan", "张三", "13800138000", "DW01-ZB01"])
    for column, width in zip("ABCD", (18, 14, 16, 18), strict=True):
        sheet.column_dimensions[column].width = width
    # Phone numbers as text, so Excel keeps all 11 digits.
    for row in sheet.iter_rows(min_row=2, max_row=2000, min_col=3, max_col=3):
        for cell in row:
            cell.number_format = "@"
    notes = sheet_add(workbook, "填写说明")
    for line in [
        "每行一名党员，第一行是表头，请勿修改表头。示例行（张三）导入前请删除。",
        "用户名：必填，登录用，只能包含字母、数字和 @ . + - _，不可与已有账号重复。",
        "姓名：必填，最多 100 个字。",
        "手机：选填，11 位大陆手机号，可用于登录，不可重复。",
        "组织编码：必填，党员所在组织的编码（在后台“组织”列表中查看）。",
        "任何一行有错误时，整个文件都不会导入；请按提示的行号和列名修改后重新上传。",
        "每个导入的账号都有自己的初始密码，导入后在页面上下载名单分发；党员首次登录时必须修改密码。",
    ]:
        sheet_append(notes, [line])
    notes.column_dimensions["A"].width = 90
    return workbook_bytes(workbook)
