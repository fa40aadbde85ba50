"""The search benchmark's parts: a synthetic Chinese corpus, page creation, measurements.

Used by ``test_search_benchmarks`` (``make bench``; ``DANGJIAN_BENCH=1`` runs it). The
corpus is 10,000 lessons and policy documents of about 2,000 characters each, assembled
from the sentences of ``demo.content_data`` (real prose written for the demo), so word
frequencies are those of party-building texts: function words and 党/发展/工作 in nearly
every document, topic words in some of them. Each document draws most of its sentences
from one demo lesson or policy (its topic) and the rest from the whole pool, shuffled
with a fixed seed: the same corpus on every run. The pool is small (1,869 sentences), so
ordinary words occur in more of the 10,000 documents than in real content, where
vocabulary grows with the corpus: queries match more documents here, which makes the
latencies pessimistic.

Measured, all in the pytest test database (SQLite):

- creating the pages (Wagtail ``add_child`` in one transaction, no index writes);
- a full rebuild of the Whoosh index through the backend (``rebuild_modelsearch_index``)
  and its size on disk; the same for Wagtail's database backend (SQLite FTS5);
- per query: the first 10 results (index + loading them from the database), the count,
  and for Whoosh the whole ``/search/`` page; hits on both backends against the ground
  truth of a plain substring check over the indexed text;
- for Whoosh also each query's first run in a fresh searcher ("cold": opening the index,
  the filter, reading the posting lists), and whether our first 10 equal Whoosh's own
  top-10 collector and our scores Whoosh's per-document scores.

``DANGJIAN_BENCH_SEARCH_DOCS`` sets a smaller corpus for trying things out; only a
full-size run writes ``docs/benchmarks.md``.
"""

from __future__ import annotations

import contextlib
import datetime
import html
import json
import math
import os
import platform
import random
import re
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models.signals import post_save
from django.test import Client, override_settings
from django.utils import timezone
from modelsearch.index import get_indexed_models
from modelsearch.signal_handlers import post_save_signal_handler
from wagtail.models import Page
from wagtail.signal_handlers import disable_reference_index_auto_update

from cms.models import (
    CourseIndexPage,
    CoursePage,
    HomePage,
    LessonPage,
    PolicyDocumentPage,
    PolicyIndexPage,
)
from cms.search.storage import forget_searchers
from demo import content_data
from tests.benchmarks.report import write_marked_section

BASE_DIR = Path(__file__).resolve().parents[2]
REPORT = BASE_DIR / "docs" / "benchmarks.md"
SCALED_REPORT = BASE_DIR / "var" / "bench" / "search-benchmark.md"
BEGIN_MARKER = "<!-- search-benchmark:begin -->"
END_MARKER = "<!-- search-benchmark:end -->"

FULL_SIZE = 10_000
DOCUMENTS = int(os.environ.get("DANGJIAN_BENCH_SEARCH_DOCS", "").strip() or FULL_SIZE)
SEED = 20261127
TARGET_CHARS = 2_000
LESSON_SHARE = 0.7  # the rest are policy documents
LESSONS_PER_COURSE = 70
# A lesson is mostly about its subject: this share of its sentences comes from its topic
# (one demo lesson or document), the rest from all of them.
TOPIC_SHARE = 0.7
SENTENCES_PER_PARAGRAPH = (3, 7)

WHOOSH = "default"
DATABASE = "database"
BACKEND_LABELS = {WHOOSH: "Whoosh + rjieba", DATABASE: "Wagtail database backend (SQLite FTS5)"}
#: Timed repetitions of each query per backend, after one untimed warm-up.
ROUNDS = 7
TOP = 10
P95_TARGET_MS = 20.0

