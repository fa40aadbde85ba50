"""Production settings: everything comes from the environment.

Refuses to start without a real ``SECRET_KEY`` and an explicit ``ALLOWED_HOSTS``. HTTPS,
HSTS, secure cookies and the other security headers are on by default (base.py reads
their variables; docs/deployment.md says how to turn each off).
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

from ops.logging import logging_config

from .base import *  # noqa: F403
from .base import INSECURE_DEFAULT_SECRET_KEY, LOG_FORMAT, MEDIA_STORAGE, SECRET_KEY

DEBUG = False

if not SECRET_KEY or SECRET_KEY == INSECURE_DEFAULT_SECRET_KEY or len(SECRET_KEY) < 32:
    raise ImproperlyConfigured(
        "Set SECRET_KEY to a random string of at least 32 characters for production."
    )
if not os.environ.get("ALLOWED_HOSTS", "").strip():
    raise ImproperlyConfigured("Set ALLOWED_HOSTS (comma-separated host names) for production.")

STORAGES = {
    "default": MEDIA_STORAGE,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# One JSON object per log line unless LOG_FORMAT says otherwise (docs/operations.md).
LOGGING = logging_config(log_format=LOG_FORMAT or "json")
