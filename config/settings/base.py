"""Settings shared by every environment.

Every environment variable the project reads is read here, once, with an embedded
default where a safe one exists, so that a fresh clone runs with no configuration
(SQLite, local-memory cache, Celery on a filesystem broker under ``var/``).
``dev``, ``test`` and ``production`` only override.
"""

from __future__ import annotations

import datetime
import os
import re
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import env_bool, env_int, env_list
from config.media_storage import media_origins, media_storage
from ops.logging import LOG_FORMATS, logging_config

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


# An origin for a Content-Security-Policy source list: 'self', or scheme://host[:port]
# (the host may start with "*."). Anything else could smuggle another directive in.
_CSP_ORIGIN = re.compile(r"'self'|https?://(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:[0-9]{1,5})?")


def env_origins(name: str, default: list[str]) -> list[str]:
    """Read a comma-separated list of origins for a CSP directive; refuse anything else.

    "none" (or "'none'") alone is the empty list: no origin at all.
    """
    origins = [origin.rstrip("/") for origin in env_list(name, default)]
    if origins in (["none"], ["'none'"]):
        return []
    for origin in origins:
        if not _CSP_ORIGIN.fullmatch(origin):
            raise ImproperlyConfigured(
                f"{name}: {origin!r} is not an origin such as https://signage.example.org "
                "or 'self'."
            )
    return origins


def env_proxy_ssl_header(name: str) -> tuple[str, str] | None:
    """Read "Header-Name" or "Header-Name: value" (value defaults to https) for Django's
    SECURE_PROXY_SSL_HEADER; unset means no header is trusted."""
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    header, _sep, expected = value.partition(":")
    header, expected = header.strip(), expected.strip() or "https"
    if not re.fullmatch(r"[A-Za-z0-9-]+", header):
        raise ImproperlyConfigured(
            f"{name} must name a header, such as X-Forwarded-Proto, not {value!r}."
        )
    return ("HTTP_" + header.upper().replace("-", "_"), expected)


# --- Core -------------------------------------------------------------------

# The embedded key is for development only; production.py refuses to start with it.
INSECURE_DEFAULT_SECRET_KEY = "django-insecure-dangjian-development-only-key-do-not-deploy"  # noqa: S105
SECRET_KEY = os.environ.get("SECRET_KEY", "") or INSECURE_DEFAULT_SECRET_KEY
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "learning",
    "cms",
    "quizzes",
    "demo",
    "ops",
    "wagtail.contrib.forms",
    "wagtail.contrib.settings",
    "wagtail.contrib.redirects",
    "wagtail.embeds",
    "wagtail.sites",
    # Wagtail's user admin, with the member viewset swapped in (see learning.apps).
    "learning.apps.MembersAdminConfig",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "rest_framework",
    # Login lockout (see "Authentication" below and docs/members.md).
    "axes",
    "csp",  # Content-Security-Policy (django-csp): its system checks; see "Security headers"
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Wagtail formats times with humanize ("2 seconds ago"); installed, its catalogue
    # translates them.
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    # First: every response and every log line of a request carry its id (docs/operations.md).
    "ops.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "learning.common.security_headers.ContentSecurityPolicyMiddleware",  # see "Security headers"
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Says "approved and published" where Wagtail says nothing or "updated" (docs/roles.md).
    "cms.workflow_messages.WorkflowOutcomeMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "learning.people.middleware.PasswordChangeRequiredMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    # Last, as django-axes requires: it turns a lockout into the response (429).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "learning.context_processors.navigation",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------

DEFAULT_SQLITE_PATH = VAR_DIR / "db.sqlite3"
DATABASE_URL = os.environ.get("DATABASE_URL", "") or f"sqlite:///{DEFAULT_SQLITE_PATH}"
# Connections are kept for a minute and checked before reuse, so a restarted PostgreSQL
# costs one reconnect instead of errors until the connection ages out.
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # A fresh clone has no var/ yet; SQLite cannot create the file's directory.
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers continue while one writer commits; IMMEDIATE takes the
        # write lock at BEGIN so concurrent writers queue instead of failing mid-way.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and Celery -------------------------------------------------------

REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_DIR = VAR_DIR / "celery"

# Every Redis client gives up on a server that stops answering (a network cut) instead of
# waiting for ever: a request, the beat and an enqueue fail within seconds, and a task the
# broker did not take is kept (learning.common.enqueue). The worker's BRPOP waits 1 s.
REDIS_CLIENT_TIMEOUTS = {"socket_connect_timeout": 3, "socket_timeout": 5}

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "dangjian",
            "OPTIONS": dict(REDIS_CLIENT_TIMEOUTS),
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = dict(REDIS_CLIENT_TIMEOUTS)
    CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_CLIENT_TIMEOUTS["socket_connect_timeout"]
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # kombu's filesystem transport: a broker that needs no server, for `make run`.
    CELERY_BROKER_URL = "filesystem://localhost//"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "store_processed": False,
    }
    for _folder in ("queue", "control", "processed"):
        (CELERY_BROKER_DIR / _folder).mkdir(parents=True, exist_ok=True)

CELERY_TIMEZONE = "Asia/Shanghai"
CELERY_ENABLE_UTC = True
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_IGNORE_RESULT = True
CELERY_IMPORTS = ["cms.search.tasks"]
CELERY_RESULT_BACKEND = None
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Only the beat holding a lock in Redis sends; a second beat is a standby (ops/beat.py).
CELERY_BEAT_SCHEDULER = "ops.beat:SingleBeatScheduler"
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # Scheduled publishing and expiry of pages ("go live at" / "expire at").
    "publish-scheduled-pages": {"task": "cms.publish_scheduled", "schedule": 60.0},
    # Recompute every points total from the append-only ledger (Asia/Shanghai time).
    "check-ledger-nightly": {
        "task": "learning.check_ledger",
        "schedule": crontab(hour=3, minute=17),
    },
    # Submit attempts whose time ran out, with their saved answers (within a minute).
    "submit-overdue-attempts": {"task": "quizzes.submit_overdue_attempts", "schedule": 30.0},
    # Make the day's daily quiz just after midnight (the first member to start it also does;
    # pages and the API only read it: a GET never writes).
    "make-daily-quiz": {"task": "quizzes.make_daily_quiz", "schedule": crontab(hour=0, minute=1)},
    # Yesterday's study patterns become integrity flags (docs/integrity.md).
    "flag-study-patterns": {
        "task": "learning.flag_study_patterns",
        "schedule": crontab(hour=2, minute=40),
    },
    # Each reviewer's email of the flags raised in their scope the day before.
    "integrity-digest": {
        "task": "learning.integrity_digest",
        "schedule": crontab(hour=7, minute=30),
    },
    # Tasks the broker refused (an outage) are kept and sent again (docs/operations.md).
    "send-unsent-tasks": {"task": "learning.send_unsent_tasks", "schedule": 60.0},
    # Liveness of the beat and of a worker on each queue, shown by /readyz (ops.heartbeats):
    # the default queue, and the search index's queue (WAGTAILSEARCH_BACKENDS WRITE_QUEUE).
    # A heartbeat nobody ran within a minute is dropped, not run late in a pile.
    "heartbeat-default-queue": {
        "task": "ops.heartbeat",
        "schedule": 30.0,
        "kwargs": {"lane": "default"},
        "options": {"expires": 60},
    },
    "heartbeat-search-queue": {
        "task": "ops.heartbeat",
        "schedule": 30.0,
        "kwargs": {"lane": "search"},
        "options": {"queue": "search", "expires": 60},
    },
    # Expired sessions and old login records removed (docs/privacy.md#how-long-it-stays).
    "housekeeping": {"task": "ops.housekeeping", "schedule": crontab(hour=4, minute=20)},
}
# Login records (django-axes' successful and failed logins) kept this many days.
DANGJIAN_LOGIN_RECORDS_DAYS = env_int("LOGIN_RECORDS_DAYS", 90)

