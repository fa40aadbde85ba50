"""The demo organisation with ~600 members, created by ``manage.py seed_demo``.

Creates, once, the fictional committee of ``demo/data/*.csv`` (read by
``demo.people_data``): 4 general branches, 20 branches of very different sizes, a few
party groups, about 600 members with realistic Chinese names, one login per role, and an
introduction on the home page. Passwords are random unless ``--password`` is given, and are
printed only once. Running it again changes nothing.
"""

from __future__ import annotations

import datetime
import itertools
import random
from dataclasses import dataclass, field

from django.utils import timezone

from demo import people_data
from demo.people_data import BranchPlan, DemoAccount
from learning.models import Member, Organization
from learning.people import services
from learning.people.member_import import generate_initial_password

DAYS_PER_YEAR = 365


class DemoSeedError(Exception):
    """The demo cannot be created without touching somebody's own data."""


@dataclass(frozen=True)
class DemoPasswords:
    """The password of each demo account, and the one all ordinary members share."""

    accounts: dict[str, str]
    ordinary_members: str


@dataclass
class PlannedMember:
    username: str
    display_name: str
    phone: str | None
    organization: Organization
    party_joined_on: datetime.date
    joined_on: datetime.date


@dataclass
class SeedSummary:
    general_branches: int = 0
    branches: int = 0
    groups: int = 0
    ordinary_usernames: list[str] = field(default_factory=list)
    created_accounts: list[DemoAccount] = field(default_factory=list)
    account_phones: dict[str, str] = field(default_factory=dict)
    skipped_accounts: list[DemoAccount] = field(default_factory=list)


def demo_passwords(explicit: str | None) -> DemoPasswords:
    """``explicit`` for every account (CI, tests), otherwise a fresh random one each."""
    usernames = [account.username for account in people_data.DEMO_ACCOUNTS]
    if explicit is not None:
        return DemoPasswords(dict.fromkeys(usernames, explicit), explicit)
    return DemoPasswords(
        {username: generate_initial_password() for username in usernames},
        generate_initial_password(),
    )