#: What members type: topics (one word or a phrase the segmenter cuts), a few words,
#: and queries made only of words found in most documents.
QUERIES: dict[str, list[str]] = {
    "topic": [
        "从严治党",
        "民主集中制",
        "三会一课",
        "主题党日",
        "党费",
        "廉洁自律",
        "巡视整改",
        "组织生活会",
        "遵义会议",
        "入党积极分子",
        "八项规定",
        "意识形态",
        "支部书记",
        "理想信念",
        "初心使命",
        "志愿服务",
        "党史学习教育",
        "批评和自我批评",
        "发展党员",
        "纪律处分",
        "井冈山",
        "党章",
        "谈心谈话",
        "民主评议",
    ],
    "words": [
        "党支部 组织生活",
        "党员 教育 管理",
        "遵义会议 历史",
        "党费 收缴",
        "干部 作风",
        "基层 党组织 建设",
        "学习 党章",
        "廉政 风险",
        "主题 教育",
        "纪律 规矩",
    ],
    "common": [
        "工作",
        "党的建设",
        "中国 发展",
        "学习 贯彻",
        "人民",
        "加强 领导",
    ],
}

Progress = Callable[[str], None]


# --- corpus -------------------------------------------------------------------------


@dataclass(frozen=True)
class SyntheticDocument:
    kind: str  # "lesson" or "policy"
    title: str
    paragraphs: tuple[str, ...]
    published_on: datetime.date
    document_number: str = ""
    issuing_body: str = ""

    @property
    def text(self) -> str:
        """Everything the index holds for the document, for the substring ground truth."""
        parts = [self.title, *self.paragraphs, self.document_number, self.issuing_body]
        return "\n".join(part for part in parts if part)

    def body(self) -> list[tuple[str, str]]:
        paragraphs = "".join(f"<p>{html.escape(text)}</p>" for text in self.paragraphs)
        return [("rich_text", paragraphs)]


_SENTENCE_END = re.compile(r"(?<=[。！？；])")


def _sentences(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCE_END.split(text) if len(part.strip()) > 4]


def _block_texts(body: tuple[content_data.Block, ...]) -> list[str]:
    texts: list[str] = []
    for block in body:
        for attribute in ("text", "title"):
            value = getattr(block, attribute, None)
            if isinstance(value, str):
                texts.append(value)
        texts.extend(getattr(block, "points", ()) or ())
    return texts


@dataclass(frozen=True)
class Topic:
    title: str
    sentences: tuple[str, ...]


def topics() -> list[Topic]:
    """Every demo lesson and policy document, as a title and its sentences."""
    found = []
    for course in content_data.COURSES:
        for lesson in course.lessons:
            sentences = [s for text in _block_texts(lesson.body) for s in _sentences(text)]
            found.append(Topic(lesson.title, tuple(sentences)))
    for document in content_data.POLICY_DOCUMENTS:
        sentences = [s for text in _block_texts(document.body) for s in _sentences(text)]
        found.append(Topic(document.title, tuple(sentences)))
    return [topic for topic in found if topic.sentences]


def synthetic_documents(count: int = DOCUMENTS, seed: int = SEED) -> list[SyntheticDocument]:
    """``count`` documents of about ``TARGET_CHARS`` characters; the same for the same seed."""
    rng = random.Random(seed)
    all_topics = topics()
    pool = [sentence for topic in all_topics for sentence in topic.sentences]
    issuers = content_data.ISSUERS
    today = datetime.date(2026, 11, 27)
    documents = []
    lessons = round(count * LESSON_SHARE)
    for number in range(count):
        topic = rng.choice(all_topics)
        paragraphs: list[str] = []
        length = 0
        while length < TARGET_CHARS:
            size = rng.randint(*SENTENCES_PER_PARAGRAPH)
            picked = [
                rng.choice(topic.sentences) if rng.random() < TOPIC_SHARE else rng.choice(pool)
                for _ in range(size)
            ]
            paragraph = "".join(picked)
            paragraphs.append(paragraph)
            length += len(paragraph)
        published_on = today - datetime.timedelta(days=rng.randint(0, 3 * 365))
        if number < lessons:
            title = f"第{number % LESSONS_PER_COURSE + 1}课 {topic.title}"
            documents.append(SyntheticDocument("lesson", title, tuple(paragraphs), published_on))
        else:
            issuer = rng.choice(issuers)
            documents.append(
                SyntheticDocument(
                    "policy",
                    topic.title,
                    tuple(paragraphs),
                    published_on,
                    document_number=f"{issuer.prefix}〔{published_on.year}〕{number}号",
                    issuing_body=issuer.name,
                )
            )
    return documents


