"""Member-facing quiz pages (the quiz engine fills these in its own issue)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """The quiz section: daily quiz, open quizzes, practice, wrong-answer book."""
    return render(request, "quizzes/index.html", {})
