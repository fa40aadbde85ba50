"""Who may use each URL the project serves: the rule table of the permission matrix.

``tests/security/test_permission_matrix.py`` walks every URL pattern of
``django.urls.get_resolver()`` and asks it as each of seven roles; the rule matching the
pattern says which roles are allowed, every other role must be refused. A pattern no
rule matches fails the matrix, and so does a rule that matches no pattern any more.

Adding a view: add one line to ``RULES``, e.g.
``Rule("learning:export", MEMBER_ONLY, "a member's own data, nobody else's")``.
``match`` is the URL's name (``namespace:name``) or its route (``healthz/``), exactly or
as a glob (``wagtailimages:*``); the first rule that matches wins, so put a narrower
rule before a broader one. Globs group Wagtail's own views and a viewset's generic
views only: over the project's own views a glob would let a new one land under a rule
nobody chose for it. Path parameters are filled from the objects of
``tests/security/permission_world.py`` by parameter name; ``args`` names another key
(``args={"pk": "attempt_open"}``). ``method="post"`` for views that answer only POST
(``"put"``, ``"delete"`` likewise; ``data`` is the body, ``json=True`` sends it as JSON).

Allowed and refused (docs/security.md, "Permission matrix"):
- refused: 401, 403, 404 or 409 (the API's "this quiz is not open to you"); a redirect to
  a login page; a redirect that carries an error message (Wagtail's "Sorry, you do not
  have permission", a quiz the member may not take). A refused request writes no row.
- allowed: any other 2xx or 3xx, and 400 or 429 (the view took the request and judged
  what was in it);
- anything else (a 500, a 405) fails whatever the rule says; ``raises`` names the few
  exceptions Wagtail raises for the allowed roles, so that a change there is noticed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ANONYMOUS = "anonymous"
MEMBER = "member"
OTHER_BRANCH_MEMBER = "member_of_another_branch"
OTHER_SECRETARY = "secretary_of_another_subtree"
EDITOR = "editor"
APPROVER = "approver"
ADMINISTRATOR = "administrator"

ROLES = (
    ANONYMOUS,
    MEMBER,
    OTHER_BRANCH_MEMBER,
    OTHER_SECRETARY,
    EDITOR,
    APPROVER,
    ADMINISTRATOR,
)

EVERYONE = frozenset(ROLES)
NOBODY: frozenset[str] = frozenset()
SIGNED_IN = EVERYONE - {ANONYMOUS}
# The member pages name the member's own objects: only the member, never a colleague,
# a secretary or an administrator (they see them in the admin, not as the member).
MEMBER_ONLY = frozenset({MEMBER})
# Everybody who may open the admin.
ADMIN_ACCESS = frozenset({OTHER_SECRETARY, EDITOR, APPROVER, ADMINISTRATOR})
CONTENT_STAFF = frozenset({EDITOR, APPROVER, ADMINISTRATOR})
ADMIN_ONLY = frozenset({ADMINISTRATOR})


@dataclass(frozen=True)
class Rule:
    """Who may use the URL patterns ``match`` names, and how to ask them."""

    match: str
    allow: frozenset[str]
    why: str
    method: str = "get"
    args: Mapping[str, str] = field(default_factory=dict)
    data: Mapping[str, Any] | None = None
    # A JSON body instead of form data.
    json: bool = False
    # The URL itself when it cannot be reversed from the pattern (unnamed patterns,
    # positional groups, query strings): formatted with the world's values.
    path: str | None = None
    # Logging out ends at a login page: there it is the answer, not a refusal.
    login_is_the_answer: bool = False
    # What the view raises for the allowed roles (Wagtail's error test page on purpose,
    # two Wagtail bugs by accident): the test expects exactly this exception.
    raises: str | None = None


SECRETARY_AND_ADMIN = frozenset({OTHER_SECRETARY, ADMINISTRATOR})
PUBLISHERS = frozenset({APPROVER, ADMINISTRATOR})
EDITOR_AND_ADMIN = frozenset({EDITOR, ADMINISTRATOR})

# A member's answer to the first question of their attempt (a wrong one is still an answer).
_ANSWER = {"position": 1, "response": {"choices": []}, "seq": 50}

RULES: list[Rule] = [
    # --- Public: no login ----------------------------------------------------------------
    Rule("login", EVERYONE, "the login page is for everybody"),
    Rule("healthz", EVERYONE, "the load balancer's liveness probe: no data, no login"),
    Rule("readyz", EVERYONE, "the load balancer's readiness probe: service states, no data"),
    Rule(
        "logout",
        EVERYONE,
        "logging out is harmless for anybody",
        method="post",
        login_is_the_answer=True,
    ),
    Rule(
        "set_language",
        EVERYONE,
        "the language switch is on every page",
        method="post",
        data={"language": "en", "next": "/"},
    ),
    Rule("screen", EVERYONE, "an office screen opens without login; its token is the secret"),
    Rule("screen_snapshot", EVERYONE, "the screen's data, opened by the same token"),
    Rule("wagtailcore_login", EVERYONE, "Wagtail's login for password-protected pages"),
    Rule(
        "wagtailcore_authenticate_with_password",
        EVERYONE,
        "the password form of a protected page: whoever has the password",
        args={"page_id": "draft_id"},
    ),
    Rule(
        "wagtaildocs_authenticate_with_password",
        EVERYONE,
        "the password form of a protected collection's documents",
    ),
    Rule("wagtailadmin_login", EVERYONE, "the admin's login page"),
    Rule(
        "wagtailadmin_password_reset*",
        EVERYONE,
        "asking for a reset link needs no login (throttled, docs/members.md)",
        args={"token": "token_reset"},
    ),
    Rule("wagtailadmin_sprite", EVERYONE, "the admin's icons, on the login page too"),
    Rule("wagtailadmin_javascript_catalog", EVERYONE, "the admin's translations, login page too"),
    # --- Member pages: any member, about themselves --------------------------------------
    Rule("password_change", SIGNED_IN, "one's own password"),
    Rule("learning:learn", SIGNED_IN, "each member's own learning"),
    Rule("learning:points", SIGNED_IN, "each member's own points"),
    Rule("learning:leaderboards", SIGNED_IN, "the leaderboards every member sees"),
    Rule("learning:account", SIGNED_IN, "each member's own account"),
    Rule("learning:account_data", SIGNED_IN, "each member downloads their own data only"),
    Rule("search", SIGNED_IN, "search is for members (docs/search.md)"),
    Rule(
        "lesson_heartbeat",
        SIGNED_IN,
        "any member may study a published lesson",
        method="post",
        json=True,
        data={"visible": True, "active": True},
    ),
    Rule("quizzes:index", SIGNED_IN, "each member's own quiz section"),
    Rule("quizzes:history", SIGNED_IN, "each member's own history"),
    Rule("quizzes:wrong_book", SIGNED_IN, "each member's own wrong-answer book"),
    Rule("quizzes:practice_index", SIGNED_IN, "practice is open to every member"),
    Rule("quizzes:practice", SIGNED_IN, "practice by category is open to every member"),
    Rule("quizzes:daily_start", SIGNED_IN, "everybody's daily quiz", method="post"),
    Rule("quizzes:challenge_start", SIGNED_IN, "everybody's challenge", method="post"),
    Rule(
        "quizzes:start",
        MEMBER_ONLY,
        "the quiz is for the member's branch only; the committee's staff are not its audience",
        method="post",
        args={"pk": "quiz_id"},
    ),
    Rule("quizzes:attempt", MEMBER_ONLY, "the member's own attempt", args={"pk": "attempt_open"}),
    Rule(
        "quizzes:save",
        MEMBER_ONLY,
        "saving into the member's own attempt",
        method="post",
        json=True,
        data=_ANSWER,
        args={"pk": "attempt_open"},
    ),
    Rule(
        "quizzes:check",
        MEMBER_ONLY,
        "checking in the member's own attempt",
        method="post",
        json=True,
        data=_ANSWER,
        args={"pk": "attempt_open"},
    ),
    Rule(
        "quizzes:submit",
        MEMBER_ONLY,
        "submitting the member's own attempt",
        method="post",
        args={"pk": "attempt_open"},
    ),
    Rule("quizzes:result", MEMBER_ONLY, "the member's own result", args={"pk": "attempt_done"}),
    Rule(
        "quizzes:wrong_practise",
        MEMBER_ONLY,
        "the member's own wrong-answer book entry",
        args={"pk": "wrong_answer"},
    ),
    Rule(
        "quizzes:wrong_remove",
        MEMBER_ONLY,
        "the member's own wrong-answer book entry",
        method="post",
        args={"pk": "wrong_answer"},
    ),
    # --- The quiz API: the same as the pages ---------------------------------------------
    Rule("quizzes_api:quizzes", SIGNED_IN, "the quizzes open to the member asking"),
    Rule("quizzes_api:attempts", SIGNED_IN, "the asking member's own attempts"),
    Rule("quizzes_api:wrong_answers", SIGNED_IN, "the asking member's own book"),
    Rule("quizzes_api:daily_start", SIGNED_IN, "everybody's daily quiz", method="post"),
    Rule("quizzes_api:challenge_start", SIGNED_IN, "everybody's challenge", method="post"),
    Rule(
        "quizzes_api:start",
        MEMBER_ONLY,
        "the quiz is for the member's branch only",
        method="post",
        args={"pk": "quiz_id"},
    ),
    Rule(
        "quizzes_api:attempt", MEMBER_ONLY, "the member's own attempt", args={"pk": "attempt_open"}
    ),
    Rule(
        "quizzes_api:answer",
        MEMBER_ONLY,
        "saving into the member's own attempt",
        method="put",
        json=True,
        data={"response": {"choices": []}, "seq": 50},
        args={"pk": "attempt_open"},
    ),
    Rule(
        "quizzes_api:check",
        MEMBER_ONLY,
        "checking in the member's own attempt",
        method="post",
        json=True,
        data={"response": {"choices": []}},
        args={"pk": "attempt_open"},
    ),
    Rule(
        "quizzes_api:submit",
        MEMBER_ONLY,
        "submitting the member's own attempt",
        method="post",
        args={"pk": "attempt_open"},
    ),
    Rule(
        "quizzes_api:wrong_answer",
        MEMBER_ONLY,
        "removing the member's own book entry",
        method="delete",
        args={"pk": "wrong_answer"},
    ),
    Rule(
        "quizzes_api:wrong_answer_practise",
        MEMBER_ONLY,
        "the member's own book entry",
        method="post",
        json=True,
        data={"response": {"choices": []}},
        args={"pk": "wrong_answer"},
    ),
    Rule(
        "quizzes_api:unknown",
        NOBODY,
        "any other /api/v1/ path is a JSON 404",
        path="/api/v1/no-such-thing/",
    ),
    # --- Pages and documents on the site -------------------------------------------------
    Rule(
        "wagtail_serve",
        EVERYONE,
        "published lessons are open reading, like the home page",
        path="{lesson_url}",
    ),
    Rule(
        "wagtaildocs_serve",
        EVERYONE,
        "documents attached to open pages are open too (no collection restriction)",
        path="/documents/{document_id}/{document_filename}",
    ),
    # --- The admin: everybody with admin access ------------------------------------------
    Rule("wagtailadmin_home", ADMIN_ACCESS, "the dashboard of every admin user"),
    Rule("wagtailadmin_account", ADMIN_ACCESS, "one's own admin account settings"),
    Rule(
        "wagtailadmin_logout",
        EVERYONE,
        "logging out of the admin sends anybody to its login",
        method="post",
        login_is_the_answer=True,
    ),
    Rule(
        "admin/test404/",
        ADMIN_ACCESS,
        "Wagtail's preview of its 404 page: no data in it",
        path="/admin/test404/",
    ),
    Rule(
        "admin/^.*/$",
        NOBODY,
        "an unknown admin path: 404 (login first for strangers)",
        path="/admin/no-such-view/",
    ),
    Rule(
        "wagtailadmin_error_test",
        ADMIN_ACCESS,
        "Wagtail's failwhale raises on purpose so that error reports can be tried",
        raises="This is a test of the emergency broadcast system.",
    ),
    Rule("wagtailadmin_dismissibles", ADMIN_ACCESS, "remembers which tips one has closed"),
    Rule(
        "wagtailadmin_choose_page*",
        ADMIN_ACCESS,
        "the page chooser of every admin form (a secretary's assignment picks a lesson); "
        "page titles are open reading anyway",
        args={"parent_page_id": "course_id"},
    ),
    Rule("wagtailadmin_tag_autocomplete", ADMIN_ACCESS, "tag suggestions in admin forms"),
    Rule(
        "wagtailadmin_tag_model_autocomplete",
        ADMIN_ACCESS,
        "tag suggestions in admin forms",
        args={"app_name": "tag_app", "model_name": "tag_model"},
    ),
    Rule(
        "wagtailadmin_reports:site_history*",
        ADMIN_ACCESS,
        "the audit log, a secretary's scoped to their subtree (docs/roles.md)",
    ),
    Rule(
        "wagtailsnippets:index",
        ADMIN_ONLY,
        "the list of snippet types; editors reach the question bank from its own menu item",
    ),
    # --- The admin: content (pages, images, documents, the moderation workflow) ----------
    Rule(
        "wagtailadmin_api:pages:action",
        PUBLISHERS,
        "a copy stays live unless told otherwise, and keeping it live is publishing",
        method="post",
        json=True,
        data={},
        args={"pk": "page_id", "action_name": "api_action"},
    ),
    Rule(
        "wagtailadmin_api:pages:find",
        CONTENT_STAFF,
        "the choosers' look-up by id",
        path="/admin/api/main/pages/find/?id={page_id}",
    ),
    Rule(
        "wagtailadmin_api:documents:find",
        ADMIN_ACCESS,
        "the choosers' look-up by id",
        path="/admin/api/main/documents/find/?id={document_id}",
    ),
    Rule(
        "wagtailadmin_api:images:find",
        ADMIN_ACCESS,
        "the choosers' look-up by id",
        path="/admin/api/main/images/find/?id={image_id}",
    ),
    # Wagtail opens its choosers, and the admin API behind them, to every admin user; what
    # they list is open reading (pages and documents are served to everybody).
    Rule(
        "wagtailadmin_api:pages:listing",
        ADMIN_ACCESS,
        "the page chooser's list: empty for whoever may not explore pages",
    ),
    Rule("wagtailadmin_api:pages:*", CONTENT_STAFF, "a page's data", args={"pk": "page_id"}),
    Rule(
        "wagtailadmin_api:documents:*",
        ADMIN_ACCESS,
        "the document chooser's data",
        args={"pk": "document_id"},
    ),
    Rule(
        "wagtailadmin_api:images:*",
        ADMIN_ACCESS,
        "the image chooser's data",
        args={"pk": "image_id"},
    ),
    Rule("wagtailadmin_pages:delete", PUBLISHERS, "only approvers remove live content"),
    Rule("wagtailadmin_pages:unpublish", PUBLISHERS, "only approvers take content offline"),
    Rule(
        "wagtailadmin_pages:move_confirm",
        PUBLISHERS,
        "moving the lesson to another course (Wagtail's confirmation page itself is open to "
        "every admin user, the move is not)",
        method="post",
    ),
    Rule("wagtailadmin_pages:move*", PUBLISHERS, "moving a live page is publishing it elsewhere"),
    Rule(
        "wagtailadmin_pages:set_page_position",
        PUBLISHERS,
        "reordering live pages",
        method="post",
        args={"page_to_move_id": "page_id"},
    ),
    Rule("wagtailadmin_pages:set_privacy", PUBLISHERS, "who may read a page is a publishing call"),
    Rule(
        "wagtailadmin_pages:lock",
        PUBLISHERS,
        "locking is the approvers' (docs/roles.md)",
        method="post",
    ),
    Rule("wagtailadmin_pages:unlock", PUBLISHERS, "locking is the approvers'", method="post"),
    Rule("wagtailadmin_pages:revisions_unschedule", PUBLISHERS, "scheduling is publishing"),
    Rule(
        "wagtailadmin_pages:revisions_compare",
        CONTENT_STAFF,
        "comparing page revisions",
        args={"pk": "page_id"},
    ),
    Rule(
        "wagtailadmin_pages:workflow_action",
        PUBLISHERS,
        "approving the page waiting for approval is the approvers' (the editor submitted it)",
        args={"page_id": "draft_id"},
    ),
    Rule(
        "wagtailadmin_pages:workflow_preview",
        PUBLISHERS,
        "the approver's preview of the task",
        args={"page_id": "draft_id"},
    ),
    Rule(
        "wagtailadmin_pages:collect_workflow_action_data",
        PUBLISHERS,
        "the approver's comment form of the task",
        args={"page_id": "draft_id"},
    ),
    Rule(
        "wagtailadmin_pages:confirm_workflow_cancellation",
        ADMIN_ACCESS,
        "Wagtail's confirmation text only; cancelling itself is the page editor's POST",
        args={"page_id": "draft_id"},
    ),
    Rule(
        "wagtailadmin_pages:revisions_index",
        ADMIN_ACCESS,
        "only redirects to the page's history, which refuses whoever may not edit",
    ),
    Rule(
        "wagtailadmin_pages:choose_parent",
        ADMIN_ACCESS,
        "lists the pages under which one may add that page type: none for a secretary",
        args={"app_label": "content_type_app_name", "model_name": "content_type_model_name"},
    ),
    Rule(
        "wagtailadmin_pages:convert_alias",
        CONTENT_STAFF,
        "turning an alias of the lesson into a page of its own is editing it",
        args={"page_id": "alias_id"},
    ),
    Rule(
        "wagtailadmin_pages:workflow_*",
        CONTENT_STAFF,
        "the moderation workflow of a page",
        args={"page_id": "draft_id"},
    ),
    Rule(
        "wagtailadmin_pages:*",
        CONTENT_STAFF,
        "writing content: editors, approvers, admins",
        args={"app_label": "content_type_app_name", "model_name": "content_type_model_name"},
    ),
    Rule(
        "wagtailadmin_explore*",
        CONTENT_STAFF,
        "the page explorer",
        args={"parent_page_id": "course_id"},
    ),
    Rule("wagtailadmin_reports:locked_pages*", PUBLISHERS, "locks are the approvers'"),
    Rule("wagtailadmin_reports:*", CONTENT_STAFF, "reports about pages and their workflow"),
    Rule(
        "wagtailadmin_editing_sessions:ping",
        CONTENT_STAFF,
        "who else is editing the page one edits",
        method="post",
        args={
            "app_label": "editing_app",
            "model_name": "editing_model",
            "object_id": "editing_object",
        },
    ),
    Rule(
        "wagtailadmin_editing_sessions:release",
        ADMIN_ACCESS,
        "answers every admin user but releases only the caller's own session (Wagtail looks "
        "it up by user), so another's stays",
        method="post",
    ),
    Rule(
        "wagtailadmin_block_preview",
        ADMIN_ACCESS,
        "a StreamField block shown with its sample value (the block chooser's preview): no data",
        path="/admin/block-preview/?id={block_id}",
    ),
    Rule(
        "wagtaildocs:create_multiple_from_uploaded_document",
        frozenset({EDITOR}),
        "the uploader's file only; turning it into a document is a 500 for them (Wagtail "
        "8.0.1: Document.clean reports the file's extension on a form without a file field)",
        method="post",
        args={"uploaded_file_id": "uploaded_doc_id"},
        raises="'DocumentForm' has no field named 'file'",
    ),
    Rule(
        "wagtaildocs:*_upload*",
        frozenset({EDITOR}),
        "a file in the multiple uploader belongs to whoever uploaded it (the editor)",
        method="post",
        args={"uploaded_file_id": "uploaded_doc_id"},
    ),
    Rule(
        "wagtaildocs:*_multiple*",
        CONTENT_STAFF,
        "the multiple uploader of documents",
        method="post",
    ),
    Rule("wagtaildocs:*", CONTENT_STAFF, "documents are content", args={"pk": "document_id"}),
    Rule(
        "wagtaildocs_chooser:chosen_multiple",
        ADMIN_ACCESS,
        "answers with the documents asked for that one may choose: none for a secretary",
    ),
    Rule(
        "wagtaildocs_chooser:choose*",
        ADMIN_ACCESS,
        "Wagtail opens the chooser to every admin user, listing only documents one may "
        "choose (none for a secretary)",
    ),
    Rule(
        "wagtaildocs_chooser:*",
        CONTENT_STAFF,
        "choosing a document for content",
        args={"pk": "document_id"},
    ),
    Rule(
        "wagtailimages:url_generator*",
        NOBODY,
        "the URL generator needs Wagtail's image serve view, which is not mounted: 404",
    ),
    Rule(
        "wagtailimages:*_upload*",
        frozenset({EDITOR}),
        "a file in the multiple uploader belongs to whoever uploaded it (the editor)",
        method="post",
    ),
    Rule(
        "wagtailimages:*_multiple*", CONTENT_STAFF, "the multiple uploader of images", method="post"
    ),
    Rule("wagtailimages:*", CONTENT_STAFF, "images are content"),
    Rule(
        "wagtailimages_chooser:chosen_multiple",
        ADMIN_ACCESS,
        "answers with the images asked for that one may choose: none for a secretary",
    ),
    Rule(
        "wagtailimages_chooser:choose*",
        ADMIN_ACCESS,
        "Wagtail opens the chooser to every admin user, listing only images one may choose "
        "(none for a secretary)",
    ),
    Rule(
        "wagtailimages_chooser:*",
        CONTENT_STAFF,
        "choosing an image for content",
        args={"pk": "image_id"},
    ),
    Rule(
        "wagtailembeds:*",
        ADMIN_ACCESS,
        "Wagtail opens the embed chooser to every admin user; it asks known providers only",
    ),
    Rule("cms_document_texts", CONTENT_STAFF, "the extracted text of documents (docs/search.md)"),
    Rule(
        "cms_document_text_refresh",
        CONTENT_STAFF,
        "reading a document's text again",
        method="post",
        args={"pk": "document_id"},
    ),
    Rule("wagtailforms:index*", CONTENT_STAFF, "lists form pages, of which there are none"),
    Rule(
        "wagtailforms:*",
        NOBODY,
        "the project has no form pages: the list is empty and a page id is not a form",
        args={"page_id": "page_id"},
    ),
    # --- The admin: question bank and quizzes --------------------------------------------
    Rule(
        "quizzes_question_import_preview",
        EDITOR_AND_ADMIN,
        "an import is seen only by whoever uploaded it (the editor) and superusers",
    ),
    Rule(
        "quizzes_question_import_confirm",
        EDITOR_AND_ADMIN,
        "an import is confirmed only by whoever uploaded it",
        method="post",
    ),
    Rule("quizzes_question_import_progress", EDITOR_AND_ADMIN, "the uploader's import only"),
    Rule("quizzes_question_import_status", EDITOR_AND_ADMIN, "the uploader's import only"),
    Rule("quizzes_question_import", CONTENT_STAFF, "importing into the bank (docs/roles.md)"),
    Rule("quizzes_question_import_template", CONTENT_STAFF, "the bank's import template"),
    Rule(
        "quizzes_question_preview",
        CONTENT_STAFF,
        "a question as members see it",
        args={"pk": "question_id"},
    ),
    Rule(
        "quizzes_question_answer",
        CONTENT_STAFF,
        "a question's right answer",
        args={"pk": "question_id"},
    ),
    Rule("quizzes_questions_export", CONTENT_STAFF, "exporting the question bank"),
    Rule(
        "wagtailsnippets_quizzes_question:delete",
        ADMIN_ONLY,
        args={"pk": "question_id"},
        why="editors retire questions, never delete them; the superuser holds every permission",
    ),
    Rule(
        "wagtailsnippets_quizzes_question:*",
        CONTENT_STAFF,
        "the question bank",
        args={"pk": "question_id"},
    ),
    Rule(
        "wagtailsnippetchoosers_quizzes_question:*",
        CONTENT_STAFF,
        "choosing questions for a quiz: the bank is closed to secretaries (docs/roles.md), "
        "its chooser too",
        args={"pk": "question_id"},
    ),
    Rule(
        "question_categories:delete",
        CONTENT_STAFF,
        "deleting an empty category",
        args={"pk": "empty_category_id"},
    ),
    Rule(
        "question_categories:*",
        CONTENT_STAFF,
        "the bank's categories",
        args={"pk": "question_category_id"},
    ),
    Rule(
        "quiz_admin:delete",
        CONTENT_STAFF,
        "deleting a quiz nobody took",
        args={"pk": "empty_quiz_id"},
    ),
    Rule("quiz_admin:*", CONTENT_STAFF, "building quizzes", args={"pk": "quiz_id"}),
    Rule("quizzes_daily_settings", CONTENT_STAFF, "the daily quiz settings"),
    Rule(
        "quizzes_quiz_statistics",
        CONTENT_STAFF,
        "statistics are for those who build quizzes (docs/quizzes.md)",
        args={"pk": "quiz_id"},
    ),
    Rule(
        "quizzes_grading",
        ADMIN_ACCESS,
        "the grading queue; a secretary's holds their subtree's answers only",
    ),
    Rule(
        "quizzes_grade",
        CONTENT_STAFF,
        "grading the member's answer: every organisation's for quiz builders, the other "
        "subtree's secretary gets 404",
        method="post",
        args={"pk": "answer_to_grade"},
        data={"percent": "100"},
    ),
    Rule(
        "quizzes_attempt_accept_fast",
        ADMIN_ONLY,
        "accepting the member's fast attempt is for the member's own secretaries (and "
        "administrators); editors grade, they do not vouch for a member",
        method="post",
        args={"pk": "attempt_done"},
    ),
    Rule("quizzes_results", ADMIN_ACCESS, "results, scoped for a secretary"),
    Rule(
        "quizzes_quiz_results*",
        ADMIN_ACCESS,
        "a quiz's results, a secretary's showing only their subtree's attempts",
        args={"pk": "quiz_id"},
    ),
    # --- The admin: people, organisations, study, points ---------------------------------
    Rule("wagtailusers_users:index*", SECRETARY_AND_ADMIN, "a secretary lists their subtree"),
    Rule("wagtailusers_users:add", SECRETARY_AND_ADMIN, "a secretary adds members"),
    Rule(
        "wagtailusers_users:*",
        ADMIN_ONLY,
        "the member's account: the other subtree's secretary gets 404 (docs/roles.md)",
        args={"pk": "member_id"},
    ),
    Rule(
        "wagtail_bulk_action",
        ADMIN_ONLY,
        "bulk actions on the member: outside a secretary's subtree as if absent",
        path="/admin/bulk/learning/member/set_active_state/?id={member_id}",
    ),
    Rule("learning_member_import", SECRETARY_AND_ADMIN, "importing members into one's subtree"),
    Rule("learning_member_import_template", SECRETARY_AND_ADMIN, "the member import template"),
    Rule("learning_login_lockouts", ADMIN_ONLY, "failed logins are the administrator's"),
    Rule(
        "learning_member_erase",
        ADMIN_ONLY,
        "erasing a member's personal data is the administrator's alone (docs/privacy.md)",
        args={"pk": "member_id"},
    ),
    Rule("learning_integrity_flags", SECRETARY_AND_ADMIN, "the review queue, scoped"),
    Rule(
        "learning_integrity_flag",
        ADMIN_ONLY,
        "the member's flag: the other subtree's secretary gets 404",
        args={"pk": "flag_id"},
    ),
    Rule("organizations:index*", SECRETARY_AND_ADMIN, "a secretary lists their subtree"),
    Rule(
        "organizations:*",
        ADMIN_ONLY,
        "the member's branch: the tree is the administrator's",
        args={"pk": "organization_id"},
    ),
    Rule("secretaries:*", ADMIN_ONLY, "appointing secretaries", args={"pk": "appointment_id"}),
    Rule("assignments:index*", ADMIN_ACCESS, "assignments that touch one's scope"),
    Rule("assignments:add", ADMIN_ACCESS, "secretaries assign to their subtree, editors anywhere"),
    Rule(
        "assignments:report",
        SECRETARY_AND_ADMIN,
        "completion reports are for secretaries and administrators (editors assign but "
        "follow no members); the other subtree's secretary sees none of the member's "
        "(tests/security/test_secretary_scope.py)",
        path="/admin/assignments/report/?assignment={assignment_id}",
    ),
    Rule(
        "assignments:report_export",
        ADMIN_ONLY,
        "the report of the member's branch as a workbook: 404 for the other subtree",
        path="/admin/assignments/report/export/?assignment={assignment_id}",
    ),
    Rule(
        "assignments:*",
        CONTENT_STAFF,
        "the assignment to the member's branch: editors assign anywhere, the other "
        "subtree's secretary gets 404",
        args={"pk": "assignment_id"},
    ),
    Rule("ledger:index*", SECRETARY_AND_ADMIN, "the ledger, a secretary's scoped"),
    Rule("ledger:add", NOBODY, "nobody writes the ledger by hand, superusers included"),
    Rule(
        "ledger:edit",
        NOBODY,
        "ledger entries are never edited (docs/points.md)",
        args={"pk": "ledger_entry"},
    ),
    Rule(
        "ledger:delete",
        NOBODY,
        "ledger entries are never deleted (docs/points.md)",
        args={"pk": "ledger_entry"},
    ),
    Rule(
        "ledger:history*",
        NOBODY,
        "entries never change, so they have no history",
        args={"pk": "ledger_entry"},
    ),
    Rule("ledger:usage", NOBODY, "entries are used by nothing", args={"pk": "ledger_entry"}),
    Rule(
        "ledger:*",
        ADMIN_ONLY,
        "the member's entry: reversing is the administrator's",
        args={"pk": "ledger_entry"},
    ),
    Rule(
        "screens:*", ADMIN_ONLY, "office screens are the administrator's", args={"pk": "screen_id"}
    ),
    Rule(
        "wagtailsnippets_learning_pointsrule:add",
        NOBODY,
        "rules come with the code that awards them (migrations), never added by hand",
    ),
    Rule(
        "wagtailsnippets_learning_pointsrule:delete",
        NOBODY,
        "a rule is switched off, never deleted: the ledger points at it",
        args={"pk": "points_rule_id"},
    ),
    Rule("wagtailsnippetchoosers_learning_pointsrule:create", NOBODY, "as adding a rule"),
    Rule(
        "wagtailsnippets_learning_pointsrule:*",
        ADMIN_ONLY,
        "points rules are data, the administrator's",
        args={"pk": "points_rule_id", "revision_id": "points_rule_revision"},
    ),
    Rule(
        "wagtailsnippetchoosers_learning_pointsrule:*",
        ADMIN_ACCESS,
        "Wagtail opens snippet choosers to every admin user; rule names are on My points",
        args={"pk": "points_rule_id"},
    ),
    Rule(
        "wagtailsnippets_cms_coursecategory:*",
        ADMIN_ONLY,
        "course categories (cms.*)",
        args={"pk": "course_category_id"},
    ),
    Rule(
        "wagtailsnippets_cms_policycategory:*",
        ADMIN_ONLY,
        "policy categories (cms.*)",
        args={"pk": "policy_category_id"},
    ),
    Rule("wagtailsnippetchoosers_cms_*:create", ADMIN_ONLY, "adding a category (cms.*)"),
    Rule(
        "wagtailsnippetchoosers_cms_coursecategory:*",
        ADMIN_ACCESS,
        "Wagtail opens snippet choosers to every admin user; categories are on public pages",
        args={"pk": "course_category_id"},
    ),
    Rule(
        "wagtailsnippetchoosers_cms_policycategory:*",
        ADMIN_ACCESS,
        "Wagtail opens snippet choosers to every admin user; categories are on public pages",
        args={"pk": "policy_category_id"},
    ),
    # --- The admin: the platform ---------------------------------------------------------
    Rule(
        "wagtailadmin_collections:*",
        ADMIN_ONLY,
        "collections and their privacy",
        args={"pk": "collection_pk"},
    ),
    Rule(
        "wagtailadmin_workflows:task_chooser*",
        ADMIN_ACCESS,
        "Wagtail's task chooser opens for every admin user; it lists task names only",
    ),
    Rule("wagtailadmin_workflows:task_chosen", ADMIN_ACCESS, "the task chooser's answer"),
    Rule(
        "wagtailadmin_workflows:remove",
        ADMIN_ONLY,
        "workflows are the administrator's",
        method="post",
    ),
    Rule(
        "wagtailadmin_workflows:enable*",
        ADMIN_ONLY,
        "workflows are the administrator's",
        method="post",
        args={"pk": "workflow_id"},
    ),
    Rule(
        "wagtailadmin_workflows:*",
        ADMIN_ONLY,
        "workflows are the administrator's",
        args={"pk": "workflow_id", "app_label": "task_app", "model_name": "task_model"},
    ),
    Rule(
        "admin/settings/<slug:app_name>/<slug:model_name>/",
        ADMIN_ACCESS,
        "only redirects to the settings row, which refuses whoever may not change it",
        args={"app_name": "settings_app", "model_name": "settings_model"},
    ),
    Rule(
        "wagtailsettings:preview_on_edit",
        NOBODY,
        "the leaderboard settings have no preview",
        args={"app_name": "settings_app", "model_name": "settings_model", "pk": "settings_pk"},
    ),
    Rule(
        "wagtailsettings:*",
        ADMIN_ONLY,
        "the leaderboard settings",
        args={"app_name": "settings_app", "model_name": "settings_model", "pk": "settings_pk"},
    ),
    Rule(
        "wagtailredirects:process_import",
        ADMIN_ONLY,
        "importing redirects; a form whose signed fields were tampered with is a 500 for the "
        "administrator (Wagtail 8.0.1 reads BadSignature.message, which does not exist)",
        method="post",
        data={"import_file_name": "redirects.csv", "input_format": "0"},
        raises="'BadSignature' object has no attribute 'message'",
    ),
    Rule("wagtailredirects:*", ADMIN_ONLY, "redirects are the administrator's"),
    Rule("wagtailsites:*", ADMIN_ONLY, "sites", args={"pk": "site_id"}),
    Rule("wagtailusers_groups:*", ADMIN_ONLY, "roles", args={"pk": "group_id"}),
]
