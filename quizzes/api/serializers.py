"""Shapes of the quiz API (``quizzes.api.views``): what goes out, and what a request may carry.

Questions reach the API only as the dictionaries ``quizzes.taking.presenting`` and
``quizzes.taking.practice`` build. The serializers here re-declare those dictionaries field by
field, so the API is a second allow-list: a key added to a presenting dictionary later does
not reach the app unless it is declared here too. ``FeedbackSerializer`` (the right answer
and 解析) is used only where the presenting functions put feedback in.

Input serializers check the shape of a request body and nothing more; whether an answer
fits its question, or may still be changed, is for the services to say.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from quizzes.models import Attempt, Quiz, WrongAnswer
from quizzes.taking.attempts import MAX_SEQ
from quizzes.taking.availability import attempts_left
from quizzes.taking.pacing import served_token
from quizzes.taking.practice import practice_question
from quizzes.taking.presenting import checked_feedback, seconds_left

# Scores are decimals with two places; the API writes them as strings, never floats.
SCORE_FIELD = serializers.DecimalField(max_digits=8, decimal_places=2)


# --- Input ------------------------------------------------------------------------------


class StrictIntegerField(serializers.IntegerField):
    """A JSON number without a fraction: ``"3"``, ``3.5`` and ``true`` are refused.

    DRF's ``IntegerField`` accepts strings and ``3.0``; a sequence number is a counter the
    app keeps, so anything but an integer is a bug in the app that it should hear about.
    """

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class AnswerSerializer(serializers.Serializer):
    """``{"response": {...}}``: the member's answer, an object in the question type's form.

    ``{"choices": [option ids]}``, ``{"value": true|false}``, ``{"blanks": ["…"]}`` or
    ``{"text": "…"}``; ``null`` clears a saved answer.
    """

    response = serializers.JSONField(allow_null=True)

    def validate_response(self, value: Any) -> dict[str, Any] | None:
        if value is not None and not isinstance(value, dict):
            raise serializers.ValidationError(_("The answer must be a JSON object or null."))
        return value


class PractiseSerializer(AnswerSerializer):
    """``{"response": {...}, "served": "…"}``: a practised answer with the token the
    question was served with (``quizzes.taking.pacing``)."""

    served = serializers.CharField(required=False, max_length=200)


class AnswerSaveSerializer(AnswerSerializer):
    """``{"response": {...}, "seq": n}``: ``seq`` counts up with every change the app makes."""

    seq = StrictIntegerField(min_value=1, max_value=MAX_SEQ)


class AnswerCheckSerializer(AnswerSerializer):
    """``{"response": {...}, "seq": n}``: ``seq`` (optional) is the app's next number for the
    question, so its own saves sent before the check are stale if they arrive after it."""

    seq = StrictIntegerField(min_value=1, max_value=MAX_SEQ, required=False)


class AttemptFilterSerializer(serializers.Serializer):
    """Query parameters of the attempt list."""

    state = serializers.ChoiceField(choices=Attempt.State.choices, required=False)


# --- Questions (from quizzes.taking.presenting / quizzes.taking.practice) ---------------------


class OptionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    letter = serializers.CharField()
    text = serializers.CharField()


class FeedbackSerializer(serializers.Serializer):
    """The verdict on one answer: only after submitting, or after each question's check."""

    state = serializers.CharField()
    state_label = serializers.CharField()
    correct = serializers.BooleanField()
    mark = serializers.CharField(allow_null=True)
    correct_answer = serializers.CharField(allow_blank=True)
    correct_option_ids = serializers.ListField(child=serializers.IntegerField())
    explanation = serializers.CharField(allow_blank=True)
    comment = serializers.CharField(allow_blank=True)
    # True when an exam holds the question back: the verdict, but no answer or 解析.
    held = serializers.BooleanField()


class _QuestionTextSerializer(serializers.Serializer):
    """What a member reads of any question: its type, text, blanks, image and options."""

    type = serializers.CharField()
    type_label = serializers.CharField()
    stem = serializers.CharField()
    stem_parts = serializers.ListField(child=serializers.CharField(allow_blank=True))
    blank_count = serializers.IntegerField()
    image_id = serializers.IntegerField(allow_null=True)
    options = OptionSerializer(many=True)


