"""The office screen in a real browser: wall sizes, live updates, outages, a revoked link.

The page polls every ``refresh_seconds`` (10 at least). One test waits for that in real
time; the others install Playwright's clock and jump it forward, so the page's own
timers fire at once while the requests still reach the live server.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db.models import Sum
from django.urls import reverse
from playwright.sync_api import expect

from learning.models import Member, Organization, PointsEntry, Screen
from learning.people import services
from learning.points.ledger import points_award

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

NewPage = Callable[..., Any]
Screenshot = Callable[[Any, str], Path]

FULL_HD = {"width": 1920, "height": 1080}
UHD = {"width": 3840, "height": 2160}
PORTRAIT = {"width": 1080, "height": 1920}
REFRESH_SECONDS = 10
LOADING = re.compile(r"\bis-loading\b")

# (branch, members): two branches are below the minimum size of 3 and get marked.
BRANCHES = [
    ("办公室党支部", 8),
    ("组织科党支部", 6),
    ("宣传科党支部", 12),
    ("机关事务中心党支部", 9),
    ("政策研究室党支部", 2),
    ("信息中心党支部", 7),
    ("财务审计党支部", 10),
    ("青年理论学习党支部", 5),
    ("离退休干部党支部", 11),
    ("档案馆党支部", 2),
    ("纪检监察党支部", 6),
    ("后勤服务党支部", 4),
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
_GIVEN = "建国红梅志强海燕晓东丽华文博雪芳国栋春燕明轩"
GIVEN_NAMES = [_GIVEN[i : i + 2] for i in range(0, len(_GIVEN), 2)]


def seed_organisation() -> tuple[Organization, dict[str, list[Member]]]:
    """A committee with two general branches and 12 branches of members with varied points.

    Points come from the uncapped rules (exam 10, reflection 2), so every figure is exact
    and the same on every run.
    """
    committee = services.organization_create(name="市直机关工委", code="SZJG", kind="committee")
    generals = [
        services.organization_create(
            name=name, code=f"ZZB{i}", kind="general_branch", parent=committee
        )
        for i, name in enumerate(["第一党总支", "第二党总支"], start=1)
    ]
    rng = random.Random(20261126)
    members: dict[str, list[Member]] = {}
    serial = 0
    for index, (name, size) in enumerate(BRANCHES):
        branch = services.organization_create(
            name=name,
            code=f"ZB{index:02d}",
            kind="branch",
            parent=generals[index % 2],
            sort_order=index,
        )
        members[name] = []
        # Some branches study a lot, some little: keeps the bars from looking uniform.
        zeal = 0.25 + 0.75 * ((index * 7) % 12) / 11
        for _ in range(size):
            serial += 1
            member = services.member_create(
                username=f"screen{serial:03d}",
                display_name=SURNAMES[serial % len(SURNAMES)]
                + GIVEN_NAMES[serial % len(GIVEN_NAMES)],
                organization=branch,
            )
            members[name].append(member)
            if rng.random() > zeal:
                continue
            for exam in range(rng.randint(0, 3)):
                give(member, "exam_passed", f"seed:{serial}:e{exam}")
            for reflection in range(rng.randint(1, 4)):
                give(member, "reflection_accepted", f"seed:{serial}:r{reflection}")
    return committee, members


def give(member: Member, rule_code: str, key: str) -> None:
    result = points_award(member=member, rule_code=rule_code, key=key)
    assert result.created, result.reason


def make_screen(organization: Organization, **fields: Any) -> Screen:
    options = {"name": "机关大楼一层大厅", "refresh_seconds": REFRESH_SECONDS, **fields}
    return Screen.objects.create(organization=organization, **options)


def open_screen(
    new_page: NewPage, screen: Screen, viewport: dict[str, int], *, fake_clock: bool = True
) -> Any:
    """Open the screen (with a controllable clock) and wait for the first data."""
    page = new_page(viewport)
    if fake_clock:
        page.clock.install()
    page.goto(reverse("screen", kwargs={"token": screen.token}))
    expect(page.locator("body")).not_to_have_class(LOADING)
    return page


def next_refresh(page: Any, seconds: float = REFRESH_SECONDS) -> None:
    page.clock.fast_forward(int(seconds * 1000) + 500)


def assert_fills_without_scrollbars(page: Any) -> None:
    sizes = page.evaluate(
        """() => ({
            scrollHeight: document.documentElement.scrollHeight,
            scrollWidth: document.documentElement.scrollWidth,
            innerHeight: window.innerHeight,
            innerWidth: window.innerWidth,
        })"""
    )
    assert sizes["scrollHeight"] <= sizes["innerHeight"], sizes
    assert sizes["scrollWidth"] <= sizes["innerWidth"], sizes


def assert_nothing_spills(page: Any) -> None:
    """Every visible panel, row and the ticker lie inside the viewport, none overlapping."""
    problems = page.evaluate(
        """() => {
            const out = [];
            const w = innerWidth, h = innerHeight;
            const boxes = [...document.querySelectorAll(
                '.masthead, .panel:not([hidden]), .ticker:not([hidden])')]
                .filter(e => e.offsetParent !== null)
                .map(e => [e.className, e.getBoundingClientRect()]);
            for (const [name, r] of boxes) {
                if (r.left < 0 || r.top < 0 || r.right > w + 0.5 || r.bottom > h + 0.5)
                    out.push(`${name} outside the screen`);
            }
            for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
                const [a, ra] = boxes[i], [b, rb] = boxes[j];
                if (ra.left < rb.right - 1 && rb.left < ra.right - 1
                    && ra.top < rb.bottom - 1 && rb.top < ra.bottom - 1)
                    out.push(`${a} overlaps ${b}`);
            }
            for (const list of document.querySelectorAll('.bars, .people')) {
                const limit = list.getBoundingClientRect().bottom + 1;
                for (const row of list.children) {
                    if (!row.hidden && row.getBoundingClientRect().bottom > limit)
                        out.push(`${list.className} row cut off`);
                }
            }
            return out;
        }"""
    )
    assert problems == []


def bar_names(page: Any) -> list[str]:
    return page.locator(".bar:not([hidden]) .bar__label").all_inner_texts()


# --- Tests -----------------------------------------------------------------------------


def test_screen_shows_the_ranking_and_updates_without_reloading(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    committee, members = seed_organisation()
    screen = make_screen(committee, metric="total")
    # Real time here: the page's own timer, at the shortest interval allowed, picks it up.
    page = open_screen(new_page, screen, FULL_HD, fake_clock=False)

    bars = page.locator(".bar:not([hidden])")
    assert bars.count() >= 8
    assert "theme-dark" in page.locator("body").get_attribute("class")
    assert page.locator(".people .person:not([hidden])").count() >= 5
    assert page.locator(".ticker .event").first.is_visible()
    assert page.locator("[data-field=clock]").inner_text() != "--:--"
    assert_fills_without_scrollbars(page)
    assert_nothing_spills(page)
    screenshot(page, "screen-1920-dark")

    leader = bar_names(page)[0]
    last = "后勤服务党支部"
    assert leader != last
    page.evaluate("() => { window.notReloaded = true; }")
    for i in range(30):
        give(members[last][0], "exam_passed", f"late:{i}")

    total = PointsEntry.objects.filter(branch__name=last).aggregate(Sum("points"))["points__sum"]
    assert total >= 300

    expect(page.locator(".bar:not([hidden]) .bar__label").first).to_have_text(
        last, timeout=(REFRESH_SECONDS + 5) * 1000
    )
    assert str(total) in page.locator(".bar:not([hidden]) .bar__value").first.inner_text()
    assert page.evaluate("() => window.notReloaded") is True
    assert page.locator("[data-field=reconnecting]").is_hidden()


def test_unchanged_data_is_revalidated_with_the_etag(new_page: NewPage) -> None:
    committee, _members = seed_organisation()
    screen = make_screen(committee)
    page = new_page(FULL_HD)
    page.clock.install()

    def is_snapshot(response: Any) -> bool:
        return response.url.endswith("/snapshot.json")

    with page.expect_response(is_snapshot) as first:
        page.goto(reverse("screen", kwargs={"token": screen.token}))
    expect(page.locator("body")).not_to_have_class(LOADING)
    with page.expect_response(is_snapshot) as second:
        next_refresh(page)

    assert first.value.status == 200
    etag = first.value.headers["etag"]
    assert second.value.status == 304
    assert second.value.request.headers["if-none-match"] == etag
    assert bar_names(page)
    assert page.locator("[data-field=reconnecting]").is_hidden()


def test_screen_marks_an_outage_and_recovers_by_itself(new_page: NewPage) -> None:
    committee, _members = seed_organisation()
    screen = make_screen(committee)
    page = open_screen(new_page, screen, FULL_HD)
    names = bar_names(page)
    reconnecting = page.locator("[data-field=reconnecting]")
    assert reconnecting.is_hidden()

    page.route("**/snapshot.json", lambda route: route.abort())
    next_refresh(page)
    expect(reconnecting).to_be_visible()
    # The last data stays on the screen meanwhile.
    assert bar_names(page) == names

    page.unroute("**/snapshot.json")
    next_refresh(page, 3)
    expect(reconnecting).to_be_hidden()
    assert bar_names(page) == names


def test_server_errors_keep_the_last_data(new_page: NewPage) -> None:
    committee, _members = seed_organisation()
    screen = make_screen(committee)
    page = open_screen(new_page, screen, FULL_HD)
    names = bar_names(page)

    page.route("**/snapshot.json", lambda route: route.fulfill(status=502, body="Bad gateway"))
    next_refresh(page)
    expect(page.locator("[data-field=reconnecting]")).to_be_visible()
    assert bar_names(page) == names
    assert page.locator("[data-field=revoked]").is_hidden()


def test_revoked_link_switches_the_screen_off_at_the_next_fetch(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    committee, members = seed_organisation()
    screen = make_screen(committee)
    page = open_screen(new_page, screen, FULL_HD)
    someone = members["宣传科党支部"][0].display_name
    assert page.locator(".bar").count() > 0

    Screen.objects.filter(pk=screen.pk).update(is_active=False)
    next_refresh(page)

    notice = page.locator("[data-field=revoked]")
    expect(notice).to_be_visible()
    assert notice.locator("h1").inner_text().strip()
    # Nothing of the old data is left in the page.
    assert page.locator(".bar, .person, .event").count() == 0
    assert someone not in page.content()
    assert_fills_without_scrollbars(page)
    screenshot(page, "screen-1920-revoked")


def test_screen_reloads_itself_when_a_deploy_changes_the_page(new_page: NewPage) -> None:
    committee, _members = seed_organisation()
    screen = make_screen(committee)
    page = open_screen(new_page, screen, FULL_HD)
    page.evaluate("() => { window.notReloaded = true; }")

    def newer_version(route: Any) -> None:
        # Ask for the full body: what a new deploy would send whatever the page had.
        headers = {k: v for k, v in route.request.headers.items() if k != "if-none-match"}
        response = route.fetch(headers=headers)
        data = response.json()
        data["version"] = "after-deploy"
        route.fulfill(response=response, body=json.dumps(data))

    page.route("**/snapshot.json", newer_version)
    with page.expect_event("load"):
        next_refresh(page)
    expect(page.locator("body")).not_to_have_class(LOADING)
    assert page.evaluate("() => window.notReloaded") is None
    assert bar_names(page)


def test_screen_fills_every_wall_size_without_scrollbars(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    committee, _members = seed_organisation()
    light = make_screen(committee, name="三楼会议室", theme="light", period="day")
    dark = make_screen(committee)

    for viewport, screen, name in [
        (FULL_HD, light, "screen-1920-light"),
        (UHD, dark, "screen-3840-dark"),
        (PORTRAIT, dark, "screen-1080x1920-portrait"),
        (PORTRAIT, light, "screen-1080x1920-portrait-light"),
    ]:
        page = open_screen(new_page, screen, viewport)
        assert f"theme-{screen.theme}" in page.locator("body").get_attribute("class")
        assert page.locator(".bar:not([hidden])").count() >= 7
        assert_fills_without_scrollbars(page)
        assert_nothing_spills(page)
        # Text stays readable from across the room: at least ~2.2% of the height.
        smallest = page.evaluate(
            """() => Math.min(...[...document.querySelectorAll(
                '.bar__label, .bar__value, .person__name, .figure__label, .event, .clock__date')]
                .filter(e => e.offsetParent !== null)
                .map(e => parseFloat(getComputedStyle(e).fontSize)))"""
        )
        assert smallest >= 0.02 * min(viewport["height"], viewport["width"] * 1.2), smallest
        screenshot(page, name)


def test_screen_without_names_shows_totals_only(new_page: NewPage, screenshot: Screenshot) -> None:
    committee, members = seed_organisation()
    screen = make_screen(committee, show_member_names=False, metric="participation")
    page = open_screen(new_page, screen, FULL_HD)

    assert page.locator("[data-panel=top_members]").is_hidden()
    assert page.locator("[data-panel=today]").is_visible()
    events = page.locator(".ticker__list").first.locator(".event")
    assert events.count() > 0
    html = page.content()
    for people in members.values():
        for member in people:
            assert member.display_name not in html
    assert_fills_without_scrollbars(page)
    assert_nothing_spills(page)
    screenshot(page, "screen-1920-dark-no-names")


def test_thirty_branches_with_long_names_show_what_fits(
    new_page: NewPage, screenshot: Screenshot
) -> None:
    committee = services.organization_create(
        name="某市直属机关工作委员会", code="JG", kind="committee"
    )
    for index in range(30):
        branch = services.organization_create(
            name=f"机关事务管理服务中心第{index + 1}党支部",
            code=f"B{index:02d}",
            kind="branch",
            parent=committee,
            sort_order=index,
        )
        member = services.member_create(
            username=f"many{index:02d}", display_name=f"党员{index:02d}", organization=branch
        )
        for award in range(index % 7):
            give(member, "reflection_accepted", f"many:{index}:{award}")
    screen = make_screen(committee, name="一楼大厅东侧屏幕（会议中心入口）")

    for viewport, name in [(FULL_HD, "screen-1920-thirty-branches"), (PORTRAIT, None)]:
        page = open_screen(new_page, screen, viewport)
        shown = page.locator(".bar:not([hidden])").count()
        assert 5 <= shown < 30
        assert str(shown) in page.locator("[data-field=bars-count]").inner_text()
        assert "30" in page.locator("[data-field=bars-count]").inner_text()
        assert_fills_without_scrollbars(page)
        assert_nothing_spills(page)
        if name:
            screenshot(page, name)


def test_panels_switched_off_leave_no_gap(new_page: NewPage, screenshot: Screenshot) -> None:
    committee, _members = seed_organisation()
    screen = make_screen(committee, show_branch_ranking=False, show_activity=False)
    page = open_screen(new_page, screen, FULL_HD)

    assert page.locator("[data-panel=branches]").is_hidden()
    assert page.locator("[data-panel=activity]").is_hidden()
    assert page.locator("[data-panel=today]").is_visible()
    assert page.locator(".person:not([hidden])").count() >= 5
    # The remaining panels take the whole width.
    box = page.locator("[data-panel=top_members]").bounding_box()
    assert box is not None and box["width"] > 0.9 * FULL_HD["width"]
    assert_fills_without_scrollbars(page)
    assert_nothing_spills(page)
    screenshot(page, "screen-1920-members-only")


HD_LAPTOP = {"width": 1366, "height": 768}
WALL_SIZES = {"1920x1080": FULL_HD, "1366x768": HD_LAPTOP, "3840x2160": UHD, "1080x1920": PORTRAIT}
# The demo committee (the name the portrait screen cut to "中共青禾新区机关…"), and one of
# 40 characters, longer than any real committee's.
DEMO_COMMITTEE = "中共青禾新区机关委员会"
FORTY_CHARACTERS = (
    "中共青禾新区机关事务管理服务中心离退休干部第一党总支部委员会暨老干部活动中心党委"
)
DEMO_LONGEST_BRANCH = "离退休干部第一党支部"
LONG_BRANCH = "青禾新区机关事务管理服务中心后勤保障与基础设施建设运行维护第三党支部"


def names_cut_short(page: Any) -> list[str]:
    """The name elements whose text does not fit their box (clipped or cut with an ellipsis)."""
    return page.evaluate(
        """() => [...document.querySelectorAll(
                `.masthead__title, .masthead__eyebrow, .bar:not([hidden]) .bar__label,
                 .person:not([hidden]) .person__org`)]
            .filter(e => e.offsetParent !== null)
            .filter(e => e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1)
            .map(e => `${e.className}: ${e.textContent} `
                + `(${e.scrollWidth}x${e.scrollHeight} in ${e.clientWidth}x${e.clientHeight})`)"""
    )


@pytest.mark.parametrize("committee_name", [DEMO_COMMITTEE, FORTY_CHARACTERS], ids=["demo", "40"])
def test_long_organisation_names_are_shown_whole_on_every_wall_size(
    new_page: NewPage, screenshot: Screenshot, committee_name: str
) -> None:
    assert len(FORTY_CHARACTERS) == 40
    committee = services.organization_create(name=committee_name, code="QH", kind="committee")
    for index, name in enumerate([DEMO_LONGEST_BRANCH, LONG_BRANCH, "办公室党支部"]):
        branch = services.organization_create(
            name=name, code=f"ZB{index}", kind="branch", parent=committee, sort_order=index
        )
        member = services.member_create(
            username=f"long{index}", display_name=f"党员{index}", organization=branch
        )
        for award in range(3 - index):
            give(member, "reflection_accepted", f"long:{index}:{award}")
    screen = make_screen(committee, name="机关大楼一层大厅东侧入口处电子显示屏（会议中心）")

    for size, viewport in WALL_SIZES.items():
        page = open_screen(new_page, screen, viewport)
        title = page.locator(".masthead__title")
        assert title.inner_text().replace("\n", "") == committee_name
        assert names_cut_short(page) == [], size
        # Still legible across the room: no smaller than the panel titles.
        title_size = title.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
        assert title_size >= 0.028 * min(viewport["height"], viewport["width"] * 1.2), size
        assert page.locator(".bar:not([hidden])").count() == 3
        assert_fills_without_scrollbars(page)
        assert_nothing_spills(page)
        screenshot(page, f"screen-{size}-long-names-{len(committee_name)}")