# --- Email ------------------------------------------------------------------

# Password resets and the reviewers' morning digest. Without EMAIL_HOST, production
# sends through a mail server on this machine (localhost:25).
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "webmaster@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Authentication ---------------------------------------------------------

AUTH_USER_MODEL = "learning.Member"
AUTHENTICATION_BACKENDS = [
    # First: refuses every login of a locked-out account before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "learning.people.auth.UsernameOrPhoneBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Django's own list, plus the hasher of generated initial passwords (learning/people/hashers.py),
# last, so that nothing a person chooses is hashed with it and a password it hashed is
# re-hashed with the first one as soon as it is used.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "learning.people.hashers.InitialPasswordHasher",
]
SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
# Every signed-in request reads its session. With Redis it is read from the cache and
# written through to the database, which stays the record (a Redis restart signs nobody
# out): one query less per request (docs/benchmarks.md#morning-spike). Without Redis the
# cache is per process, so sessions stay in the database alone.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if REDIS_URL
    else "django.contrib.sessions.backends.db"
)
# Wagtail's admin login and password reset, with the lockout message and the throttle.
WAGTAILADMIN_USER_LOGIN_FORM = "learning.forms.AdminLoginForm"
WAGTAILADMIN_USER_PASSWORD_RESET_FORM = "learning.forms.ThrottledPasswordResetForm"  # noqa: S105

# Login lockout (django-axes). Every login (members' page, Wagtail admin, any API login)
# goes through django.contrib.auth.authenticate(request, ...), so through axes. Failures
# are counted per account, whether its username or its mobile number was typed
# (learning.people.auth.login_account_key), and locked per account + client address: people in
# one office share an address. An account is also locked from everywhere after
# LOGIN_ACCOUNT_FAILURE_LIMIT failures from any number of addresses (learning.people.auth).
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
DANGJIAN_LOGIN_ACCOUNT_FAILURE_LIMIT = env_int("LOGIN_ACCOUNT_FAILURE_LIMIT", 20)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=max(1, env_int("LOGIN_COOLOFF_MINUTES", 15)))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "username"]
AXES_HANDLER = "learning.people.auth.LoginAttemptHandler"
AXES_USERNAME_CALLABLE = "learning.people.auth.login_account_key"
AXES_CLIENT_IP_CALLABLE = "learning.people.auth.client_ip_address"
AXES_LOCKOUT_CALLABLE = "learning.people.auth.lockout_response"
# Failures during a lockout are not counted, so the lockout ends when the message says.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# A successful login clears the failures of that account from that address only
# (learning.people.auth.LoginAttemptHandler), not an attacker's from elsewhere.
AXES_RESET_ON_SUCCESS = False
# Dangjian has no Django admin; locked logins are listed in the Wagtail admin.
AXES_ENABLE_ADMIN = False
# No start-up banner on every manage.py command.
AXES_VERBOSE = False
# How many reverse proxies in front of the web server append to X-Forwarded-For; 0 (the
# default) trusts no header and uses the connection's address (docs/deployment.md).
DANGJIAN_TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# Password reset emails (Wagtail admin's "forgot password"): at most this many per account
# and per client address in a window; further requests send nothing.
DANGJIAN_PASSWORD_RESET_ACCOUNT_LIMIT = env_int("PASSWORD_RESET_ACCOUNT_LIMIT", 3)
DANGJIAN_PASSWORD_RESET_ADDRESS_LIMIT = env_int("PASSWORD_RESET_ADDRESS_LIMIT", 10)
DANGJIAN_PASSWORD_RESET_WINDOW = datetime.timedelta(
    minutes=env_int("PASSWORD_RESET_WINDOW_MINUTES", 60)
)

