"""Security headers as an HTTP client sees them: HTTPS, HSTS, framing and the CSP.

The browser's side (no violation on any page, the scripts still working, an injected
script refused) is in tests/browser/test_csp.py. The settings read from the environment
and ``check --deploy`` are in tests/test_settings.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from wagtail.embeds.embeds import get_embed_hash
from wagtail.embeds.models import Embed

from learning.models import Member, Screen
from tests.conftest import Tree
from tests.factories.pages import add_course, lessons_of
from tests.factories.people import DEFAULT_PASSWORD, MemberFactory

REPO = Path(__file__).resolve().parent.parent
HSTS = "max-age=31536000; includeSubDomains; preload"


def policy_of(response) -> dict[str, list[str]]:
    """The Content-Security-Policy header as {directive: [sources]}."""
    header = response.headers.get("Content-Security-Policy", "")
    assert header, f"no Content-Security-Policy on {response.request['PATH_INFO']}"
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


@pytest.fixture
def member(tree: Tree) -> Member:
    return MemberFactory(username="zhanghong", display_name="张红", organization=tree.branch_a1)


@pytest.fixture
def member_client(member: Member) -> Client:
    client = Client()
    assert client.login(username=member.username, password=DEFAULT_PASSWORD)
    return client


@pytest.fixture
def screen(tree: Tree) -> Screen:
    return Screen.objects.create(organization=tree.committee, name="大厅", refresh_seconds=30)


# --- Content-Security-Policy --------------------------------------------------------


STRICT = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "media-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


@pytest.mark.parametrize(
    "url_name",
    [
        "learning:learn",
        "learning:points",
        "learning:account",
        "quizzes:index",
        "quizzes:practice_index",
        "quizzes:wrong_book",
        "quizzes:history",
        "search",
    ],
)
def test_member_pages_allow_no_inline_script_eval_or_style(member_client, url_name):
    response = member_client.get(reverse(url_name))
    assert response.status_code == 200
    policy = policy_of(response)
    for directive, sources in STRICT.items():
        assert policy[directive] == sources, directive
    assert "'unsafe-inline'" not in response.headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response.headers["Content-Security-Policy"]


def test_login_home_lesson_and_error_pages_carry_the_policy_too(db, member_client):
    lesson = lessons_of(add_course("党史学习", ["第一课"]))[0]
    for client, url in [
        (Client(), reverse("login")),
        (Client(), "/"),
        (member_client, "/"),
        (member_client, lesson.url),
        (member_client, "/no-such-page/"),
    ]:
        response = client.get(url)
        assert response.status_code in (200, 404)
        assert policy_of(response)["script-src"] == ["'self'"], url


def test_the_screen_and_its_snapshot_carry_the_policy(client, screen):
    for name in ("screen", "screen_snapshot"):
        response = client.get(reverse(name, args=[screen.token]))
        assert response.status_code == 200
        assert policy_of(response)["script-src"] == ["'self'"]


def test_only_the_admin_may_run_inline_scripts(client, editor):
    client.force_login(editor)
    response = client.get(reverse("wagtailadmin_home"))
    assert response.status_code == 200
    policy = policy_of(response)
    # Wagtail 8 writes inline <script> and <style> elements and has no nonces.
    assert policy["script-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert "'unsafe-eval'" not in response.headers["Content-Security-Policy"]
    # Its previews are framed by the admin itself, and by nobody else.
    assert policy["frame-ancestors"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    # The members' pages stay strict for the same user.
    assert policy_of(client.get(reverse("quizzes:index")))["script-src"] == ["'self'"]


def test_a_preview_has_the_page_policy_framed_by_the_admin(client, editor):
    """Wagtail renders a preview through the middleware with a made-up request for the
    page: it gets the page's strict policy, which lets only the admin frame it."""
    lesson = lessons_of(add_course("党史学习", ["第一课 开天辟地"]))[0]
    client.force_login(editor)
    response = client.get(reverse("wagtailadmin_pages:view_draft", args=[lesson.pk]))
    assert response.status_code == 200
    assert "第一课 开天辟地" in response.content.decode()
    policy = policy_of(response)
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'self'"]


def test_an_embedded_video_is_rendered_and_its_player_allowed(member_client):
    video = "https://www.youtube.com/watch?v=abc"
    Embed.objects.create(
        url=video,
        hash=get_embed_hash(video),
        type="video",
        html='<iframe src="https://www.youtube.com/embed/abc?feature=oembed"></iframe>',
    )
    course = add_course("党史学习", ["第一课"])
    lesson = lessons_of(course)[0]
    lesson.body = [("video", {"file": None, "embed": video, "caption": ""})]
    lesson.save_revision().publish()
    response = member_client.get(lesson.url)
    # The player's iframe itself, not its HTML printed as text.
    assert b'<iframe src="https://www.youtube.com/embed/abc' in response.content
    assert policy_of(response)["frame-src"] == [
        "https://www.youtube.com",
        "https://player.vimeo.com",
    ]


