"""gunicorn's settings for every launcher (Procfile, systemd, load tests): gunicorn reads
``./gunicorn.conf.py`` from its working directory, the repository root.

Each value can be changed by an environment variable (docs/deployment.md#web-server).
"""

from __future__ import annotations

import multiprocessing
import os
from typing import Any

from config.env import env_bool, env_int, env_list
from ops.logging import gunicorn_logconfig_dict

wsgi_app = "config.wsgi:application"
bind = env_list("GUNICORN_BIND", ["127.0.0.1:8000"])
# Sync workers: every request is short (pages, JSON); a slow client is nginx's problem,
# which buffers requests and responses in front of gunicorn.
workers = env_int("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1)
threads = env_int("GUNICORN_THREADS", 1)
worker_class = "gthread" if threads > 1 else "sync"
timeout = env_int("GUNICORN_TIMEOUT", 30)
graceful_timeout = env_int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = 5
# A worker is replaced after this many requests (bounded memory growth), at staggered times.
max_requests = env_int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = max_requests // 10
# Load Django once in the master: workers share its memory (the search segmenter's
# dictionary included, see when_ready) and a broken configuration fails at start, not
# in each worker.
preload_app = True
# The workers' heartbeat files in memory: a busy or slow disk never looks like a hung worker.
SHARED_MEMORY = "/dev/shm"  # noqa: S108 - gunicorn creates its own private files there
worker_tmp_dir = SHARED_MEMORY if os.path.isdir(SHARED_MEMORY) else None
# Requests are bounded before Django sees them (uploads are bounded again by Django).
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
# One line per request with its duration, unless GUNICORN_ACCESS_LOG=false.
accesslog = "-" if env_bool("GUNICORN_ACCESS_LOG", True) else None
# The path without its query string (searches may carry a phone number or a name), the
# status, the size and the duration in microseconds.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(D)sus "%(a)s"'
errorlog = "-"
# gunicorn's own lines in the application's format: JSON in production (docs/operations.md).
logconfig_dict = gunicorn_logconfig_dict(
    log_format=(os.environ.get("LOG_FORMAT") or "json").strip().lower()
)
proc_name = "dangjian-web"


def when_ready(server: Any) -> None:
    """Runs in the master after the app is loaded, before the workers are forked."""
    from cms.search.analysis import segmenter_load

    segmenter_load()