# Answer verdicts (practice, the wrong-answer book, checks in quizzes; docs/integrity.md):
# at most this many per member in a window, and none sooner after the question was served
# than its text takes to read at this many characters a second (never under the floor).
DANGJIAN_VERDICT_LIMIT = env_int("VERDICT_LIMIT", 60)
DANGJIAN_VERDICT_WINDOW = datetime.timedelta(minutes=env_int("VERDICT_WINDOW_MINUTES", 10))
DANGJIAN_READING_CHARS_PER_SECOND = env_int("READING_CHARS_PER_SECOND", 25)
DANGJIAN_READING_FLOOR_SECONDS = 1.0
# A practice question's served token is good for this long (then the page is reloaded).
DANGJIAN_SERVED_MAX_AGE = datetime.timedelta(hours=6)
# Signals raised when an attempt is submitted (docs/integrity.md#signals-at-submit); any
# of them holds the attempt's points for review. The values are those the simulation of
# 1,000 honest members measured at 0.5 % flagged, every bot caught (docs/benchmarks.md).
# The least plausible time of a question is its text at this pace, never under the floor
# (nor under the quiz's own seconds).
DANGJIAN_PLAUSIBLE_CHARS_PER_SECOND = env_int("PLAUSIBLE_CHARS_PER_SECOND", 12)
DANGJIAN_PLAUSIBLE_FLOOR_SECONDS = 2.0
# This many of a member's attempts started within the window of each other.
DANGJIAN_PARALLEL_ATTEMPTS = 3
DANGJIAN_PARALLEL_WINDOW = datetime.timedelta(seconds=15)
# At least this share right on at least this many questions, where the member's own
# record of the last 90 days on the same categories (at least that many answers) is at
# most the usual share.
DANGJIAN_ACCURACY_JUMP_PERCENT = 90
DANGJIAN_ACCURACY_JUMP_MIN_QUESTIONS = 8
DANGJIAN_ACCURACY_USUAL_PERCENT = 50
DANGJIAN_ACCURACY_HISTORY_ANSWERS = 30
# The same answer sequence as another member of the branch within a day, with at least
# this many answers of which at least this many are the same wrong ones.
DANGJIAN_SHARED_MIN_ANSWERS = 5
DANGJIAN_SHARED_MIN_WRONG = 3
# Study signals of the nightly job (learning.integrity.patterns): a run of credited
# heartbeats this long without a pause, its intervals within this spread of each other;
# study between 00:00 and 05:00 (at least the minutes) on this many of the last days.
DANGJIAN_REGULAR_RUN_MINUTES = env_int("REGULAR_RUN_MINUTES", 150)
DANGJIAN_REGULAR_SPREAD_MS = 1000
DANGJIAN_NIGHT_MINUTES = 10
DANGJIAN_NIGHT_DAYS = 5
DANGJIAN_NIGHT_WINDOW_DAYS = 14

# Lesson heartbeats credit at most this much study time to a member in a local day
# (docs/study.md, "Verified study time"); beats above it credit nothing.
DANGJIAN_STUDY_DAILY_CEILING_MINUTES = env_int("STUDY_DAILY_CEILING_MINUTES", 240)

# --- Internationalisation ---------------------------------------------------

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [
    ("zh-hans", _("Simplified Chinese")),
    ("en", _("English")),
]
# The project's catalogue first; then Chinese for the Wagtail strings Wagtail's own
# zh_Hans catalogue leaves out (docs/development.md, "Translations"). Django prefers the
# first path, and both over the installed apps' catalogues.
LOCALE_PATHS = [BASE_DIR / "locale", BASE_DIR / "locale_wagtail"]
# Named date formats per language (config/formats/): templates never spell out a format.
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES

# --- Static and media files -------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
# MEDIA_S3_BUCKET puts uploads into an S3-compatible bucket instead (config/media_storage.py).
MEDIA_STORAGE = media_storage()
STORAGES = {
    "default": MEDIA_STORAGE,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Search -----------------------------------------------------------------

SEARCH_INDEX_DIR = Path(os.environ.get("SEARCH_INDEX_DIR", VAR_DIR / "search-index"))

# --- Wagtail ----------------------------------------------------------------

WAGTAIL_SITE_NAME = "智慧党建"
WAGTAILADMIN_BASE_URL = os.environ.get("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")
# Chinese word segmentation in one of two indexes (docs/search.md): Whoosh on this machine's
# disk (the embedded default; the "search" Celery queue has exactly one worker, the only
# writer), or PostgreSQL (SEARCH_BACKEND=postgres: one index for every web server, any
# number of workers on the "search" queue). Index writes are queued after commit either way.
SEARCH_BACKEND = os.environ.get("SEARCH_BACKEND", "").strip().lower() or "whoosh"
SEARCH_BACKEND_MODULES = {"whoosh": "cms.search.backend", "postgres": "cms.search.postgres"}
if SEARCH_BACKEND not in SEARCH_BACKEND_MODULES:
    raise ImproperlyConfigured(
        f"SEARCH_BACKEND must be one of {', '.join(SEARCH_BACKEND_MODULES)}, "
        f"not {SEARCH_BACKEND!r}."
    )
if SEARCH_BACKEND == "postgres" and not DATABASES["default"]["ENGINE"].endswith("postgresql"):
    raise ImproperlyConfigured("SEARCH_BACKEND=postgres needs DATABASE_URL=postgres://…")
WAGTAILSEARCH_BACKENDS = {
    "default": {
        "BACKEND": SEARCH_BACKEND_MODULES[SEARCH_BACKEND],
        "WRITE_QUEUE": "search",
        "WRITE_TIMEOUT": 30,
    }
}
WAGTAILDOCS_EXTENSIONS = ["pdf", "docx", "doc", "xlsx", "pptx", "txt", "odt"]
WAGTAILDOCS_MAX_UPLOAD_SIZE = 20 * 1024 * 1024
WAGTAILIMAGES_MAX_UPLOAD_SIZE = 10 * 1024 * 1024
WAGTAILIMAGES_MAX_IMAGE_PIXELS = 40_000_000
# A file that looks like an image but does not decode is a form error (cms/image_forms.py).
WAGTAILIMAGES_IMAGE_FORM_BASE = "cms.image_forms.ImageForm"
WAGTAIL_I18N_ENABLED = False
# Slugs are ASCII, so links read as typed: a page whose title has no ASCII spelling is
# numbered (course-N, lesson-N-M, policy-YYYY-NN; cms.slugs). A slug change leaves a
# permanent redirect behind (wagtail.contrib.redirects creates it).
WAGTAIL_ALLOW_UNICODE_SLUGS = False
WAGTAILREDIRECTS_AUTO_CREATE = True
WAGTAIL_ENABLE_UPDATE_CHECK = False
WAGTAIL_USER_TIME_ZONES = ["Asia/Shanghai"]

# --- Security headers -------------------------------------------------------
# HTTPS, framing and Content-Security-Policy (docs/deployment.md lists every header).
# The defaults here are the production ones; dev.py and test.py turn the HTTPS-only
# parts off, because they serve plain HTTP on 127.0.0.1.

# Redirect plain HTTP to HTTPS. Off only when something in front already does.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# A load balancer probes the web servers over plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
# Strict-Transport-Security: one year, sub-domains too, and consent to the browsers'
# preload list (which only takes effect once someone submits the domain to it).
# SECURE_HSTS_SECONDS=0 sends no HSTS header at all.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
CSRF_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
# Which request header says "the client used HTTPS", e.g. "X-Forwarded-Proto". Unset: none
# is trusted, since a client can send any header; set it only when the proxy in front
# overwrites that header on every request (docs/deployment.md has an nginx example).
SECURE_PROXY_SSL_HEADER = env_proxy_ssl_header("SECURE_PROXY_SSL_HEADER")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# No page may be framed, except an office screen by the origins in SCREEN_FRAME_ANCESTORS
# (learning.points.screen_views); Wagtail's preview frames its own pages (SAMEORIGIN).
X_FRAME_OPTIONS = "DENY"
DANGJIAN_SCREEN_FRAME_ANCESTORS = env_origins("SCREEN_FRAME_ANCESTORS", [])
# Video players a lesson's embed may show: wagtail.embeds asks the video site for the
# player's HTML, an <iframe> from one of these origins (YouTube's, Vimeo's). A player from
# another site needs its origin added; "none" allows no embedded player.
DANGJIAN_VIDEO_EMBED_ORIGINS = env_origins(
    "VIDEO_EMBED_ORIGINS", ["https://www.youtube.com", "https://player.vimeo.com"]
)
# Every page: scripts and styles only from our own static files (no inline script, no
# eval, no style attribute), nothing framed but the video players, framed by nobody.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", *media_origins(MEDIA_STORAGE)],
        # Lesson videos uploaded as documents: with a bucket, the document view redirects
        # the <video> element to the file's signed address there.
        "media-src": [SELF, *media_origins(MEDIA_STORAGE)],
        "frame-src": DANGJIAN_VIDEO_EMBED_ORIGINS or [NONE],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Directives replaced under a path prefix. Wagtail 8's admin writes inline <script>
# elements (date pickers, inline panels), its editor inserts <style> elements, and it has
# no CSP nonces: /admin/ alone allows inline scripts and styles; it frames its previews.
DANGJIAN_CSP_PATH_DIRECTIVES = {
    "/admin/": {
        "script-src": [SELF, UNSAFE_INLINE],
        "style-src": [SELF, UNSAFE_INLINE],
        "frame-src": [SELF, *DANGJIAN_VIDEO_EMBED_ORIGINS],
        "frame-ancestors": [SELF],
    },
}
# Wagtail's previews (the editor's preview panel, "view draft", moderation) are the page as
# members get it, policy included, except that the admin frames them.
DANGJIAN_CSP_PREVIEW_DIRECTIVES = {"frame-ancestors": [SELF]}
# The admin shows avatars from Gravatar by default: a third-party request per user (and
# the e-mail's hash) that the policy blocks and an intranet cannot reach anyway.
WAGTAIL_GRAVATAR_PROVIDER_URL = None

# --- REST framework ---------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
}

