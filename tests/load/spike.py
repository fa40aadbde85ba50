"""``python -m tests.load.spike``: the morning spike of issue 16 against a running server.

    python -m tests.load.spike --base http://127.0.0.1:8000 --members-file var/load/members.json \
        --members 2000 --window 120 --pause 2 --jitter 0.5 --fresh 0.1 --out var/load/result.json

The members come from ``python -m tests.load.dataset`` (a file of members with sessions;
each member can take the daily quiz once a day, so make a new file for every run). Each
simulated member keeps a connection of its own and runs ``tests.load.scenario``; every
request's duration is measured from writing it to reading the last byte of the reply.
It prints per request kind count, errors, p50/p95/max, the growth curve (10 s steps) and
the time from the first arrival to the last member done, and writes them as JSON to
``--out``. Exit status: 0 when the target is met (no errors, p95 ≤ ``--target-p95-ms``
for every kind, last done within ``--target-last-done``), 1 when not.

The generator shares the machine with the server when both run here: its own CPU time is
reported (``generator_cpu_s``) so the result can be read with that in mind.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import resource
import secrets
import string
import sys
import time
from pathlib import Path
from typing import Any

from tests.load.phone import Phone, Reply, TransportError
from tests.load.scenario import (
    Arrival,
    Parameters,
    Results,
    Sample,
    answer_for,
    pause_for,
    schedule,
    verdict,
)

CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
# The API's retry hint is seconds; never wait less than this before resending a check.
MIN_RETRY = 0.05
MAX_CHECK_RETRIES = 10


class MemberFailedError(Exception):
    """A member could not go on: a refused or failed request."""


class Member:
    """One simulated member's run through the scenario."""

    def __init__(
        self,
        record: dict[str, Any],
        arrival: Arrival,
        *,
        base: str,
        cookies: dict[str, str],
        parameters: Parameters,
        results: Results,
        clock: float,
        timeout: float,
        secure: bool,
    ) -> None:
        self.record = record
        self.arrival = arrival
        self.cookies = cookies
        self.parameters = parameters
        self.results = results
        self.clock = clock
        self.phone = Phone(base, timeout=timeout, secure=secure)
        self.rng = random.Random(f"{parameters.seed}-{arrival.index}")

    async def send(self, kind: str, method: str, path: str, expect: set[int], **kw: Any) -> Reply:
        started = time.monotonic() - self.clock
        try:
            reply = await self.phone.request(method, path, **kw)
        except TransportError as error:
            elapsed = time.monotonic() - self.clock - started
            self.results.record(Sample(kind, started, elapsed, 0, False))
            raise MemberFailedError(f"{kind}: {error}") from error
        ok = reply.status in expect
        if kind == "check" and reply.status == 429:
            ok = True  # too soon to have read it: resent (counted apart)
        self.results.record(Sample(kind, started, reply.seconds, reply.status, ok))
        if not ok:
            raise MemberFailedError(f"{kind}: {reply.status} {reply.body[:200]!r}")
        return reply

    async def run(self) -> None:
        await asyncio.sleep(max(0.0, self.clock + self.arrival.at - time.monotonic()))
        try:
            await self._journey()
        except MemberFailedError as failure:
            self.results.failed.append(f"{self.record['username']}: {failure}")
        finally:
            await self.phone.close()

    async def _journey(self) -> None:
        if self.arrival.fresh:
            await self._log_in()
        else:
            self.phone.cookies.update(self.cookies)
        reply = await self.send("start", "POST", "/api/v1/quizzes/daily/attempts/", {200, 201})
        attempt = reply.json()
        base = f"/api/v1/attempts/{attempt['id']}"
        for question in attempt["questions"]:
            await asyncio.sleep(pause_for(self.parameters, self.rng))
            answer = answer_for(question, self.rng)
            position = question["position"]
            await self.send(
                "save",
                "PUT",
                f"{base}/answers/{position}/",
                {200},
                body={"response": answer, "seq": 1},
            )
            await self._check(f"{base}/answers/{position}/check/", answer)
        reply = await self.send("submit", "POST", f"{base}/submit/", {200}, body={})
        result = reply.json()
        if result.get("state") != "submitted":
            raise MemberFailedError(f"submit: the attempt is {result.get('state')}")
        if result.get("result_state") == "held":
            self.results.held += 1
        self.results.done_at.append(time.monotonic() - self.clock)

    async def _check(self, path: str, answer: dict[str, Any]) -> None:
        for _round in range(MAX_CHECK_RETRIES):
            reply = await self.send(
                "check", "POST", path, {200}, body={"response": answer, "seq": 2}
            )
            if reply.status == 200:
                return
            self.results.too_soon += 1
            wait = float(reply.json().get("retry_after") or 1.0)
            await asyncio.sleep(max(MIN_RETRY, wait))
        raise MemberFailedError(f"check: still too soon after {MAX_CHECK_RETRIES} tries")

    async def _log_in(self) -> None:
        form = await self.send("login_form", "GET", "/accounts/login/", {200})
        found = CSRF_FIELD.search(form.body.decode("utf-8", "replace"))
        if found is None:
            raise MemberFailedError("login_form: no CSRF field")
        fields = {
            "csrfmiddlewaretoken": found.group(1),
            "username": self.record["username"],
            "password": self.record["password"],
        }
        await self.send("login", "POST", "/accounts/login/", {302}, form=fields)
        if self.record["session_cookie"] not in self.phone.cookies:
            raise MemberFailedError("login: no session cookie")


