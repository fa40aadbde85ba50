"""The people and objects the permission matrix asks about, built once per test module.

"The member" (成员甲, 第一党支部) owns everything a URL can name: an attempt in progress
and a submitted one (too fast, a short answer waiting for a mark, a wrong answer in the
book), a points entry, an integrity flag, an assignment to their branch, their branch's
office screen. The other roles are asked about exactly these objects, so a member of
another branch or the secretary of another subtree must be refused wherever an object
of the member is named.

``World.values`` maps each path parameter name (and the keys rules name in ``args``) to
the value put in the URL; ``tests/security/permission_rules.py`` says which key fills
which parameter when the parameter's own name is not the key.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.utils import timezone
from wagtail.admin.models import EditingSession
from wagtail.contrib.redirects.models import Redirect
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.images.tests.utils import get_test_image_file
from wagtail.models import (
    Collection,
    CollectionViewRestriction,
    PageViewRestriction,
    Site,
    UploadedFile,
    Workflow,
)

from cms.models import CourseCategory, LessonPage, PolicyCategory
from learning.integrity.services import flag_raise
from learning.models import (
    IntegrityFlag,
    LeaderboardSettings,
    Member,
    OrganizationSecretary,
    PointsEntry,
    PointsRule,
    Screen,
)
from learning.people import roles
from learning.points.ledger import points_award
from quizzes.models import AttemptQuestion, QuestionCategory, QuestionImport, WrongAnswer
from quizzes.taking.attempts import attempt_start
from tests.factories.documents import docx_bytes, upload
from tests.factories.pages import add_course, add_draft_lesson, lessons_of, site_content
from tests.factories.people import MemberFactory, OrganizationFactory, secretary_of
from tests.factories.questions import question_create, short_answer, single_choice
from tests.factories.quizzes import fixed_quiz, take
from tests.factories.study import assign
from tests.security.permission_rules import (
    ADMINISTRATOR,
    APPROVER,
    EDITOR,
    MEMBER,
    OTHER_BRANCH_MEMBER,
    OTHER_SECRETARY,
)


@dataclass
class World:
    people: dict[str, Member]
    values: dict[str, Any] = field(default_factory=dict)
    # Each role's session cookie, signed in once for the module.
    sessions: dict[str, str] = field(default_factory=dict)


def _organisations() -> dict[str, Any]:
    """某党委 › {第一党总支 › 第一党支部, 第二党总支 › 第三党支部}."""
    committee = OrganizationFactory(name="某党委", code="DW", kind="committee")
    general_a = OrganizationFactory(
        name="第一党总支", code="ZZB1", kind="general_branch", parent=committee
    )
    general_b = OrganizationFactory(
        name="第二党总支", code="ZZB2", kind="general_branch", parent=committee
    )
    return {
        "committee": committee,
        "general_a": general_a,
        "branch_a1": OrganizationFactory(name="第一党支部", code="ZB1", parent=general_a),
        "general_b": general_b,
        "branch_b1": OrganizationFactory(name="第三党支部", code="ZB3", parent=general_b),
    }


def _people(orgs: dict[str, Any]) -> dict[str, Member]:
    administrator = MemberFactory(
        username="pm_admin", display_name="管理员", organization=orgs["committee"]
    )
    # The brief's administrator is a superuser: the person who runs the platform.
    Member.objects.filter(pk=administrator.pk).update(is_superuser=True, is_staff=True)
    administrator.refresh_from_db()
    return {
        MEMBER: MemberFactory(
            username="pm_member", display_name="成员甲", organization=orgs["branch_a1"]
        ),
        OTHER_BRANCH_MEMBER: MemberFactory(
            username="pm_other", display_name="外支乙", organization=orgs["branch_b1"]
        ),
        OTHER_SECRETARY: secretary_of(
            orgs["general_b"], "pm_secretary_b", "赵书记", member_of=orgs["branch_b1"]
        ),
        EDITOR: MemberFactory(
            username="pm_editor",
            display_name="编辑甲",
            organization=orgs["committee"],
            role_names=[roles.EDITOR],
        ),
        APPROVER: MemberFactory(
            username="pm_approver",
            display_name="审核甲",
            organization=orgs["committee"],
            role_names=[roles.APPROVER],
        ),
        ADMINISTRATOR: administrator,
    }


def world_build() -> World:
    """Everything the rules' URLs name, owned by the member where a member can own it."""
    orgs = _organisations()
    people = _people(orgs)
    member, editor, administrator = people[MEMBER], people[EDITOR], people[ADMINISTRATOR]
    today = timezone.localdate()

    site_content()
    course = add_course("党史学习", ["第一课"])
    lesson = lessons_of(course)[0]
    lesson.save_revision(user=editor)
    draft = add_draft_lesson(course, "待审核的课", by=editor, submit=True)
    destination = add_course("党章学习")
    task_state = draft.current_workflow_task_state
    workflow = Workflow.objects.get(pk=task_state.workflow_state.workflow_id)

    # The member's quiz data: a submitted attempt answered too fast (the module's world is
    # built before the per-test fixture switches pacing off), its first answer wrong (so
    # it is in the wrong-answer book) and its short answer waiting for a mark; and a
    # second attempt in progress.
    essay = question_create(short_answer())
    single = question_create(single_choice(stem="党的最高领导机关是？"))
    quiz = fixed_quiz(
        [single, essay],
        title="支部测验",
        attempts_allowed=0,
        min_seconds_per_question=60,
        organizations=[orgs["branch_a1"]],
    )
    done = take(quiz, member, right=[False, True])
    open_attempt = attempt_start(quiz=quiz, member=member)
    item = AttemptQuestion.objects.get(attempt=done, state=AttemptQuestion.State.NEEDS_GRADING)
    entry = WrongAnswer.objects.get(member=member, question=single)

    points_award(member=member, rule_code="exam_passed", key="pm:member:exam")
    ledger_entry = PointsEntry.objects.filter(member=member).order_by("pk").first()
    flag = IntegrityFlag.objects.filter(member=member).first()
    if flag is None:
        flag, _created = flag_raise(
            member=member,
            kind=IntegrityFlag.Kind.NIGHT_STUDY,
            subject_key="study:pm",
            subject_label="夜间学习",
            evidence={},
        )
    assignment = assign(course, [orgs["branch_a1"]], today, today + datetime.timedelta(days=7))
    screen = Screen.objects.create(name="一支部屏幕", organization=orgs["branch_a1"])
    # The member's own secretary: an appointment inside the member's subtree.
    own_secretary = secretary_of(orgs["branch_a1"], "pm_secretary_a", "王书记")
    appointment = OrganizationSecretary.objects.get(member=own_secretary)

    document = upload("会议纪要", "minutes.docx", docx_bytes("支部委员会会议。"))
    image = get_image_model().objects.create(title="合影", file=get_test_image_file())
    collection = Collection.get_first_root_node().add_child(name="内部资料")
    collection_restriction = CollectionViewRestriction.objects.create(
        collection=collection, restriction_type="password", password="neibu-2026"
    )
    page_restriction = PageViewRestriction.objects.create(
        page=draft, restriction_type="password", password="neibu-2026"
    )
    uploaded = UploadedFile.objects.create(
        for_content_type=ContentType.objects.get_for_model(get_image_model()),
        uploaded_by_user=editor,
        file=ContentFile(get_test_image_file().file.getvalue(), name="upload.png"),
    )
    uploaded_doc = UploadedFile.objects.create(
        for_content_type=ContentType.objects.get_for_model(get_document_model()),
        uploaded_by_user=editor,
        file=ContentFile(docx_bytes("附件。"), name="upload.docx"),
    )
    editing = EditingSession.objects.create(
        user=editor,
        content_type=ContentType.objects.get_for_model(lesson.specific_class),
        object_id=str(lesson.pk),
        last_seen_at=timezone.now(),
    )
    question_import = QuestionImport.objects.create(
        filename="题库.csv",
        format="csv",
        data=b"",
        status=QuestionImport.Status.INVALID,
        created_by=editor,
    )
    points_rule = PointsRule.objects.get(code="exam_passed")
    rule_revision = points_rule.save_revision(user=administrator)
    redirect = Redirect.objects.create(old_path="/old-course", redirect_link="/courses/")
    settings_row = LeaderboardSettings.load()

    values: dict[str, Any] = {
        # Pages and the moderation workflow.
        "course_id": course.pk,
        "page_id": lesson.pk,
        "parent_page_id": course.pk,
        "page_to_move_id": lesson.pk,
        "destination_id": destination.pk,
        "alias_id": lesson.create_alias(parent=destination, update_slug="lesson-alias").pk,
        "page_pk": lesson.pk,
        "draft_id": draft.pk,
        "revision_id": lesson.latest_revision_id,
        "revision_id_a": "earliest",
        "revision_id_b": "latest",
        "task_state_id": task_state.pk,
        "workflow_state_id": task_state.workflow_state_id,
        "task_id": task_state.task_id,
        "workflow_id": workflow.pk,
        "workflow_pk": workflow.pk,
        "action_name": "approve",
        "content_type_app_name": "cms",
        "content_type_model_name": "lessonpage",
        "page_view_restriction_id": page_restriction.pk,
        # The member's quiz data.
        "quiz_id": quiz.pk,
        "attempt_open": open_attempt.pk,
        "attempt_done": done.pk,
        "answer_to_grade": item.pk,
        "position": 1,
        "wrong_answer": entry.pk,
        "category_id": single.category_id,
        "question_id": single.pk,
        "import_id": question_import.pk,
        "empty_quiz_id": fixed_quiz([], title="无人参加的测验").pk,
        "empty_category_id": QuestionCategory.add_root(name="空分类").pk,
        "format_name": "xlsx",
        # The member's learning data.
        "member_id": member.pk,
        "organization_id": orgs["branch_a1"].pk,
        "ledger_entry": ledger_entry.pk,
        "flag_id": flag.pk,
        "assignment_id": assignment.pk,
        "screen_id": screen.pk,
        "token": screen.token,
        "appointment_id": appointment.pk,
        "points_rule_id": points_rule.pk,
        "points_rule_revision": rule_revision.pk,
        # Documents, images, collections.
        "document_id": document.pk,
        "doc_id": document.pk,
        "document_filename": document.filename,
        "image_id": image.pk,
        "filter_spec": "original",
        "uploaded_file_id": uploaded.pk,
        "uploaded_doc_id": uploaded_doc.pk,
        "collection_pk": collection.pk,
        "collection_id": collection.pk,
        "restriction_id": collection_restriction.pk,
        # Wagtail's settings, snippets, sites, groups, redirects, editing sessions.
        "settings_app": "learning",
        "settings_model": "leaderboardsettings",
        "settings_pk": settings_row.pk,
        "course_category_id": CourseCategory.objects.create(name="党史").pk,
        "policy_category_id": PolicyCategory.objects.create(name="党建").pk,
        "question_category_id": QuestionCategory.objects.get(pk=single.category_id).pk,
        "site_id": Site.objects.get(is_default_site=True).pk,
        "group_id": editor.groups.get().pk,
        "redirect_id": redirect.pk,
        "session_id": editing.pk,
        "editing_app": "cms",
        "editing_model": "lessonpage",
        "editing_object": str(lesson.pk),
        "api_action": "copy",
        "task_app": "wagtailcore",
        "task_model": "groupapprovaltask",
        "lesson_url": lesson.url,
        # A StreamField block of the lesson body, by the id Wagtail's block preview takes.
        "block_id": next(
            iter(LessonPage._meta.get_field("body").stream_block.child_blocks.values())
        ).definition_prefix,
        "tag_app": "quizzes",
        "tag_model": "questiontag",
        "uidb64": "MQ",
        "token_reset": "set-password",
    }
    return World(people=people, values=values)