# --- pages ----------------------------------------------------------------------------


@contextlib.contextmanager
def no_index_updates() -> Iterator[None]:
    """Saves write no search index and no reference index (both are rebuilt afterwards)."""
    models = list(get_indexed_models())
    for model in models:
        post_save.disconnect(post_save_signal_handler, sender=model)
    try:
        with disable_reference_index_auto_update():
            yield
    finally:
        for model in models:
            if getattr(model, "search_auto_update", True):
                post_save.connect(post_save_signal_handler, sender=model)


def create_pages(documents: list[SyntheticDocument], progress: Progress) -> dict[str, Any]:
    """Add the documents as live pages under a course index and a policy index."""
    started = time.perf_counter()
    with transaction.atomic(), no_index_updates():
        home = HomePage.objects.get()
        course_index = home.add_child(
            instance=CourseIndexPage(title="课程", slug="courses", live=True)
        )
        policy_index = home.add_child(
            instance=PolicyIndexPage(title="政策文件", slug="policies", live=True)
        )
        course: CoursePage | None = None
        courses = 0
        for number, document in enumerate(documents):
            moment = timezone.make_aware(
                datetime.datetime.combine(document.published_on, datetime.time(9, 30))
            )
            if document.kind == "lesson":
                if number % LESSONS_PER_COURSE == 0:
                    courses += 1
                    course = CoursePage(
                        title=f"专题课程{courses}",
                        slug=f"course-{courses}",
                        summary=document.paragraphs[0][:200],
                        first_published_at=moment,
                        last_published_at=moment,
                    )
                    course_index.add_child(instance=course)
                assert course is not None
                page: Page = LessonPage(
                    title=document.title,
                    slug=f"lesson-{number}",
                    body=document.body(),
                    first_published_at=moment,
                    last_published_at=moment,
                )
                course.add_child(instance=page)
            else:
                page = PolicyDocumentPage(
                    title=document.title,
                    slug=f"policy-{number}",
                    document_number=document.document_number,
                    issuing_body=document.issuing_body,
                    issue_date=document.published_on,
                    body=document.body(),
                    first_published_at=moment,
                    last_published_at=moment,
                )
                policy_index.add_child(instance=page)
            if (number + 1) % 1000 == 0:
                rate = (number + 1) / (time.perf_counter() - started)
                progress(f"  {number + 1:,} pages created ({rate:.0f}/s)")
    seconds = time.perf_counter() - started
    characters = [len("".join(document.paragraphs)) for document in documents]
    return {
        "documents": len(documents),
        "lessons": sum(1 for document in documents if document.kind == "lesson"),
        "policies": sum(1 for document in documents if document.kind == "policy"),
        "courses": courses,
        "body_chars_mean": statistics.mean(characters),
        "body_chars_total": sum(characters),
        "seconds": seconds,
    }


# --- backends and indexes -------------------------------------------------------------


def backend_settings(index_dir: Path) -> dict[str, Any]:
    """Both backends, written only by rebuilds: Whoosh in ``index_dir``, and the database."""
    return {
        WHOOSH: {
            "BACKEND": "cms.search.backend",
            "PATH": str(index_dir),
            "WRITE_QUEUE": None,
            "AUTO_UPDATE": False,
        },
        DATABASE: {"BACKEND": "wagtail.search.backends.database", "AUTO_UPDATE": False},
    }


def rebuild(backend_name: str) -> float:
    """Seconds for a full rebuild of every index of one backend, as ``update_index`` does."""
    started = time.perf_counter()
    call_command("rebuild_modelsearch_index", backend_name=backend_name, verbosity=0)
    return time.perf_counter() - started


def directory_bytes(path: Path) -> int:
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file())


def whoosh_page_index_bytes(index_dir: Path) -> int:
    """The live generation of the pages index (the previous one is kept until next time)."""
    pages = index_dir / "wagtailcore_page"
    generation = (pages / "CURRENT").read_text().strip()
    return directory_bytes(pages / generation)


