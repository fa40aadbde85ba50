"""The moderation workflow: editors submit, approvers (审核) publish.

Wagtail's own migrations create a "Moderators approval" workflow on the root page with a
group approval task for the Moderators group, which ``learning.0002_roles`` renamed to
审核. This gives them Chinese names and makes sure the workflow covers every page; if
they are missing (a database created differently), it creates them.
"""

from django.db import migrations

WORKFLOW_NAME = "内容审核"
TASK_NAME = "审核员审批"
APPROVER_GROUP = "审核"


def seed_workflow(apps, schema_editor):
    Workflow = apps.get_model("wagtailcore", "Workflow")
    WorkflowTask = apps.get_model("wagtailcore", "WorkflowTask")
    WorkflowPage = apps.get_model("wagtailcore", "WorkflowPage")
    GroupApprovalTask = apps.get_model("wagtailcore", "GroupApprovalTask")
    Group = apps.get_model("auth", "Group")
    Page = apps.get_model("wagtailcore", "Page")
    ContentType = apps.get_model("contenttypes", "ContentType")

    workflow = (
        Workflow.objects.filter(name__in=["Moderators approval", WORKFLOW_NAME]).first()
        or Workflow.objects.create(name=WORKFLOW_NAME, active=True)
    )
    workflow.name = WORKFLOW_NAME
    workflow.active = True
    workflow.save()

    task = GroupApprovalTask.objects.filter(name__in=["Moderators approval", TASK_NAME]).first()
    if task is None:
        task_type, _created = ContentType.objects.get_or_create(
            app_label="wagtailcore", model="groupapprovaltask"
        )
        task = GroupApprovalTask.objects.create(
            name=TASK_NAME, active=True, content_type=task_type
        )
    task.name = TASK_NAME
    task.active = True
    task.save()
    approvers = Group.objects.filter(name=APPROVER_GROUP).first()
    if approvers is not None:
        task.groups.add(approvers)
    if not WorkflowTask.objects.filter(workflow=workflow, task_id=task.pk).exists():
        WorkflowTask.objects.create(workflow=workflow, task_id=task.pk, sort_order=0)

    root = Page.objects.filter(depth=1).first()
    if root is not None and not WorkflowPage.objects.filter(page=root).exists():
        WorkflowPage.objects.create(page=root, workflow=workflow)


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0003_courses_lessons_policies"),
        ("learning", "0002_roles"),
        ("wagtailcore", "0098_apitoken"),
    ]

    operations = [migrations.RunPython(seed_workflow, migrations.RunPython.noop)]
