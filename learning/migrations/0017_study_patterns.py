"""Heartbeat pattern numbers: the current run on the study clock, the day's patterns.

``StudyClock`` keeps the current run of credited heartbeats (seconds, beats, shortest and
longest interval); ``StudyDay`` keeps the seconds studied at night and the day's longest
run with the spread of its intervals, for a later check of machine-like study
(docs/study.md). Every field defaults to 0, so existing rows need no data migration.
"""

from django.db import migrations, models


def _count():
    return models.PositiveIntegerField(default=0)


class Migration(migrations.Migration):
    dependencies = [
        ("learning", "0016_integrity_flags"),
    ]

    operations = [
        migrations.AddField(model_name="studyclock", name="run_seconds", field=_count()),
        migrations.AddField(model_name="studyclock", name="run_beats", field=_count()),
        migrations.AddField(model_name="studyclock", name="run_gap_min_ms", field=_count()),
        migrations.AddField(model_name="studyclock", name="run_gap_max_ms", field=_count()),
        migrations.AddField(model_name="studyday", name="night_seconds", field=_count()),
        migrations.AddField(model_name="studyday", name="longest_run_seconds", field=_count()),
        migrations.AddField(model_name="studyday", name="longest_run_beats", field=_count()),
        migrations.AddField(
            model_name="studyday", name="longest_run_gap_spread_ms", field=_count()
        ),
    ]