def database_index_bytes() -> int:
    """Bytes of the database backend's tables and indexes (SQLite ``dbstat``)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT SUM(pgsize) FROM dbstat WHERE name LIKE '%wagtailsearch%'")
        (size,) = cursor.fetchone()
    return int(size or 0)


# --- queries --------------------------------------------------------------------------


def searched_pages() -> Any:
    return Page.objects.live().type(LessonPage, PolicyDocumentPage)


def _summary(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)
    rank = max(1, math.ceil(0.95 * len(ordered)))
    return {
        "runs": len(ordered),
        "median_ms": statistics.median(ordered) * 1000,
        "p95_ms": ordered[rank - 1] * 1000,
        "max_ms": ordered[-1] * 1000,
    }


def _timed(
    call: Callable[[], object], rounds: int = ROUNDS, *, cold: bool = False
) -> tuple[float, list[float]]:
    """The first run's seconds and those of ``rounds`` more.

    With ``cold`` the process's searchers are closed first, so the first run opens the
    index, computes the filter and reads every posting list it needs, as the first query
    after an index update does; the timed rounds then show the steady state.
    """
    if cold:
        forget_searchers()
    started = time.perf_counter()
    call()  # also loads rjieba and warms the database connection
    first = time.perf_counter() - started
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return first, samples


def _first_results(query: str, backend: str) -> list[Page]:
    return list(searched_pages().search(query, backend=backend)[:TOP])


def _count(query: str, backend: str) -> int:
    return searched_pages().search(query, backend=backend).count()


def whoosh_top_check(query: str) -> dict[str, Any]:
    """Our first 10 against Whoosh's own top collector, and our scores against Whoosh's.

    ``whoosh_top`` is what ``searcher.search(limit=10)`` (block-quality skipping on)
    returns; ``score_error`` is the largest difference between our score of each of our
    first 10 and the score Whoosh gives that document when asked about it alone.
    """
    from cms.search.evaluate import evaluate

    results = searched_pages().search(query, backend=WHOOSH)
    found = results._searcher_and_filter()
    if found is None:
        return {"same_top": True, "whoosh_missed": 0, "score_error": 0.0}
    searcher, allowed = found
    compiled = results.query_compiler.compile_query()
    ours = evaluate(searcher, compiled, allowed, TOP)
    assert ours is not None, "the benchmark's queries are all evaluated term at a time"
    theirs = [(hit.score, hit.docnum) for hit in searcher.search(compiled, filter=allowed)]
    error = 0.0
    for score, docnum in ours.hits:
        alone = searcher.search(compiled, filter={docnum}, limit=1, optimize=False)
        error = max(error, abs(alone[0].score - score) if alone else math.inf)
    ours_docs = [docnum for _, docnum in ours.hits]
    worst_ours = ours.hits[-1][0] if ours.hits else 0.0
    return {
        "same_top": ours_docs == [docnum for _, docnum in theirs],
        # Documents Whoosh left out although they score above its own last result.
        "whoosh_missed": sum(
            1
            for score, docnum in ours.hits
            if docnum not in {d for _, d in theirs} and theirs and score > theirs[-1][0]
        ),
        "score_error": error,
        "ours_tenth": worst_ours,
    }


def ground_truth(documents: list[SyntheticDocument], query: str) -> set[int]:
    """Indexes of the documents that contain every term of ``query`` as a substring."""
    terms = query.split()
    return {
        number
        for number, document in enumerate(documents)
        if all(term in document.text for term in terms)
    }


def measure_queries(
    documents: list[SyntheticDocument], page_ids: list[int], progress: Progress
) -> dict[str, Any]:
    """Latency, hit counts and recall for every query on both backends."""
    from learning.people import roles
    from tests.factories.people import MemberFactory

    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(MemberFactory(username="bench-member", role_names=[roles.MEMBER]))
    per_query = []
    for group, queries in QUERIES.items():
        for query in queries:
            truth = {page_ids[number] for number in ground_truth(documents, query)}
            row: dict[str, Any] = {"group": group, "query": query, "truth": len(truth)}
            for backend in (WHOOSH, DATABASE):
                found = {page.pk for page in searched_pages().search(query, backend=backend)}
                first, top = _timed(lambda q=query, b=backend: _first_results(q, b), cold=True)
                row[backend] = {
                    "hits": len(found),
                    "true_hits": len(found & truth),
                    "recall": len(found & truth) / len(truth) if truth else None,
                    "first": first,
                    "top": top,
                    "count": _timed(lambda q=query, b=backend: _count(q, b))[1],
                }
            row["page"] = _timed(lambda q=query: client.get("/search/", {"q": q}).status_code)[1]
            row["check"] = whoosh_top_check(query)
            per_query.append(row)
            progress(
                f"  {query}: truth {len(truth)}, whoosh {row[WHOOSH]['hits']} "
                f"({statistics.median(row[WHOOSH]['top']) * 1000:.1f} ms), "
                f"database {row[DATABASE]['hits']} "
                f"({statistics.median(row[DATABASE]['top']) * 1000:.1f} ms), "
                f"page {statistics.median(row['page']) * 1000:.1f} ms"
            )
    return {"queries": per_query, "summary": summarise_queries(per_query)}


def summarise_queries(per_query: list[dict[str, Any]]) -> dict[str, Any]:
    """Median and p95 over every timed run, for all queries and per group."""
    groups = ["all", *QUERIES]
    summary: dict[str, Any] = {}
    for group in groups:
        rows = [row for row in per_query if group in ("all", row["group"])]
        summary[group] = {
            "queries": len(rows),
            WHOOSH: {
                "first": _summary([row[WHOOSH]["first"] for row in rows]),
                "top": _summary([s for row in rows for s in row[WHOOSH]["top"]]),
                "count": _summary([s for row in rows for s in row[WHOOSH]["count"]]),
                "page": _summary([s for row in rows for s in row["page"]]),
            },
            DATABASE: {
                "top": _summary([s for row in rows for s in row[DATABASE]["top"]]),
                "count": _summary([s for row in rows for s in row[DATABASE]["count"]]),
            },
        }
    return summary


# --- the whole run --------------------------------------------------------------------


def require_test_database() -> None:
    """Refuse to write 10,000 pages anywhere but the pytest test database.

    pytest-django sets up the test database only when a collected test is marked
    ``django_db``; without one, queries would go to the development database.
    """
    name = str(connection.settings_dict["NAME"])
    expected = str(connection.settings_dict.get("TEST", {}).get("NAME") or "")
    if not (name == expected or Path(name).name.startswith("test")):
        raise RuntimeError(f"Not the test database: {name}")


def run(index_dir: Path, progress: Progress) -> dict[str, Any]:
    """Create the corpus, build both indexes, measure every query; returns the results."""
    require_test_database()
    results: dict[str, Any] = {"machine": machine(), "load_before": os.getloadavg()}
    progress(f"search benchmark: generating {DOCUMENTS:,} documents")
    documents = synthetic_documents(DOCUMENTS)
    progress("search benchmark: creating pages")
    results["dataset"] = create_pages(documents, progress)
    progress(f"  created in {results['dataset']['seconds']:.0f} s")
    page_ids = _page_ids(documents)
    with override_settings(WAGTAILSEARCH_BACKENDS=backend_settings(index_dir)):
        indexes: dict[str, Any] = {}
        for backend in (WHOOSH, DATABASE):
            progress(f"search benchmark: rebuilding the {BACKEND_LABELS[backend]} index")
            indexes[backend] = {"seconds": rebuild(backend)}
            progress(f"  {indexes[backend]['seconds']:.0f} s")
        indexes[WHOOSH]["bytes"] = whoosh_page_index_bytes(index_dir)
        indexes[WHOOSH]["all_bytes"] = directory_bytes(index_dir)
        indexes[DATABASE]["bytes"] = database_index_bytes()
        results["indexes"] = indexes
        progress("search benchmark: queries")
        results["queries"] = measure_queries(documents, page_ids, progress)
    results["load_after"] = os.getloadavg()
    results["finished"] = _command(["date"])
    return results


def _page_ids(documents: list[SyntheticDocument]) -> list[int]:
    """Page ids in document order (lessons by their slug number, then documents)."""
    by_slug = dict(
        Page.objects.filter(slug__regex=r"^(lesson|policy)-\d+$").values_list("slug", "pk")
    )
    return [
        by_slug[f"{'lesson' if document.kind == 'lesson' else 'policy'}-{number}"]
        for number, document in enumerate(documents)
    ]


# --- machine and report -----------------------------------------------------------------


def _command(arguments: list[str]) -> str:
    try:
        return subprocess.run(
            arguments, capture_output=True, text=True, check=False, cwd=BASE_DIR
        ).stdout.strip()
    except OSError:
        return ""


def machine() -> dict[str, Any]:
    lscpu = dict(
        (key.strip(), value.strip())
        for key, _, value in (line.partition(":") for line in _command(["lscpu"]).splitlines())
    )
    memory_kb = 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
    return {
        "cpu": lscpu.get("Model name", platform.processor() or "unknown"),
        "cpus": lscpu.get("CPU(s)", str(os.cpu_count())),
        "hypervisor": lscpu.get("Hypervisor vendor", ""),
        "memory_gib": memory_kb / 1024 / 1024,
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": connection.Database.sqlite_version if connection.vendor == "sqlite" else "",
        "date": _command(["date"]),
        "commit": _command(["git", "rev-parse", "--short", "HEAD"]),
        "dirty": bool(_command(["git", "status", "--porcelain"])),
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
    }


def save_results(results: dict[str, Any]) -> Path:
    """Keep the raw numbers beside the other benchmark output (``var/bench/``)."""
    suffix = "" if DOCUMENTS == FULL_SIZE else f"-{DOCUMENTS}"
    path = BASE_DIR / "var" / "bench" / f"search-results{suffix}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def write_report(section: str, path: Path | None = None) -> Path:
    """Put ``section`` between the search markers of the report, creating them if absent."""
    path = path or (REPORT if DOCUMENTS == FULL_SIZE else SCALED_REPORT)
    return write_marked_section(section, "search-benchmark", path)


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)

    def __str__(self) -> str:
        lines = ["| " + " | ".join(self.header) + " |", "|" + "---|" * len(self.header)]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(lines)


def _ms(summary: dict[str, float]) -> str:
    return f"{summary['median_ms']:.1f} / {summary['p95_ms']:.1f}"


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.0f} MB"


def _recall(value: float | None) -> str:
    if value is None:
        return "–"
    return "100%" if value == 1 else f"{value:.1%}"


GROUP_NAMES = {
    "all": "all queries",
    "topic": "topics (1 word or a phrase)",
    "words": "2–3 words",
    "common": "only very common words",
}


def render(results: dict[str, Any]) -> str:
    """The ``## Search`` section of ``docs/benchmarks.md``."""
    machine_info = results["machine"]
    dataset = results["dataset"]
    indexes = results["indexes"]
    summary = results["queries"]["summary"]
    rows = results["queries"]["queries"]
    p95 = summary["all"][WHOOSH]["top"]["p95_ms"]
    dirty = " plus uncommitted changes in the working tree" if machine_info["dirty"] else ""
    load_before = ", ".join(f"{value:.2f}" for value in results["load_before"])
    load_after = ", ".join(f"{value:.2f}" for value in results["load_after"])

    latency = Table(
        [
            "queries",
            "Whoosh: first 10 results",
            "Whoosh: first 10, cold (first run)",
            "Whoosh: count",
            "Whoosh: whole /search/ page",
            "database backend: first 10",
            "database backend: count",
        ]
    )
    for group, name in GROUP_NAMES.items():
        numbers = summary[group]
        latency.rows.append(
            [
                f"{name} ({numbers['queries']})",
                _ms(numbers[WHOOSH]["top"]),
                _ms(numbers[WHOOSH]["first"]),
                _ms(numbers[WHOOSH]["count"]),
                _ms(numbers[WHOOSH]["page"]),
                _ms(numbers[DATABASE]["top"]),
                _ms(numbers[DATABASE]["count"]),
            ]
        )

    per_query = Table(
        [
            "query",
            "documents containing it",
            "Whoosh hits (recall)",
            "database hits (recall)",
            "Whoosh first 10, median ms",
            "Whoosh cold first run, ms",
            "database first 10, median ms",
            "/search/ page, median ms",
        ]
    )
    for row in rows:
        per_query.rows.append(
            [
                f"`{row['query']}`",
                f"{row['truth']:,}",
                f"{row[WHOOSH]['hits']:,} ({_recall(row[WHOOSH]['recall'])})",
                f"{row[DATABASE]['hits']:,} ({_recall(row[DATABASE]['recall'])})",
                f"{statistics.median(row[WHOOSH]['top']) * 1000:.1f}",
                f"{row[WHOOSH]['first'] * 1000:.1f}",
                f"{statistics.median(row[DATABASE]['top']) * 1000:.1f}",
                f"{statistics.median(row['page']) * 1000:.1f}",
            ]
        )
    hypervisor = machine_info["hypervisor"]
    machine_table = Table(["", ""])
    machine_table.rows += [
        [
            "CPU",
            f"{machine_info['cpu']}, {machine_info['cpus']} CPUs"
            + (f" ({hypervisor} virtual machine)" if hypervisor else ""),
        ],
        ["Memory", f"{machine_info['memory_gib']:.1f} GiB"],
        ["OS", machine_info["os"]],
        ["Python, SQLite", f"{machine_info['python']}, {machine_info['sqlite']}"],
        ["Load average (1, 5, 15 min)", f"{load_before} before, {load_after} after"],
    ]
    index_table = Table(["backend", "full rebuild", "index size"])
    index_table.rows += [
        [
            BACKEND_LABELS[WHOOSH],
            f"{indexes[WHOOSH]['seconds']:.0f} s",
            f"{_mb(indexes[WHOOSH]['bytes'])} (pages)",
        ],
        [
            BACKEND_LABELS[DATABASE],
            f"{indexes[DATABASE]['seconds']:.0f} s",
            f"{_mb(indexes[DATABASE]['bytes'])} (its tables and their indexes)",
        ],
    ]
    findings = _findings(results)
    truth_total = sum(row["truth"] for row in rows)
    whoosh_found = sum(row[WHOOSH]["true_hits"] for row in rows)
    database_found = sum(row[DATABASE]["true_hits"] for row in rows)

    return f"""
## Search

Generated by `make bench` (`tests/benchmarks/test_search_benchmarks.py`); this block is
rewritten on every run. Measured on {machine_info["date"]} (`date`), code at commit
`{machine_info["commit"]}`{dirty}.

**Target: p95 ≤ {P95_TARGET_MS:.0f} ms per query** (first {TOP} results, all
{summary["all"]["queries"]} queries): measured **{p95:.1f} ms**,
{"met" if p95 <= P95_TARGET_MS else "**not met**"}.

### Machine and conditions

{machine_table}

Other work (test suites, other benchmarks) ran on the same 2 cores during the run, so
the load average above is part of every number: treat medians as typical and p95 as
pessimistic.

### Corpus

{dataset["documents"]:,} pages: {dataset["lessons"]:,} lessons in {dataset["courses"]} courses and
{dataset["policies"]:,} policy documents, {dataset["body_chars_mean"]:,.0f} characters of body
text each on average ({dataset["body_chars_total"] / 1e6:.1f} million in all). Bodies are
sentences of the demo lessons and policy documents (`demo/content_data.py`, 1,869 sentences),
about {TOPIC_SHARE:.0%} from one lesson or document (the page's topic) and the rest from all of
them, shuffled with a fixed seed, so word frequencies are those of real party-building prose.
The pool is small, though: every document repeats sentences that 9,999 others draw from
too, so ordinary words occur in more documents than in real content, where vocabulary
grows with the corpus. Queries match more documents here than they would on 10,000 real
lessons, which makes these latencies pessimistic. Creating the pages (Wagtail
`add_child` in one transaction, no index writes) took
{dataset["seconds"]:.0f} s ({dataset["documents"] / dataset["seconds"]:.0f} pages/s).

### Indexing

{index_table}

A rebuild is `manage.py rebuild_modelsearch_index` (what `update_index` runs), which reads
every page from the database and writes a complete new index.

### Query latency

Milliseconds, median / p95 over {ROUNDS} timed runs of each query (after one first run).
"First 10 results" is `Page.objects.live().type(LessonPage, PolicyDocumentPage)
.search(q)[:10]` evaluated: the index search plus loading those pages from the database.
"Cold" is that query's first run right after closing the process's searchers: it opens
the index, computes the filter and reads every posting list it needs (one sample per
query), as the first search after an index update does; later runs reuse the posting
lists the searcher cached (`cms/search/evaluate.py`).
"Whole /search/ page" is a member's request through Django's test client: the counts per
kind (which also give the total), 10 results with highlighted snippets, the template.

{latency}

{findings}

### Does it find the documents?

Ground truth is a plain substring check: a document contains a query when its indexed text
(title, body, document number, issuer) contains every space-separated term. Over all
queries, {truth_total:,} document matches exist; Whoosh finds {whoosh_found:,}
({whoosh_found / max(truth_total, 1):.1%}), the database backend {database_found:,}
({database_found / max(truth_total, 1):.1%}). SQLite FTS5's `unicode61` tokenizer makes
every run of Chinese characters between punctuation one token, so a word is found only
where it stands alone between punctuation marks.

{per_query}
""".strip()


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _findings(results: dict[str, Any]) -> str:
    """What the latency numbers say, computed from them (so a rerun keeps it true)."""
    rows = results["queries"]["queries"]
    summary = results["queries"]["summary"]["all"][WHOOSH]
    fast = [row for row in rows if _median_ms(row[WHOOSH]["top"]) <= P95_TARGET_MS]
    slowest = sorted(rows, key=lambda row: _median_ms(row[WHOOSH]["top"]), reverse=True)[:3]
    slow_text = ", ".join(
        f"`{row['query']}` ({_median_ms(row[WHOOSH]['top']):.1f} ms, "
        f"{row[WHOOSH]['hits']:,} matches)"
        for row in slowest
    )
    coldest = max(rows, key=lambda row: row[WHOOSH]["first"])
    widest = max(rows, key=lambda row: row[WHOOSH]["hits"] - row["truth"])
    db_slowest = max(rows, key=lambda row: _median_ms(row[DATABASE]["top"]))
    differing = [row for row in rows if not row["check"]["same_top"]]
    missed = [row for row in rows if row["check"]["whoosh_missed"]]
    score_error = max(row["check"]["score_error"] for row in rows)
    return f"""
**Repeated and shared words cost little; the first read of a posting list dominates.**
{len(fast)} of {len(rows)} queries have a median within {P95_TARGET_MS:.0f} ms. Slowest:
{slow_text}. The first run of a query in a fresh searcher (the "cold" column: median
{summary["first"]["median_ms"]:.0f} ms, p95 {summary["first"]["p95_ms"]:.0f} ms; worst
`{coldest["query"]}` at {coldest[WHOOSH]["first"] * 1000:.0f} ms) reads and scores whole
posting lists of every query word in every searched field; Whoosh stores a word's
positions in the same compressed, pickled block as its documents, so a word found in
most pages costs tens of milliseconds to read. A searcher keeps those lists (bounded) until
the index changes, so a word that any earlier query used costs a dictionary lookup.

**Exact ranking.** Our first 10 differ from Whoosh's own top-10 collector in
{len(differing)} of {len(rows)} queries; in {len(missed)} of them Whoosh left out documents
that score above its own tenth result. Whoosh's block-quality shortcuts (skipping blocks
and dropping sub-queries that seem unable to reach the top 10) lose them. Every score we
report equals the score Whoosh gives that document when asked about it alone (largest
difference {score_error:.1e}).

**The database backend** finds little (see below), and is fast when it finds nothing;
where it does find thousands of pages it is slow: `{db_slowest["query"]}` took
{_median_ms(db_slowest[DATABASE]["top"]):,.0f} ms for the first 10 of its
{db_slowest[DATABASE]["hits"]:,} matches (SQLite ranks every match with `bm25()` before
taking ten).

**Matches beyond the substring truth** come from the query semantics, not from errors:
every word of a query is required *somewhere* in the page, not next to the others, and a
long word also matches through its dictionary pieces. `{widest["query"]}`: {widest["truth"]:,}
documents contain it as written, {widest[WHOOSH]["hits"]:,} contain its words. The matched
words are marked in the snippets, so a member sees why a page was found; quotes
(`"…"`) ask for the words side by side.
""".strip()