class QuestionSerializer(_QuestionTextSerializer):
    """A question of an attempt, as ``public_question`` or ``question_review`` give it."""

    position = serializers.IntegerField()
    mark = serializers.CharField()
    response = serializers.JSONField(allow_null=True)
    seq = serializers.IntegerField()
    answered = serializers.BooleanField()
    # Absent from the dictionary (and so from the JSON) unless presenting added it.
    feedback = FeedbackSerializer(required=False)
    # An exam still holds the question back: no feedback until ``held_until`` (null: until
    # the exam is closed), although the review is otherwise open.
    held = serializers.BooleanField()
    held_until = serializers.DateTimeField(required=False, allow_null=True)


class PracticeQuestionSerializer(_QuestionTextSerializer):
    """A live bank question for practice, as ``practice.practice_question`` gives it."""

    id = serializers.IntegerField()


# --- Quizzes ----------------------------------------------------------------------------


class QuizBriefSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display")

    class Meta:
        model = Quiz
        fields = ["id", "kind", "kind_label", "title"]


class QuizRowSerializer(serializers.ModelSerializer):
    """A quiz the member may take, with their own record at it.

    The record comes from the view as ``context["mine"]``: ``{quiz id: {"used", "best",
    "in_progress", "latest", "held"}}``, one query for the whole page.
    """

    kind_label = serializers.CharField(source="get_kind_display")
    attempts_used = serializers.SerializerMethodField()
    attempts_left = serializers.SerializerMethodField()
    best_score = serializers.SerializerMethodField()
    attempt_in_progress = serializers.SerializerMethodField()
    latest_attempt = serializers.SerializerMethodField()
    attempts_held = serializers.SerializerMethodField()

    class Meta:
        model = Quiz
        fields = [
            "id",
            "kind",
            "kind_label",
            "title",
            "description",
            "opens_at",
            "closes_at",
            "time_limit_minutes",
            "attempts_allowed",
            "attempts_used",
            "attempts_left",
            "best_score",
            "attempt_in_progress",
            "latest_attempt",
            "attempts_held",
        ]

    def _mine(self, quiz: Quiz) -> dict[str, Any]:
        return self.context["mine"].get(quiz.pk, {})

    def get_attempts_used(self, quiz: Quiz) -> int:
        return self._mine(quiz).get("used", 0)

    def get_attempts_left(self, quiz: Quiz) -> int | None:
        return attempts_left(quiz, self.get_attempts_used(quiz))

    def get_best_score(self, quiz: Quiz) -> str | None:
        best = self._mine(quiz).get("best")
        return None if best is None else SCORE_FIELD.to_representation(best)

    def get_attempt_in_progress(self, quiz: Quiz) -> int | None:
        return self._mine(quiz).get("in_progress")

    def get_latest_attempt(self, quiz: Quiz) -> int | None:
        return self._mine(quiz).get("latest")

    def get_attempts_held(self, quiz: Quiz) -> int:
        """Submitted attempts whose points wait for the secretary (too fast)."""
        return self._mine(quiz).get("held", 0)


# --- Attempts ---------------------------------------------------------------------------


class AttemptSerializer(serializers.ModelSerializer):
    """An attempt without its questions (lists, and beside a check's feedback)."""

    quiz = QuizBriefSerializer()
    seconds_left = serializers.SerializerMethodField()
    question_count = serializers.SerializerMethodField()
    percent = serializers.DecimalField(max_digits=5, decimal_places=1, read_only=True)
    result_state = serializers.ChoiceField(choices=Attempt.ResultState.choices, read_only=True)
    result_state_label = serializers.SerializerMethodField()

    class Meta:
        model = Attempt
        fields = [
            "id",
            "quiz",
            "number",
            "state",
            "started_at",
            "deadline",
            "seconds_left",
            "submitted_at",
            "finished_by",
            "review",
            "question_count",
            "score",
            "max_score",
            "percent",
            "correct_count",
            "needs_grading",
            "passed",
            "too_fast",
            "result_state",
            "result_state_label",
            "points",
        ]

    def get_result_state_label(self, attempt: Attempt) -> str:
        return str(Attempt.ResultState(attempt.result_state).label)

    def get_seconds_left(self, attempt: Attempt) -> int | None:
        if attempt.is_submitted:
            return None
        return seconds_left(attempt)

    def get_question_count(self, attempt: Attempt) -> int:
        # Lists annotate the count so that a page of attempts costs one query.
        annotated = getattr(attempt, "question_count", None)
        if annotated is not None:
            return annotated
        return attempt.questions.count()


