"""The PostgreSQL search backend's table (cms.search.postgres, docs/search.md).

The table is created on every database engine, so migrations stay engine-neutral; the GIN
index on the words, and storing them uncompressed, exist only on PostgreSQL, where the
table is used.
"""

import cms.models
from django.db import migrations, models


GIN_INDEX = "cms_searchentry_vector_gin"


def create_gin_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX {GIN_INDEX} ON cms_searchentry USING gin (vector)"
        )
        # Ranking reads the vector of every match; pglz barely shrinks a tsvector (8.5 of
        # 10 KB on the benchmark's pages) but decompressing it tripled the cost of a pass.
        schema_editor.execute(
            "ALTER TABLE cms_searchentry ALTER COLUMN vector SET STORAGE EXTERNAL"
        )


def drop_gin_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {GIN_INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ('cms', '0008_root_titles_in_chinese'),
    ]

    operations = [
        migrations.CreateModel(
            name='SearchEntry',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('root', models.CharField(max_length=100, verbose_name='model')),
                ('object_id', models.CharField(max_length=64, verbose_name='object ID')),
                ('vector', cms.models.TsVectorField(blank=True, default='', verbose_name='words')),
            ],
            options={
                'verbose_name': 'search entry',
                'verbose_name_plural': 'search entries',
                'constraints': [models.UniqueConstraint(fields=('root', 'object_id'), name='cms_searchentry_key')],
            },
        ),
        migrations.RunPython(create_gin_index, drop_gin_index),
    ]