class PersonNames:
    """Deterministic, realistic and distinct Chinese names drawn from ``rng``."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.family_names = [name for name, _weight in people_data.FAMILY_NAMES]
        self.cumulative_weights = list(
            itertools.accumulate(weight for _name, weight in people_data.FAMILY_NAMES)
        )
        self.minority_names = list(people_data.MINORITY_NAMES)
        self.used: set[str] = set()

    def next(self, *, older_generation: bool = False) -> str:
        if self.minority_names and self.rng.random() < people_data.MINORITY_NAME_SHARE:
            name = self.minority_names.pop(0)
            self.used.add(name)
            return name
        # Real rosters repeat names now and then; a demo reads better without repeats.
        for _attempt in range(50):
            name = self._family_and_given(older_generation=older_generation)
            if name not in self.used:
                break
        self.used.add(name)
        return name

    def _family_and_given(self, *, older_generation: bool) -> str:
        family = self.rng.choices(self.family_names, cum_weights=self.cumulative_weights)[0]
        generation = "traditional" if older_generation and self.rng.random() < 0.7 else "modern"
        sex = self.rng.choice(("male", "female"))
        characters = people_data.GIVEN_NAME_CHARACTERS[generation, sex]
        length = 1 if self.rng.random() < people_data.SINGLE_CHARACTER_GIVEN_NAME_SHARE else 2
        return family + "".join(self.rng.choice(characters) for _index in range(length))


class PhoneNumbers:
    """Deterministic, distinct mainland mobile numbers (13x, 15x, 18x)."""

    def __init__(self, rng: random.Random, reserved: set[str]) -> None:
        self.rng = rng
        self.used = set(reserved)

    def next(self) -> str:
        while True:
            number = (
                self.rng.choice(people_data.PHONE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            )
            if number not in self.used:
                self.used.add(number)
                return number


def _membership_dates(
    rng: random.Random, *, today: datetime.date, retired: bool
) -> tuple[datetime.date, datetime.date]:
    """(joined the party, joined this organisation), the second never before the first."""
    if retired:
        party_days_ago = rng.randint(35 * DAYS_PER_YEAR, 60 * DAYS_PER_YEAR)
        joined_days_ago = rng.randint(DAYS_PER_YEAR, 15 * DAYS_PER_YEAR)
    else:
        party_days_ago = rng.randint(DAYS_PER_YEAR, 35 * DAYS_PER_YEAR)
        joined_days_ago = rng.randint(30, min(party_days_ago, 20 * DAYS_PER_YEAR))
    return (
        today - datetime.timedelta(days=party_days_ago),
        today - datetime.timedelta(days=joined_days_ago),
    )


def _organizations_create() -> tuple[
    dict[str, Organization], dict[str, Organization], dict[str, list[Organization]]
]:
    """The tree, through the service: general branches and branches by short code, groups."""
    committee = services.organization_create(
        name=people_data.COMMITTEE_NAME,
        code=people_data.COMMITTEE_CODE,
        kind=Organization.Kind.COMMITTEE,
    )
    general_branches: dict[str, Organization] = {}
    branches: dict[str, Organization] = {}
    groups: dict[str, list[Organization]] = {}
    for general_order, general_plan in enumerate(people_data.GENERAL_BRANCHES, start=1):
        general_branch = services.organization_create(
            name=general_plan.name,
            code=f"{committee.code}-{general_plan.code}",
            kind=Organization.Kind.GENERAL_BRANCH,
            parent=committee,
            sort_order=general_order,
        )
        general_branches[general_plan.code] = general_branch
        for branch_order, branch_plan in enumerate(general_plan.branches, start=1):
            branch = services.organization_create(
                name=branch_plan.name,
                code=f"{general_branch.code}-{branch_plan.code}",
                kind=Organization.Kind.BRANCH,
                parent=general_branch,
                sort_order=branch_order,
            )
            branches[branch_plan.code] = branch
            groups[branch_plan.code] = [
                services.organization_create(
                    name=group_name,
                    code=f"{branch.code}-XZ{group_order:02d}",
                    kind=Organization.Kind.GROUP,
                    parent=branch,
                    sort_order=group_order,
                )
                for group_order, group_name in enumerate(branch_plan.groups, start=1)
            ]
    return general_branches, branches, groups


def _branch_plans() -> list[BranchPlan]:
    return [branch for general in people_data.GENERAL_BRANCHES for branch in general.branches]


def _plan_ordinary_members(
    *,
    rng: random.Random,
    today: datetime.date,
    branches: dict[str, Organization],
    groups: dict[str, list[Organization]],
    reserved_phones: set[str],
) -> list[PlannedMember]:
    """Fill every branch up to its planned size (the demo accounts take a seat each)."""
    names = PersonNames(rng)
    phones = PhoneNumbers(rng, reserved_phones)
    seats_taken = {plan.code: 0 for plan in _branch_plans()}
    for account in people_data.DEMO_ACCOUNTS:
        seats_taken[account.branch_code] += 1
    planned: list[PlannedMember] = []
    for plan in _branch_plans():
        branch_groups = groups[plan.code]
        for seat in range(plan.size - seats_taken[plan.code]):
            organization = branches[plan.code]
            if branch_groups and seat >= people_data.BRANCH_COMMITTEE_SIZE:
                seat_in_groups = seat - people_data.BRANCH_COMMITTEE_SIZE
                organization = branch_groups[seat_in_groups % len(branch_groups)]
            party_joined_on, joined_on = _membership_dates(rng, today=today, retired=plan.retired)
            display_name = names.next(older_generation=plan.retired)
            phone = phones.next() if rng.random() < people_data.PHONE_SHARE else None
            planned.append(
                PlannedMember(
                    username=people_data.ORDINARY_USERNAME_FORMAT.format(len(planned) + 1),
                    display_name=display_name,
                    phone=phone,
                    organization=organization,
                    party_joined_on=party_joined_on,
                    joined_on=joined_on,
                )
            )
    return planned


def _ordinary_members_create(planned: list[PlannedMember], *, password: str) -> None:
    """Create the ordinary members in bulk: they share one password, hashed once."""
    services.members_bulk_create(
        people=[
            services.NewMember(
                username=person.username,
                display_name=person.display_name,
                phone=person.phone,
                organization=person.organization,
                party_joined_on=person.party_joined_on,
                joined_on=person.joined_on,
            )
            for person in planned
        ],
        password=password,
    )


def _demo_account_create(
    account: DemoAccount,
    *,
    password: str,
    phone: str | None,
    dates: tuple[datetime.date, datetime.date],
    branches: dict[str, Organization],
    general_branches: dict[str, Organization],
) -> Member:
    party_joined_on, joined_on = dates
    member = services.member_create(
        username=account.username,
        display_name=account.display_name,
        organization=branches[account.branch_code],
        phone=phone,
        password=password,
        party_joined_on=party_joined_on,
        joined_on=joined_on,
        role_names=list(account.role_names),
    )
    if account.superuser:
        # No service grants superuser status; this is the only account that gets it.
        member.is_superuser = True
        member.is_staff = True
        member.save(update_fields=["is_superuser", "is_staff"])
    if account.secretary_of:
        services.secretary_assign(
            member=member, organization=general_branches[account.secretary_of]
        )
    return member


def demo_seed(passwords: DemoPasswords) -> SeedSummary:
    """Create the whole demo organisation; call inside a transaction."""
    rng = random.Random(people_data.RANDOM_SEED)  # noqa: S311 - reproducible demo data, not secrets
    today = timezone.localdate()
    summary = SeedSummary()

    general_branches, branches, groups = _organizations_create()
    summary.general_branches = len(general_branches)
    summary.branches = len(branches)
    summary.groups = sum(len(branch_groups) for branch_groups in groups.values())

    # Draw the accounts' dates whether or not they are created, so the members after
    # them come out the same either way.
    account_dates = {
        account.username: _membership_dates(rng, today=today, retired=False)
        for account in people_data.DEMO_ACCOUNTS
    }
    account_usernames = [account.username for account in people_data.DEMO_ACCOUNTS]
    existing_usernames = set(
        Member.objects.filter(username__in=account_usernames).values_list("username", flat=True)
    )
    account_phones = {account.phone for account in people_data.DEMO_ACCOUNTS if account.phone}

    planned = _plan_ordinary_members(
        rng=rng, today=today, branches=branches, groups=groups, reserved_phones=account_phones
    )
    clashing = Member.objects.filter(username__in=[person.username for person in planned])
    if clashing.exists():
        raise DemoSeedError(
            f"Usernames reserved for demo members already exist "
            f"(e.g. {clashing.first().username}); nothing was created."
        )
    phones_in_use = set(
        Member.objects.filter(
            phone__in=account_phones | {person.phone for person in planned if person.phone}
        ).values_list("phone", flat=True)
    )
    for person in planned:
        if person.phone in phones_in_use:
            person.phone = None

    for account in people_data.DEMO_ACCOUNTS:
        if account.username in existing_usernames:
            # Somebody's own account (e.g. from createsuperuser): never touch it.
            summary.skipped_accounts.append(account)
            continue
        phone = None if account.phone in phones_in_use else account.phone
        if phone:
            summary.account_phones[account.username] = phone
        _demo_account_create(
            account,
            password=passwords.accounts[account.username],
            phone=phone,
            dates=account_dates[account.username],
            branches=branches,
            general_branches=general_branches,
        )
        summary.created_accounts.append(account)

    _ordinary_members_create(planned, password=passwords.ordinary_members)
    summary.ordinary_usernames = [person.username for person in planned]
    return summary
