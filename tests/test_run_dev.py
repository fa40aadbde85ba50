"""`bin/run-dev` (what `make run` starts) leaves nothing behind and never runs twice.

These start the real supervisor: a web server and two Celery workers on the embedded
broker, in a var/ of their own, then stop it the ways a developer or `make` does.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = [
    pytest.mark.processes,
    pytest.mark.skipif(
        not sys.platform.startswith("linux"), reason="reads the process tree from /proc"
    ),
]

RUN_DEV = Path(settings.BASE_DIR) / "bin" / "run-dev"
READY_TIMEOUT = 90


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may hold spaces: the fields after it are fixed.
    return int(stat.rsplit(")", 1)[1].split()[1])


def state_of(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def descendants(root: int) -> set[int]:
    pids = [int(p.name) for p in Path("/proc").glob("[0-9]*")]
    tree: dict[int, list[int]] = {}
    for pid in pids:
        parent = parent_of(pid)
        if parent is not None:
            tree.setdefault(parent, []).append(pid)
    found: set[int] = set()
    todo = [root]
    while todo:
        for child in tree.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def running(pids: set[int]) -> set[int]:
    """Those of ``pids`` still running (a zombie is gone for our purposes)."""
    return {pid for pid in pids if state_of(pid) not in (None, "Z", "X")}


class Supervisor:
    def __init__(self, var_dir: Path, *, via_shell: bool = False) -> None:
        self.var_dir = var_dir
        self.port = free_port()
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL"}
        }
        env.update(
            VAR_DIR=str(var_dir), PORT=str(self.port), PYTHONUNBUFFERED="1", RUN_DEV_GRACE="15"
        )
        argv = [str(RUN_DEV)]
        if via_shell:
            # `make run` stands between the terminal and the supervisor.
            argv = ["sh", "-c", f"'{RUN_DEV}'; echo done"]
        self.process = subprocess.Popen(
            argv,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.output: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line.decode(errors="replace"))

    @property
    def text(self) -> str:
        return "".join(self.output)

    def wait_until_ready(self) -> set[int]:
        """Wait for both workers and the web server; return every process in the tree."""
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.text.count(" ready.") >= 2 and "Quit the server" in self.text:
                # runserver's reloader child, both pools and the embedded beat are up.
                tree = descendants(self.process.pid)
                if len(tree) >= 8:
                    return tree
            if self.process.poll() is not None:
                break
            time.sleep(0.3)
        raise AssertionError(f"run-dev did not start:\n{self.text}")

    def supervisor_pid(self) -> int:
        if self.process.args[0] == "sh":
            (pid,) = (p for p in descendants(self.process.pid) if parent_of(p) == self.process.pid)
            return pid
        return self.process.pid

    def kill_everything(self) -> None:
        for pid in running(descendants(self.process.pid) | {self.process.pid}):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def still_running(supervisor: Supervisor, tree: set[int]) -> bool:
    """The supervisor and the processes it started itself are all still there.

    (runserver's reloaded child is left out: it is replaced whenever a source file changes.)
    """
    own = {pid for pid in tree if parent_of(pid) == supervisor.process.pid}
    return supervisor.process.poll() is None and len(own) == 3 and running(own) == own


def wait_gone(pids: set[int], seconds: float) -> set[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and running(pids):
        time.sleep(0.2)
    return running(pids)


@pytest.fixture
def start(tmp_path: Path) -> Iterator[object]:
    started: list[Supervisor] = []
    leftovers: set[int] = set()

    def start_one(var_dir: Path | None = None, **kwargs: bool) -> Supervisor:
        supervisor = Supervisor(var_dir or tmp_path / "var", **kwargs)
        started.append(supervisor)
        return supervisor

    start_one.leftovers = leftovers  # type: ignore[attr-defined]
    yield start_one
    for supervisor in started:
        supervisor.kill_everything()
    for pid in running(leftovers):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_stops_every_process_it_started(start, sig: signal.Signals) -> None:
    supervisor = start()
    tree = supervisor.wait_until_ready()

    os.kill(supervisor.process.pid, sig)

    assert supervisor.process.wait(timeout=30) == 0
    assert wait_gone(tree, 5) == set(), supervisor.text
    assert f"{sig.name} received" in supervisor.text


def test_when_one_process_dies_the_others_are_stopped(start) -> None:
    supervisor = start()
    tree = supervisor.wait_until_ready()
    web = next(pid for pid in tree if b"runserver" in Path(f"/proc/{pid}/cmdline").read_bytes())

    os.killpg(os.getpgid(web), signal.SIGKILL)

    assert supervisor.process.wait(timeout=30) == 1
    assert wait_gone(tree, 5) == set(), supervisor.text
    assert "the web server exited" in supervisor.text


def test_when_make_goes_away_everything_stops(start) -> None:
    supervisor = start(via_shell=True)
    tree = supervisor.wait_until_ready()

    os.kill(supervisor.process.pid, signal.SIGKILL)  # the "make" in between, killed

    assert wait_gone(tree, 30) == set(), supervisor.text
    assert "its parent went away" in supervisor.text


def test_a_second_run_dev_on_the_same_var_refuses_to_start(start, tmp_path: Path) -> None:
    first = start()
    tree = first.wait_until_ready()

    second = start(tmp_path / "var")

    assert second.process.wait(timeout=30) == 1
    assert "in use by another run-dev" in second.text
    assert str(first.process.pid) in second.text
    assert still_running(first, tree), "the first one keeps running"
    assert "celery" not in "".join(
        Path(f"/proc/{pid}/cmdline").read_text() for pid in running(descendants(second.process.pid))
    )


def test_processes_left_behind_by_a_killed_run_dev_still_block_a_second_beat(
    start, tmp_path: Path
) -> None:
    first = start()
    tree = first.wait_until_ready()
    start.leftovers.update(tree)  # type: ignore[attr-defined]
    os.kill(first.process.pid, signal.SIGKILL)  # no chance to stop its children
    first.process.wait(timeout=10)
    orphans = running(tree)
    assert orphans, "the children outlive a supervisor killed outright"

    second = start(tmp_path / "var")

    assert second.process.wait(timeout=30) == 1
    assert "left behind" in second.text
    assert any(str(pid) in second.text for pid in orphans)


def test_another_var_dir_may_run_beside(start, tmp_path: Path) -> None:
    first = start(tmp_path / "one")
    first_tree = first.wait_until_ready()
    second = start(tmp_path / "two")
    second.wait_until_ready()

    os.kill(second.process.pid, signal.SIGTERM)
    assert second.process.wait(timeout=30) == 0
    assert still_running(first, first_tree)


def test_without_a_virtualenv_it_says_so_and_starts_nothing(tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    (checkout / "bin").mkdir(parents=True)
    (checkout / "bin" / "run-dev").write_bytes(RUN_DEV.read_bytes())
    (checkout / "bin" / "run-dev").chmod(0o755)

    finished = subprocess.run(
        [str(checkout / "bin" / "run-dev")],
        env={**os.environ, "VAR_DIR": str(tmp_path / "var")},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )

    assert finished.returncode == 1
    assert "could not be started" in finished.stderr
    assert "make run" in finished.stderr
    assert "Traceback" not in finished.stderr
