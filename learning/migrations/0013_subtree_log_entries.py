"""The audit log of members and organisations in a table of its own, scoped to subtrees.

Existing entries about members and organisations move from Wagtail's shared table, so
that a secretary's site history shows only their subtree (see learning.models.audit).
"""

import django.core.serializers.json
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


FIELDS = ("label", "action", "data", "timestamp", "uuid", "user_id", "revision_id",
          "content_changed", "deleted", "object_id")


def _content_type_ids(apps):
    content_type = apps.get_model("contenttypes", "ContentType")
    return list(
        content_type.objects.filter(
            app_label="learning", model__in=["member", "organization"]
        ).values_list("pk", flat=True)
    )


def move_entries(apps, schema_editor, source="wagtailcore.ModelLogEntry",
                 target="learning.SubtreeLogEntry"):
    source_model = apps.get_model(*source.split("."))
    target_model = apps.get_model(*target.split("."))
    entries = source_model.objects.filter(content_type_id__in=_content_type_ids(apps))
    target_model.objects.bulk_create(
        [
            target_model(content_type_id=entry.content_type_id,
                         **{name: getattr(entry, name) for name in FIELDS})
            for entry in entries.iterator()
        ],
        batch_size=500,
    )
    entries.delete()


def move_entries_back(apps, schema_editor):
    move_entries(apps, schema_editor, source="learning.SubtreeLogEntry",
                 target="wagtailcore.ModelLogEntry")


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('learning', '0012_totals_fillfactor'),
        ('wagtailcore', '0098_apitoken'),
    ]

    operations = [
        migrations.CreateModel(
            name='SubtreeLogEntry',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('label', models.TextField()),
                ('action', models.CharField(blank=True, db_index=True, max_length=255)),
                ('data', models.JSONField(blank=True, default=dict, encoder=django.core.serializers.json.DjangoJSONEncoder)),
                ('timestamp', models.DateTimeField(db_index=True, verbose_name='timestamp (UTC)')),
                ('uuid', models.UUIDField(blank=True, editable=False, help_text='Log entries that happened as part of the same user action are assigned the same UUID', null=True)),
                ('content_changed', models.BooleanField(db_index=True, default=False)),
                ('deleted', models.BooleanField(default=False)),
                ('object_id', models.CharField(db_index=True, max_length=255)),
                ('content_type', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='contenttypes.contenttype', verbose_name='content type')),
                ('revision', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='wagtailcore.revision')),
                ('user', models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'member or organisation log entry',
                'verbose_name_plural': 'member and organisation log entries',
                'ordering': ['-timestamp', '-id'],
                'abstract': False,
                'indexes': [models.Index(fields=['uuid', 'action', '-timestamp'], name='learning_su_uuid_152650_idx')],
            },
        ),
        migrations.RunPython(move_entries, move_entries_back),
    ]
