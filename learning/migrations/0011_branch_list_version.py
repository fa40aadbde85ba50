"""The branch list's version: one row, changed by triggers on every write to the tables a
branch ranking reads besides the period's totals (organisations, headcounts, headcount
changes, leaderboard settings), so rankings can keep the branch list per process and
check this number instead of reading the list again (see ``learning.points.db``).
"""

from django.db import migrations, models


def install(apps, schema_editor):
    from learning.points.db import install_branch_list_version

    install_branch_list_version(schema_editor)


def uninstall(apps, schema_editor):
    from learning.points.db import uninstall_branch_list_version

    uninstall_branch_list_version(schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("learning", "0010_ledger_read_and_write_paths"),
    ]

    operations = [
        migrations.CreateModel(
            name="BranchListVersion",
            fields=[
                (
                    "id",
                    models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False),
                ),
                ("version", models.BigIntegerField()),
            ],
        ),
        migrations.RunPython(install, uninstall),
    ]
