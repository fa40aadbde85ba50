"""Name Wagtail's root page and root collection in Chinese.

Wagtail's own migrations create both as "Root", and the admin shows that title as data:
"Exploring: Root" in the page explorer, "Root" in collection choices. Only a title still
"Root" is renamed, so a name an administrator chose is kept.
"""

from django.db import migrations

ROOT_NAME = "根目录"


def rename_roots(apps, schema_editor):
    Page = apps.get_model("wagtailcore", "Page")
    Collection = apps.get_model("wagtailcore", "Collection")
    Page.objects.filter(depth=1, title="Root").update(title=ROOT_NAME, draft_title=ROOT_NAME)
    Collection.objects.filter(depth=1, name="Root").update(name=ROOT_NAME)


def restore_roots(apps, schema_editor):
    Page = apps.get_model("wagtailcore", "Page")
    Collection = apps.get_model("wagtailcore", "Collection")
    Page.objects.filter(depth=1, title=ROOT_NAME).update(title="Root", draft_title="Root")
    Collection.objects.filter(depth=1, name=ROOT_NAME).update(name="Root")


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0007_index_intro_in_english"),
        ("wagtailcore", "0025_collection_initial_data"),
    ]

    operations = [migrations.RunPython(rename_roots, restore_roots)]
