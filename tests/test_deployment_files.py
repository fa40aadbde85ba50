"""The production launcher and the sample deployment files work as docs/deployment.md says."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# Files and processes, not the database: CI runs these once, in the SQLite pass.
pytestmark = pytest.mark.once

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "docs" / "deploy"


def _gunicorn_config(monkeypatch: pytest.MonkeyPatch, **environment: str) -> object:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "gunicorn.conf.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gunicorn_preloads_the_app_and_reads_its_sizes_from_the_environment(monkeypatch) -> None:
    config = _gunicorn_config(
        monkeypatch, WEB_CONCURRENCY="3", GUNICORN_THREADS="4", GUNICORN_BIND="127.0.0.1:9001"
    )
    assert config.preload_app is True
    assert config.wsgi_app == "config.wsgi:application"
    assert (config.workers, config.threads, config.worker_class) == (3, 4, "gthread")
    assert config.bind == ["127.0.0.1:9001"]
    assert config.max_requests_jitter == config.max_requests // 10


def test_gunicorn_defaults_to_sync_workers_by_core_count(monkeypatch) -> None:
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.delenv("GUNICORN_THREADS", raising=False)
    config = _gunicorn_config(monkeypatch)
    assert config.worker_class == "sync"
    assert config.workers == 2 * os.cpu_count() + 1


def test_the_master_loads_the_segmenter_before_forking(monkeypatch) -> None:
    from cms.search import analysis

    analysis._segmenter.cache_clear()
    config = _gunicorn_config(monkeypatch)
    config.when_ready(None)
    assert analysis._segmenter.cache_info().currsize == 1


def _procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text(encoding="utf-8").splitlines()
    entries = [line.split(":", 1) for line in lines if line and not line.startswith("#")]
    return {name.strip(): command.strip() for name, command in entries}


def test_the_procfile_runs_web_worker_one_search_writer_and_beat() -> None:
    processes = _procfile()
    assert set(processes) == {"web", "worker", "search", "beat"}
    assert processes["web"] == "gunicorn"
    assert "--queues search --concurrency 1 " in processes["search"]
    assert "--queues celery " in processes["worker"]
    assert processes["beat"].startswith("celery -A config --quiet beat")


def test_the_systemd_units_run_what_the_procfile_runs() -> None:
    processes = _procfile()
    units = {
        "worker": "dangjian-worker.service",
        "search": "dangjian-search.service",
        "beat": "dangjian-beat.service",
    }
    for process, unit in units.items():
        text = (DEPLOY / unit).read_text(encoding="utf-8")
        command = re.search(r"^ExecStart=\S+/bin/(.+)$", text, re.MULTILINE).group(1)
        # systemd turns %% into %, so Celery gets its own %h; ${…:-n} become numbers.
        expected = re.sub(r"\$\{[A-Z_]+:-(\d+)\}", r"\1", processes[process])
        assert command.replace("%%", "%") == expected, unit
        assert "EnvironmentFile=/etc/dangjian/dangjian.env" in text
    web = (DEPLOY / "dangjian-web.service").read_text(encoding="utf-8")
    assert "ExecStart=/srv/dangjian/.venv/bin/gunicorn\n" in web
    target = (DEPLOY / "dangjian.target").read_text(encoding="utf-8")
    assert all(unit in target for unit in [*units.values(), "dangjian-web.service"])


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze missing")
def test_the_systemd_units_parse(tmp_path: Path) -> None:
    for unit in DEPLOY.glob("dangjian*.service"):
        result = subprocess.run(
            ["systemd-analyze", "verify", "--man=no", str(unit)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        # Only the syntax matters here: this machine has no /srv/dangjian (so "is not
        # executable" is expected); unknown keys, sections and bad values are mistakes.
        problems = [
            line
            for line in result.stderr.splitlines()
            if re.search(r"Unknown (key|section)|Failed to parse|Invalid|bad-setting", line)
        ]
        assert problems == [], result.stderr


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
def test_the_nginx_site_is_accepted_by_nginx(tmp_path: Path) -> None:
    certificate, key = tmp_path / "fullchain.pem", tmp_path / "privkey.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=dangjian.example.org",
            "-keyout",
            str(key),
            "-out",
            str(certificate),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    proxy = tmp_path / "dangjian-proxy.conf"
    shutil.copy(DEPLOY / "nginx-dangjian-proxy.conf", proxy)
    site = (DEPLOY / "nginx-dangjian.conf").read_text(encoding="utf-8")
    site = site.replace("/etc/ssl/dangjian/fullchain.pem", str(certificate))
    site = site.replace("/etc/ssl/dangjian/privkey.pem", str(key))
    site = site.replace("/etc/nginx/dangjian-proxy.conf", str(proxy))
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        "events {}\n"
        f"http {{ access_log off; include {tmp_path}/site.conf; }}\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    # Documents go through Django's permission check, never straight from MEDIA_ROOT.
    assert "location /media/documents/ {\n        return 404;" in site


@pytest.mark.processes
def test_run_production_refuses_a_database_with_unapplied_migrations(tmp_path: Path) -> None:
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "launcher-test-" + "k" * 40 + "-unique-enough-9f3a",
        "ALLOWED_HOSTS": "127.0.0.1",
        "VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path}/empty.sqlite3",
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    }
    environment.pop("REDIS_URL", None)
    # The browser tests' setting; production's checks rightly refuse it.
    environment.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    result = subprocess.run(
        [str(ROOT / "bin" / "run-production")],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 3, result.stderr
    assert "unapplied migrations" in result.stderr
    assert "started" not in result.stdout  # honcho never ran
