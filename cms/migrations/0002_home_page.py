"""Make a cms.HomePage the site root in place of Wagtail's placeholder welcome page."""

from django.db import migrations


def create_home_page(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Page = apps.get_model("wagtailcore", "Page")
    Site = apps.get_model("wagtailcore", "Site")
    HomePage = apps.get_model("cms", "HomePage")
    Locale = apps.get_model("wagtailcore", "Locale")

    placeholder_type = ContentType.objects.get(app_label="wagtailcore", model="page")
    # Deleting the placeholder page also deletes the default site that points at it.
    Page.objects.filter(content_type=placeholder_type, depth=2, slug="home").delete()

    home_type, _created = ContentType.objects.get_or_create(app_label="cms", model="homepage")
    home = HomePage.objects.create(
        title="首页",
        draft_title="首页",
        slug="home",
        content_type=home_type,
        path="00010001",
        depth=2,
        numchild=0,
        url_path="/home/",
        live=True,
        locale=Locale.objects.order_by("pk").first(),
    )
    Page.objects.filter(depth=1).update(numchild=1)
    Site.objects.create(
        hostname="localhost", port=80, root_page=home, is_default_site=True, site_name="智慧党建"
    )


def remove_home_page(apps, schema_editor):
    HomePage = apps.get_model("cms", "HomePage")
    HomePage.objects.filter(depth=2, slug="home").delete()


class Migration(migrations.Migration):
    dependencies = [("cms", "0001_initial")]

    operations = [migrations.RunPython(create_home_page, remove_home_page)]