# --- Framing ------------------------------------------------------------------------


def test_no_page_may_be_framed_by_default(client, member_client, screen):
    for response in [
        client.get(reverse("login")),
        member_client.get(reverse("quizzes:index")),
        client.get(reverse("screen", args=[screen.token])),
    ]:
        assert response.headers["X-Frame-Options"] == "DENY"
        assert policy_of(response)["frame-ancestors"] == ["'none'"]


def test_a_screen_is_frameable_only_by_the_listed_signage_origins(
    client, member_client, screen, settings
):
    settings.DANGJIAN_SCREEN_FRAME_ANCESTORS = ["https://signage.example.org"]
    response = client.get(reverse("screen", args=[screen.token]))
    assert response.status_code == 200
    assert policy_of(response)["frame-ancestors"] == ["https://signage.example.org"]
    # X-Frame-Options can name no origin; the CSP alone decides for this response.
    assert "X-Frame-Options" not in response.headers
    # Only the kiosk page: everything else still refuses to be framed.
    other = member_client.get(reverse("quizzes:index"))
    assert other.headers["X-Frame-Options"] == "DENY"
    assert policy_of(other)["frame-ancestors"] == ["'none'"]
    # A wrong token is not a page worth framing, but it gives nothing away either.
    assert client.get(reverse("screen", args=["no-such-token"])).status_code == 404


# --- HTTPS and HSTS -----------------------------------------------------------------


@pytest.fixture
def https_only(settings):
    """The production defaults that test.py turns off for plain-HTTP tests."""
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    return settings


@pytest.mark.django_db
def test_plain_http_is_redirected_to_https(client, https_only):
    response = client.get("/quiz/?x=1")
    assert response.status_code == 301
    assert response.headers["Location"] == "https://testserver/quiz/?x=1"
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.django_db
def test_https_responses_carry_hsts(client, https_only):
    response = client.get(reverse("login"), secure=True)
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"] == HSTS


@pytest.mark.django_db
def test_a_forged_forwarded_proto_is_not_trusted_by_default(client, https_only):
    """A client that says "I used HTTPS" over plain HTTP still gets the redirect."""
    assert https_only.SECURE_PROXY_SSL_HEADER is None
    response = client.get(reverse("login"), headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 301
    assert response.headers["Location"].startswith("https://")
    assert "Strict-Transport-Security" not in response.headers


@pytest.mark.django_db
def test_the_proxy_header_is_trusted_once_an_operator_names_it(client, https_only):
    https_only.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    response = client.get(reverse("login"), headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"] == HSTS
    assert client.get(reverse("login")).status_code == 301


@pytest.mark.django_db
def test_other_security_headers_on_every_response(client):
    response = client.get(reverse("login"))
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"


# --- Templates ----------------------------------------------------------------------


TEMPLATES = sorted((REPO / "templates").rglob("*.html"))
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
JAVASCRIPT_URL = re.compile(r"""(href|src|action)\s*=\s*["']?\s*javascript:""", re.I)
STYLE = re.compile(r"(\sstyle\s*=|<style\b)", re.I)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda path: str(path.relative_to(REPO)))
def test_templates_hold_no_inline_script_handler_or_javascript_url(path):
    text = path.read_text(encoding="utf-8")
    assert not INLINE_SCRIPT.search(text), "inline <script>: move it to static/js/"
    assert not EVENT_HANDLER.search(text), "inline event handler: bind it in static/js/"
    assert not JAVASCRIPT_URL.search(text), "javascript: URL"


@pytest.mark.parametrize(
    "path",
    [path for path in TEMPLATES if "admin" not in path.relative_to(REPO).parts],
    ids=lambda path: str(path.relative_to(REPO)),
)
def test_member_templates_hold_no_inline_style(path):
    """Only the admin's policy allows inline styles (Wagtail needs them there)."""
    assert not STYLE.search(path.read_text(encoding="utf-8")), "style: use a class in CSS"


def test_the_server_error_page_is_styled_by_a_static_file():
    html = render_to_string("500.html")
    assert "<style" not in html
    assert 'href="/static/css/error.css"' in html
    assert (REPO / "static" / "css" / "error.css").is_file()
