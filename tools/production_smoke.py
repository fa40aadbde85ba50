"""Walk the production stack over HTTP as its users do (CI's production job, issue 15).

Run against a stack started by ``bin/run-production`` on the demo data (``seed_demo``):

    python tools/production_smoke.py --base http://127.0.0.1:18080 --password … --screen TOKEN

1. ``/readyz`` answers 200 (the stack is up; it is polled while the processes start);
2. the approver writes a lesson in the Wagtail admin and publishes it; the search index
   worker indexes it and a member finds it on ``/search/``;
3. the member takes the daily quiz over ``/api/v1/`` (start, save each answer at a
   reading pace, submit) and is awarded points;
4. the office screen's snapshot shows the member's branch with more points than before.

Standard library only: it runs with whatever Python the stack was installed with. The
client talks plain HTTP to gunicorn as nginx would, saying ``X-Forwarded-Proto: https``
(gunicorn believes it from 127.0.0.1), so the production settings stay as they are.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import sys
import time
import urllib.parse
from html.parser import HTMLParser
from typing import Any

UNIQUE_WORD = "生态文明示范"


class SmokeError(Exception):
    """A step of the walk did not behave as a user needs."""


class FormInputs(HTMLParser):
    """The named fields of one ``<form>`` (the first whose action matches) with defaults."""

    def __init__(self, form_id: str | None = None) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = form_id is None
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form" and self.form_id is not None:
            self.inside = attributes.get("id") == self.form_id
            return
        if not self.inside:
            return
        name = attributes.get("name")
        if tag == "input" and name:
            kind = attributes.get("type", "text")
            if kind in {"checkbox", "radio"}:
                if "checked" in attributes:
                    self.fields[name] = attributes.get("value", "on")
            elif kind not in {"submit", "button", "file"}:
                self.fields[name] = attributes.get("value", "")
        elif tag == "select" and name:
            self._select = name
            self.fields.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in attributes:
            self.fields[self._select] = attributes.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form" and self.form_id is not None:
            self.inside = False

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data


def form_fields(html: str, form_id: str | None = None) -> dict[str, str]:
    parser = FormInputs(form_id)
    parser.feed(html)
    return parser.fields


class Client:
    """One browser: cookies, CSRF, and the headers nginx would add."""

    def __init__(self, base: str) -> None:
        parts = urllib.parse.urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.origin = f"https://{parts.netloc}"
        self.cookies: dict[str, str] = {}

    def request(
        self,
        method: str,
        path: str,
        *,
        form: dict[str, str] | None = None,
        body: Any = None,
        timeout: float = 30,
        request_id: str = "",
    ) -> tuple[int, dict[str, str], bytes]:
        headers = {
            "Host": f"{self.host}:{self.port}",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": "203.0.113.7",
            "Accept-Language": "zh-hans",
            "User-Agent": "dangjian-production-smoke",
        }
        if request_id:
            headers["X-Request-ID"] = request_id
        payload: bytes | None = None
        if form is not None:
            payload = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if method not in {"GET", "HEAD"}:
            headers["Origin"] = self.origin
            headers["Referer"] = self.origin + path
            if "csrftoken" in self.cookies:
                headers["X-CSRFToken"] = self.cookies["csrftoken"]
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{key}={value}" for key, value in self.cookies.items())
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _sep, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data

    def get(self, path: str, expect: int = 200) -> bytes:
        status, _headers, data = self.request("GET", path)
        if status != expect:
            raise SmokeError(f"GET {path}: {status}, expected {expect}: {data[:300]!r}")
        return data

    def log_in(self, path: str, username: str, password: str) -> None:
        html = self.get(path).decode()
        fields = form_fields(html)
        fields.update({"username": username, "password": password})
        status, _headers, data = self.request("POST", path, form=fields)
        if status != 302:
            raise SmokeError(f"login of {username} at {path}: {status}: {data[:300]!r}")
        if "sessionid" not in self.cookies:
            raise SmokeError(f"login of {username}: no session cookie")


def step(message: str) -> None:
    print(f"[smoke] {message}", flush=True)


def wait_ready(client: Client, *, path: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            status, _headers, data = client.request("GET", path, timeout=10)
        except OSError as error:
            last = str(error)
        else:
            if status == 200:
                return json.loads(data) if data.startswith(b"{") else {}
            last = f"{status} {data[:500]!r}"
        time.sleep(1)
    raise SmokeError(f"{path} never answered 200 within {timeout:.0f} s: {last}")


def wait_alive(client: Client, *, timeout: float) -> str:
    """Every check of /readyz ok and every heartbeat fresh (they come every 30 s)."""
    deadline = time.monotonic() + timeout
    report: dict[str, Any] = {}
    while time.monotonic() < deadline:
        status, _headers, data = client.request("GET", "/readyz", timeout=10)
        report = json.loads(data)
        if status == 200 and report["status"] == "ok":
            return ", ".join(
                f"{check['name']} {check['age_seconds']} s"
                for check in report["checks"]
                if check["name"].startswith("celery_")
            )
        time.sleep(2)
    raise SmokeError(f"/readyz never became ok: {report}")


def course_id(client: Client) -> int:
    for offset in range(0, 200, 20):
        data = json.loads(client.get(f"/admin/api/main/pages/?limit=20&offset={offset}"))
        for item in data.get("items", []):
            if item["meta"]["type"] == "cms.CoursePage":
                return int(item["id"])
    raise SmokeError("no course page in the admin API")


def lesson_publish(
    client: Client, *, parent_id: int, title: str, slug: str, request_id: str
) -> None:
    add_path = f"/admin/pages/add/cms/lessonpage/{parent_id}/"
    fields = form_fields(client.get(add_path).decode(), form_id="page-edit-form")
    paragraph = f"{title}：各支部要把{UNIQUE_WORD}建设融入主题党日。"
    contentstate = {
        "blocks": [
            {
                "key": "smoke",
                "text": paragraph,
                "type": "unstyled",
                "depth": 0,
                "inlineStyleRanges": [],
                "entityRanges": [],
                "data": {},
            }
        ],
        "entityMap": {},
    }
    fields.update(
        {
            "title": title,
            "slug": slug,
            "estimated_minutes": "5",
            "min_study_minutes": "1",
            "body-count": "1",
            "body-0-type": "rich_text",
            "body-0-value": json.dumps(contentstate, ensure_ascii=False),
            "body-0-deleted": "",
            "body-0-order": "0",
            "body-0-id": "",
            "action-publish": "action-publish",
        }
    )
    status, headers, data = client.request("POST", add_path, form=fields, request_id=request_id)
    if headers.get("x-request-id") != request_id:
        raise SmokeError(f"the response carries request id {headers.get('x-request-id')!r}")
    if status != 302:
        errors = re.findall(r'class="error-message"[^>]*>\s*<p>([^<]+)', data.decode())
        raise SmokeError(f"publishing the lesson: {status}; errors: {errors or data[:500]!r}")


def wait_searchable(client: Client, *, slug: str, timeout: float) -> None:
    # The result links to the lesson's URL (its title is highlighted, so split by marks).
    query = urllib.parse.quote(UNIQUE_WORD)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if f"/{slug}/" in client.get(f"/search/?q={query}").decode():
            return
        time.sleep(1)
    raise SmokeError(f"the published lesson was not found by /search/ within {timeout:.0f} s")


def daily_quiz_take(client: Client, answers: dict[str, Any]) -> dict[str, Any]:
    status, _headers, data = client.request("POST", "/api/v1/quizzes/daily/attempts/", body={})
    if status not in {200, 201}:
        raise SmokeError(f"starting the daily quiz: {status} {data[:300]!r}")
    attempt = json.loads(data)
    for question in attempt["questions"]:
        # A person reads before answering: the too-fast signal would hold the points.
        reading = len(question["stem"]) + sum(len(o["text"]) for o in question["options"])
        time.sleep(max(2.0, reading / 8))
        response = answers.get(question["stem"]) or answer_for(question)
        status, _headers, data = client.request(
            "PUT",
            f"/api/v1/attempts/{attempt['id']}/answers/{question['position']}/",
            body={"response": response, "seq": 1},
        )
        if status != 200:
            raise SmokeError(f"saving answer {question['position']}: {status} {data[:300]!r}")
    status, _headers, data = client.request(
        "POST", f"/api/v1/attempts/{attempt['id']}/submit/", body={}
    )
    if status != 200:
        raise SmokeError(f"submitting: {status} {data[:300]!r}")
    result = json.loads(data)
    if result["state"] != "submitted":
        raise SmokeError(f"the attempt is {result['state']} after submitting")
    return result


def answer_for(question: dict[str, Any]) -> dict[str, Any]:
    kind = question["type"]
    if kind in {"single", "multiple"}:
        return {"choices": [question["options"][0]["id"]]}
    if kind == "true_false":
        return {"value": True}
    if kind == "fill_blank":
        return {"blanks": ["党"] * max(1, question["blank_count"])}
    return {"text": "坚持理论学习，联系工作实际。"}


def screen_points(client: Client, token: str) -> int:
    snapshot = json.loads(client.get(f"/screens/{token}/snapshot.json"))
    return int(snapshot["today"]["points"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--base", default="http://127.0.0.1:18080")
    parser.add_argument("--password", required=True, help="the demo accounts' password")
    parser.add_argument("--screen", required=True, help="an office screen's token")
    parser.add_argument("--ready-path", default="/readyz")
    parser.add_argument("--ready-timeout", type=float, default=180)
    parser.add_argument("--index-timeout", type=float, default=90)
    parser.add_argument("--publish-request-id", default=f"smoke-publish-{int(time.time())}")
    parser.add_argument(
        "--answers",
        help="a JSON file of the bank's answers by question text, so that the member "
        "answers as one who studied (points come only for correct answers)",
    )
    options = parser.parse_args(argv)
    answers: dict[str, Any] = {}
    if options.answers:
        with open(options.answers, encoding="utf-8") as key_file:
            answers = json.load(key_file)
    try:
        health = wait_ready(
            Client(options.base), path=options.ready_path, timeout=options.ready_timeout
        )
        step(f"{options.ready_path} is 200: {json.dumps(health, ensure_ascii=False)[:400]}")

        approver = Client(options.base)
        approver.log_in("/admin/login/", "approver", options.password)
        title = f"生态文明建设专题课 {time.strftime('%H%M%S')}"
        slug = f"smoke-{time.time_ns()}"
        lesson_publish(
            approver,
            parent_id=course_id(approver),
            title=title,
            slug=slug,
            request_id=options.publish_request_id,
        )
        step(f"the approver published the lesson {title!r} ({options.publish_request_id})")
        approver.get("/no-such-page/", expect=404)
        step("an unknown address is a 404 page")

        member = Client(options.base)
        member.log_in("/accounts/login/", "member", options.password)
        wait_searchable(member, slug=slug, timeout=options.index_timeout)
        step("the search index worker indexed it: the member finds it on /search/")

        before = screen_points(Client(options.base), options.screen)
        result = daily_quiz_take(member, answers)
        step(
            f"the member took the daily quiz: {result['correct_count']}/"
            f"{result['question_count']} right, {result['points']} points, "
            f"{result['result_state']}"
        )
        if result["points"] <= 0:
            raise SmokeError(f"no points for the daily quiz: {result}")
        deadline = time.monotonic() + 30
        while (after := screen_points(Client(options.base), options.screen)) < before + 1:
            if time.monotonic() > deadline:
                raise SmokeError(f"the screen still shows {after} points today (before: {before})")
            time.sleep(1)
        step(f"the office screen shows today's points: {before} -> {after}")
        alive = wait_alive(Client(options.base), timeout=options.ready_timeout)
        step(f"/readyz sees the beat and both workers alive: {alive}")
    except SmokeError as failure:
        print(f"[smoke] FAILED: {failure}", file=sys.stderr, flush=True)
        return 1
    step("every step passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
