"""Faster award and ranking paths for the points ledger.

- ``OrganizationHeadcount``: each organisation's members counting every change, with the
  branch it counts for (filled from ``HeadcountChange`` and the current tree).
- ``MemberYearBranches``: how many branches each member earned in per year and ever
  (filled from the year and all-time rows of ``MemberPeriodPoints``).
- ``MemberRuleDayPoints.last_change``: what the latest award added (the one-statement
  award on PostgreSQL reads its capped points back from it).
- ``MemberPeriodPoints`` gets the (period, start, points) index for top-member lists, its
  unique key becomes (member, period, start, branch), and it loses the foreign-key
  indexes that other indexes already cover; so do
  ``MemberRuleDayPoints.member`` and ``PointsEntry.member``/``branch``: every award writes
  every index of these tables.

The column and the dropped indexes are plain SQL that both databases understand, so SQLite
changes those tables in place instead of copying them (millions of rows on a large site);
only the new unique key makes it copy ``MemberPeriodPoints``.
"""

from collections import defaultdict

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

STEPLEN = 4  # treebeard's path step for Organization
ALL_TIME_START = "2000-01-01"

# (table, column) whose own foreign-key index goes; another index starts with the column.
COVERED_FOREIGN_KEYS = [
    ("learning_memberperiodpoints", "member_id"),
    ("learning_memberperiodpoints", "branch_id"),
    ("learning_memberruledaypoints", "member_id"),
    ("learning_pointsentry", "member_id"),
    ("learning_pointsentry", "branch_id"),
]


def drop_covered_foreign_key_indexes(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        for table, column in COVERED_FOREIGN_KEYS:
            constraints = connection.introspection.get_constraints(cursor, table)
            for name, details in constraints.items():
                if (
                    details["index"]
                    and not details["unique"]
                    and not details["primary_key"]
                    and details["columns"] == [column]
                ):
                    schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")


def create_foreign_key_indexes(apps, schema_editor):
    for table, column in COVERED_FOREIGN_KEYS:
        name = schema_editor._create_index_name(table, [column])
        schema_editor.execute(
            f"CREATE INDEX {schema_editor.quote_name(name)}"
            f" ON {schema_editor.quote_name(table)} ({schema_editor.quote_name(column)})"
        )


def backfill_organization_headcounts(apps, schema_editor):
    Organization = apps.get_model("learning", "Organization")
    HeadcountChange = apps.get_model("learning", "HeadcountChange")
    OrganizationHeadcount = apps.get_model("learning", "OrganizationHeadcount")
    totals = defaultdict(int)
    for organization_id, delta in HeadcountChange.objects.values_list("organization_id", "delta"):
        totals[organization_id] += delta
    paths = dict(Organization.objects.values_list("id", "path"))
    branch_by_path = dict(Organization.objects.filter(kind="branch").values_list("path", "id"))

    def branch_of(path):
        for end in range(len(path), 0, -STEPLEN):
            if path[:end] in branch_by_path:
                return branch_by_path[path[:end]]
        return None

    OrganizationHeadcount.objects.bulk_create(
        [
            OrganizationHeadcount(
                organization_id=organization_id,
                branch_id=branch_of(paths[organization_id]),
                members=members,
            )
            for organization_id, members in sorted(totals.items())
        ],
        batch_size=500,
    )


def backfill_member_year_branches(apps, schema_editor):
    quote = schema_editor.quote_name
    schema_editor.execute(
        f"INSERT INTO {quote('learning_memberyearbranches')} (member_id, start, branches)"
        f" SELECT member_id, start, COUNT(*) FROM {quote('learning_memberperiodpoints')}"
        " WHERE period IN ('year', 'all') GROUP BY member_id, start"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("learning", "0009_assignments"),
    ]

    operations = [
        migrations.CreateModel(
            name="OrganizationHeadcount",
            fields=[
                (
                    "organization",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="learning.organization",
                    ),
                ),
                ("members", models.IntegerField(default=0)),
                (
                    "branch",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="learning.organization",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="MemberYearBranches",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("start", models.DateField()),
                ("branches", models.IntegerField(default=1)),
                (
                    "member",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["start", "branches"], name="member_year_branches_idx")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("member", "start"), name="member_year_branches_unique"
                    )
                ],
            },
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE learning_memberruledaypoints"
                    " ADD COLUMN last_change integer DEFAULT 0 NOT NULL",
                    "ALTER TABLE learning_memberruledaypoints DROP COLUMN last_change",
                ),
                migrations.RunPython(
                    drop_covered_foreign_key_indexes, create_foreign_key_indexes
                ),
            ],
            state_operations=[
                migrations.AddField(
                    model_name="memberruledaypoints",
                    name="last_change",
                    field=models.IntegerField(db_default=0, default=0),
                ),
                migrations.AlterField(
                    model_name="memberperiodpoints",
                    name="branch",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="learning.organization",
                    ),
                ),
                migrations.AlterField(
                    model_name="memberperiodpoints",
                    name="member",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="memberruledaypoints",
                    name="member",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                migrations.AlterField(
                    model_name="pointsentry",
                    name="branch",
                    field=models.ForeignKey(
                        db_index=False,
                        help_text="The branch the points count for in rankings, fixed at the moment.",
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="learning.organization",
                        verbose_name="branch",
                    ),
                ),
                migrations.AlterField(
                    model_name="pointsentry",
                    name="member",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="points_entries",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="member",
                    ),
                ),
            ],
        ),
        # Member first, then the period: "this member's points in a period" is one probe.
        migrations.RemoveConstraint(
            model_name="memberperiodpoints", name="member_period_points_unique"
        ),
        migrations.AddConstraint(
            model_name="memberperiodpoints",
            constraint=models.UniqueConstraint(
                fields=("member", "period", "start", "branch"),
                name="member_period_points_unique",
            ),
        ),
        migrations.AddIndex(
            model_name="memberperiodpoints",
            index=models.Index(fields=["period", "start", "points"], name="member_period_top_idx"),
        ),
        migrations.RunPython(backfill_organization_headcounts, migrations.RunPython.noop),
        migrations.RunPython(backfill_member_year_branches, migrations.RunPython.noop),
    ]
