"""Member-facing endpoints of ``cms`` that are not pages: the lesson heartbeat."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cms.models import LessonPage
from learning.common.json_body import JSONBodyError, json_body_parse
from learning.study.progress import LessonRequirements, lesson_heartbeat

# A lesson earns at most this multiple of its estimated time, so a tab left open with an
# occasional touch cannot pile up hours.
CAP_FACTOR = 3


@login_required
@require_POST
def lesson_heartbeat_view(request: HttpRequest, page_id: int) -> JsonResponse:
    """One heartbeat from an open lesson page; answers with the member's progress."""
    lesson = LessonPage.objects.live().public().filter(pk=page_id).first()
    if lesson is None:
        raise Http404(_("This lesson is not published."))
    try:
        data = json_body_parse(request.body or b"{}")
    except RequestDataTooBig:
        return JsonResponse({"error": _("The request body is too large.")}, status=413)
    except JSONBodyError as error:
        return JsonResponse({"error": error.message}, status=400)
    try:
        if not isinstance(data, dict):
            raise ValueError
        video_percent = data.get("video_percent")
        if video_percent is not None:
            # json_body_parse refuses 1e400 and NaN, so int() cannot overflow here.
            video_percent = int(video_percent)
    except (ValueError, TypeError):
        return JsonResponse({"error": _("The heartbeat could not be read.")}, status=400)
    result = lesson_heartbeat(
        member=request.user,
        lesson_id=lesson.pk,
        requirements=lesson_requirements(lesson),
        visible=bool(data.get("visible")),
        active=bool(data.get("active")),
        reached_end=bool(data.get("reached_end")),
        video_percent=video_percent,
        closing=bool(data.get("closing")),
    )
    progress = result.progress
    return JsonResponse(
        {
            "credited": result.credited,
            "verified_seconds": progress.verified_seconds,
            "required_seconds": lesson.min_study_minutes * 60,
            "reached_end": progress.reached_end,
            "video_percent": progress.video_percent,
            "completed": progress.completed_at is not None,
            "completed_now": result.completed_now,
            "course_completed_now": result.course_completed_now,
        }
    )


def lesson_requirements(lesson: LessonPage) -> LessonRequirements:
    """What completing ``lesson`` takes, and the course it belongs to."""
    course = lesson.get_parent().specific
    lesson_ids = list(
        LessonPage.objects.child_of(course).live().public().values_list("pk", flat=True)
    )
    return LessonRequirements(
        min_seconds=lesson.min_study_minutes * 60,
        cap_seconds=max(lesson.estimated_minutes, lesson.min_study_minutes) * 60 * CAP_FACTOR,
        course_id=course.pk,
        course_lesson_ids=lesson_ids,
        course_points=getattr(course, "completion_points", 0),
    )