def csrf_secret() -> str:
    """A CSRF cookie as Django makes one (32 letters and digits): the phone's own."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(32))


async def run(
    base: str,
    records: list[dict[str, Any]],
    parameters: Parameters,
    *,
    timeout: float = 60.0,
    secure: bool = True,
) -> Results:
    """Run the scenario for ``parameters.members`` of ``records`` (the members file's rows,
    each with its ``session_cookie`` and ``password``) against ``base``."""
    if len(records) < parameters.members:
        raise SystemExit(f"the members file holds {len(records)} members, fewer than asked")
    results = Results()
    arrivals = schedule(parameters)
    clock = time.monotonic() + 1.0  # a second to create the tasks before the first arrival
    members = []
    for arrival in arrivals:
        record = records[arrival.index]
        cookies = {}
        if not arrival.fresh:
            if not record.get("session"):
                raise SystemExit(f"{record['username']} has no session in the members file")
            cookies = {record["session_cookie"]: record["session"], "csrftoken": csrf_secret()}
        members.append(
            Member(
                record,
                arrival,
                base=base,
                cookies=cookies,
                parameters=parameters,
                results=results,
                clock=clock,
                timeout=timeout,
                secure=secure,
            )
        )
    await asyncio.gather(*(member.run() for member in members))
    return results


def report(summary: dict[str, Any], misses: list[str]) -> str:
    lines = [
        f"members {summary['members_done']} done, {summary['members_failed']} failed; "
        f"last done {summary['last_done_s']} s after the first arrival; "
        f"{summary['requests']} requests, {summary['errors']} errors; "
        f"{summary['too_soon_retries']} checks resent (too soon); "
        f"{summary['attempts_held']} attempts held (too fast)",
        f"{'kind':<11}{'count':>7}{'errors':>7}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}  statuses",
    ]
    for kind, row in summary["kinds"].items():
        lines.append(
            f"{kind:<11}{row['count']:>7}{row['errors']:>7}{row['p50_ms']:>9.0f}"
            f"{row['p95_ms']:>9.0f}{row['max_ms']:>9.0f}  {row['statuses']}"
        )
    lines.append("growth (requests started per 10 s step): from_s  req/s  p95 ms  errors")
    for row in summary["curve"]:
        lines.append(
            f"  {row['from_s']:>6.0f} {row['requests_per_s']:>6.1f} {row['p95_ms']:>7.0f}"
            f" {row['errors']:>6}"
        )
    lines.append("target met" if not misses else "target missed: " + "; ".join(misses))
    for failure in summary["failures"][:5]:
        lines.append(f"  failure: {failure}")
    return "\n".join(lines)


def records_of(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The members file (``tests.load.dataset``) as the rows ``run`` takes."""
    return [
        {**member, "session_cookie": data["session_cookie"], "password": data["password"]}
        for member in data["members"]
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--members-file", type=Path, required=True)
    parser.add_argument("--members", type=int, help="default: every member of the file")
    parser.add_argument("--window", type=float, default=120.0, help="arrival window, seconds")
    parser.add_argument("--pause", type=float, default=2.0, help="seconds before each answer")
    parser.add_argument("--jitter", type=float, default=0.5, help="± fraction of the pause")
    parser.add_argument("--fresh", type=float, default=0.10, help="fraction logging in fresh")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--timeout", type=float, default=60.0, help="per request, seconds")
    parser.add_argument("--target-p95-ms", type=float, default=300.0)
    parser.add_argument("--target-last-done", type=float, default=150.0)
    parser.add_argument(
        "--plain-http",
        action="store_true",
        help="do not say X-Forwarded-Proto: https (a development server without HTTPS settings)",
    )
    parser.add_argument("--out", type=Path)
    options = parser.parse_args(argv)
    data = json.loads(options.members_file.read_text(encoding="utf-8"))
    records = records_of(data)
    parameters = Parameters(
        members=options.members or len(records),
        window=options.window,
        pause=options.pause,
        jitter=options.jitter,
        fresh_fraction=options.fresh,
        seed=options.seed,
    )
    started = time.time()
    results = asyncio.run(
        run(
            options.base,
            records,
            parameters,
            timeout=options.timeout,
            secure=not options.plain_http,
        )
    )
    summary = results.summary(parameters)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    summary.update(
        {
            "base": options.base,
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "generator_cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
        }
    )
    misses = verdict(summary, p95_ms=options.target_p95_ms, last_done_s=options.target_last_done)
    summary["target_misses"] = misses
    print(report(summary, misses), flush=True)
    if options.out:
        options.out.parent.mkdir(parents=True, exist_ok=True)
        options.out.write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0 if not misses else 1


if __name__ == "__main__":
    sys.exit(main())