class AttemptDetailSerializer(AttemptSerializer):
    """An attempt with its questions, which the view gets from ``quizzes.taking.presenting``.

    ``context["questions"]`` is the list of presenting dictionaries to show, and
    ``context["review_allowed"]`` whether they carry the answers (``review_allowed``).
    """

    review_allowed = serializers.SerializerMethodField()
    feedback_each = serializers.SerializerMethodField()
    questions = serializers.SerializerMethodField()

    class Meta(AttemptSerializer.Meta):
        fields = [*AttemptSerializer.Meta.fields, "review_allowed", "feedback_each", "questions"]

    def get_review_allowed(self, attempt: Attempt) -> bool:
        return bool(self.context["review_allowed"])

    def get_feedback_each(self, attempt: Attempt) -> bool:
        return attempt.review == Quiz.Review.AFTER_EACH

    def get_questions(self, attempt: Attempt) -> list[dict[str, Any]]:
        return QuestionSerializer(self.context["questions"], many=True).data


class SaveResultSerializer(serializers.Serializer):
    """What a save did (``attempts.SaveResult``): ``stale`` when a newer answer was stored.

    The stored answer and its ``seq`` come back either way, so an app that lost a race
    can show what the server holds.
    """

    position = serializers.IntegerField(source="item.position")
    stale = serializers.BooleanField()
    # Answered for good by a check: a stale save is not to be sent again (web reply too).
    checked = serializers.BooleanField()
    seq = serializers.IntegerField(source="item.response_seq")
    saved_at = serializers.DateTimeField(source="item.saved_at", allow_null=True)
    response = serializers.JSONField(source="item.response", allow_null=True)


class CheckResultSerializer(serializers.Serializer):
    """The verdict on a checked answer (``attempts.Feedback``) and the attempt after it."""

    position = serializers.IntegerField(source="item.position")
    correct = serializers.BooleanField()
    feedback = serializers.SerializerMethodField()
    finished = serializers.SerializerMethodField()
    attempt = AttemptSerializer()

    def get_feedback(self, result: Any) -> dict[str, Any]:
        return FeedbackSerializer(checked_feedback(result.item)).data

    def get_finished(self, result: Any) -> bool:
        return result.attempt.is_submitted


# --- Wrong-answer book ------------------------------------------------------------------


class WrongAnswerSerializer(serializers.ModelSerializer):
    """An entry of the member's wrong-answer book, with the question as it reads now."""

    category = serializers.CharField(source="question.category.name")
    question = serializers.SerializerMethodField()
    # Send it back with the answer: a verdict only for a question served to this member.
    served = serializers.SerializerMethodField()

    class Meta:
        model = WrongAnswer
        fields = [
            "id",
            "wrong_count",
            "correct_streak",
            "last_wrong_at",
            "category",
            "question",
            "served",
        ]

    def get_question(self, entry: WrongAnswer) -> dict[str, Any]:
        return PracticeQuestionSerializer(practice_question(entry.question)).data

    def get_served(self, entry: WrongAnswer) -> str:
        return served_token(self.context["request"].user, entry.question_id)


class PracticeVerdictSerializer(serializers.Serializer):
    """The verdict on a practised answer (``practice.PracticeVerdict``)."""

    correct = serializers.BooleanField()
    state = serializers.CharField()
    correct_answer = serializers.CharField(allow_blank=True)
    correct_option_ids = serializers.ListField(child=serializers.IntegerField())
    explanation = serializers.CharField(allow_blank=True)
    mastered = serializers.BooleanField()
    points = serializers.IntegerField()