# --- Logging ----------------------------------------------------------------

# "plain" or "json" (one JSON object per line, ops.logging); unset: json in production,
# plain elsewhere (production.py). docs/operations.md lists the fields.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "").strip().lower()
if LOG_FORMAT not in ("", *LOG_FORMATS):
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}.")
LOGGING = logging_config(log_format=LOG_FORMAT or "plain")
# Requests slower than this are logged at WARNING with their route (0: none are).
DANGJIAN_SLOW_REQUEST_MS = env_int("SLOW_REQUEST_MS", 500)

# --- Dangjian ----------------------------------------------------------------

# Members need a password change before anything else after an import or a reset.
# The health endpoints too: they must not look at the session (docs/operations.md).
DANGJIAN_PASSWORD_CHANGE_EXEMPT_PREFIXES = [
    "/static/",
    "/media/",
    "/i18n/",
    "/admin/logout/",
    "/healthz",
    "/readyz",
]

# Awards tell office screens to refresh by bumping cache versions; a background thread per
# process sends the bumps of this many seconds together (0: each award at once).
DANGJIAN_LEDGER_VERSION_FLUSH_SECONDS = 0.05

# Which Wagtail page models are courses and lessons. ``learning`` never imports ``cms``:
# assigned study and "my learning" find courses and lessons through these names.
DANGJIAN_COURSE_PAGE_MODEL = "cms.CoursePage"
DANGJIAN_LESSON_PAGE_MODEL = "cms.LessonPage"
