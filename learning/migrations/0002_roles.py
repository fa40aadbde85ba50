"""Create the role groups; adopt Wagtail's Editors/Moderators as editor/approver.

Permissions are attached after every migrate by ``learning.people.permissions``
(they do not exist yet on a fresh database while migrations run).
"""

from django.db import migrations

ROLE_NAMES = ["党员", "编辑", "审核", "支部书记", "管理员"]
WAGTAIL_GROUP_RENAMES = {"Editors": "编辑", "Moderators": "审核"}


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for old_name, new_name in WAGTAIL_GROUP_RENAMES.items():
        if not Group.objects.filter(name=new_name).exists():
            Group.objects.filter(name=old_name).update(name=new_name)
    for name in ROLE_NAMES:
        Group.objects.get_or_create(name=name)


def remove_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for old_name, new_name in WAGTAIL_GROUP_RENAMES.items():
        Group.objects.filter(name=new_name).update(name=old_name)
    Group.objects.filter(name__in=["党员", "支部书记", "管理员"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("learning", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("wagtailcore", "0002_initial_data"),
        ("wagtailcore", "0005_add_page_lock_permission_to_moderators"),
        ("wagtailimages", "0002_initial_data"),
        ("wagtaildocs", "0002_initial_data"),
        ("wagtailadmin", "0001_create_admin_access_permissions"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
