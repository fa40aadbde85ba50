"""The course-completion rule counts 1 point per unit; each course says how many units.

A course's "completion points" (default 5) is awarded as that many units of the
``course_completed`` rule, so editors can weight long courses more.
"""

from django.db import migrations


def per_point(apps, schema_editor):
    PointsRule = apps.get_model("learning", "PointsRule")
    PointsRule.objects.filter(code="course_completed", points=5).update(
        points=1,
        description="学完一门课程的全部课时，得该课程设定的积分（一般为 5 分）。",
    )


class Migration(migrations.Migration):
    dependencies = [("learning", "0007_lesson_progress")]

    operations = [migrations.RunPython(per_point, migrations.RunPython.noop)]
