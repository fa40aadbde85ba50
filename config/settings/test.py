"""Test settings: tasks run eagerly, fast password hashing, isolated files."""

from __future__ import annotations

import tempfile
from pathlib import Path

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "learning.people.hashers.InitialPasswordHasher",
]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = "memory://"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Screens' versions bumped at once, so a test sees an award's effect without waiting.
DANGJIAN_LEDGER_VERSION_FLUSH_SECONDS = 0
_TEST_DIR = Path(tempfile.mkdtemp(prefix="dangjian-test-"))
MEDIA_ROOT = _TEST_DIR / "media"
SEARCH_INDEX_DIR = _TEST_DIR / "search-index"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Django's test client logs in (client.login) without a request, which django-axes refuses;
# the lockout tests switch it on (tests/learning/test_login_lockout.py).
AXES_ENABLED = False
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# The test client and the live server speak plain HTTP; tests of the HTTPS settings
# turn them on themselves.
SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
STATIC_ROOT = _TEST_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# A file, not SQLite's shared in-memory database: that one answers concurrent writers
# with "table is locked" instead of waiting, so concurrency tests could not run on it.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(_TEST_DIR / "test.sqlite3")}
