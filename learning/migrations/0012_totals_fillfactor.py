"""Room on each page of the totals that every award updates, for in-place (HOT) updates.

An award updates a member's rule-day row and six branch rows; none of the columns it
changes there is indexed, so PostgreSQL can write the new row version on the same page
without touching any index, but only while the page has room. A fill factor of 80
leaves a fifth of every page free for that. ``MemberPeriodPoints`` is left alone: its
``points`` column is indexed (top-member lists), so its updates write every index anyway.
PostgreSQL only: SQLite updates rows in place.
"""

from django.db import migrations

TABLES = ("learning_memberruledaypoints", "learning_branchperiodtotal")


def set_fillfactor(apps, schema_editor, value="80"):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"ALTER TABLE {table} SET (fillfactor = {value})")


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"ALTER TABLE {table} RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [
        ("learning", "0011_branch_list_version"),
    ]

    operations = [
        migrations.RunPython(set_fillfactor, reset_fillfactor),
    ]
