"""``partnersim workshop`` in a real browser: a facilitator and three participants, each in
their own browser context, through a whole session on 127.0.0.1 with every outside request
aborted: join, two rounds of choices, an event, a drop-out who rejoins, a participant's try
at the console refused by the server, the end, the debrief and its files.

Takes the session's Chromium (``browser`` in conftest.py), so it skips like the dashboard's
browser tests (chromium, Playwright, prepared assets) unless ``PARTNERSIM_REQUIRE_BROWSER=1``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from partnersim.dashboard import server as dashboard
from partnersim.dashboard.workshop import AGENCY_NAMES

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"

SCENARIO = """\
name = "room"
seed = 5

[params]
n_staff = 60
horizon_months = 24
"""


class Visitor:
    """One browser context on the workshop, with its guards."""

    def __init__(self, browser: Any, url: str) -> None:
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.context.set_default_timeout(30_000)
        dashboard.block_non_local(self.context, self.blocked)
        self.open(url)

    def open(self, url: str) -> None:
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(url)

    def close(self) -> None:
        self.context.close()
        assert self.errors == [], self.errors
        assert self.blocked == [], f"requests outside 127.0.0.1 were needed: {self.blocked}"


def _select(page: Any, css: str, label: str | re.Pattern[str]) -> None:
    page.locator(f"{css}.v-select, {css} .v-select").first.click()
    page.get_by_role("option", name=label, exact=isinstance(label, str)).click()


def _join(v: Visitor, name: str, agency: int) -> None:
    from playwright.sync_api import expect

    page = v.page
    expect(page.get_by_text("Join the workshop")).to_be_visible()
    page.get_by_label("Your name").fill(name)
    if agency:
        # an agency held by a page still open reads "... (taken by NAME)"
        _select(page, ".partnersim-agency", re.compile("^" + re.escape(AGENCY_NAMES[agency])))
    page.get_by_role("button", name="Join", exact=True).click()
    expect(page.locator(".partnersim-you")).to_have_text(f"{AGENCY_NAMES[agency]}, played by {name}")


@pytest.mark.browser
def test_a_facilitated_session_from_joining_to_the_debrief(tmp_path: Path, browser: Any) -> None:
    from playwright.sync_api import expect

    (tmp_path / "room.toml").write_text(SCENARIO)
    out = tmp_path / "results"
    with dashboard.DashboardProcess("room.toml", "--rounds", "2", "--out", str(out),
                                    verb="workshop", cwd=tmp_path, timeout=120) as proc:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", proc.url)
        console = re.search(r"console .*: (http://127\.0\.0\.1:\d+/facilitator\?key=\S+)",
                            proc.output).group(1)  # type: ignore[union-attr]
        code = re.search(r"\(code ([A-Z2-9]{6})\)", proc.output).group(1)  # type: ignore[union-attr]
        fac = Visitor(browser, console)
        f = fac.page
        expect(f.locator(".partnersim-code")).to_have_text(code)
        expect(f).to_have_title("partnersim workshop: facilitator")
        asha = Visitor(browser, f"{proc.url}/?code={code}")
        expect(asha.page).to_have_title("partnersim workshop")
        ben = Visitor(browser, f"{proc.url}/")  # types the code in
        cat = Visitor(browser, f"{proc.url}/?code={code}")
        # a wrong code first: refused by the server
        ben.page.get_by_label("Code").fill("WRONG9")
        ben.page.get_by_label("Your name").fill("Ben")
        ben.page.get_by_role("button", name="Join", exact=True).click()
        expect(ben.page.locator(".partnersim-error")).to_contain_text("not this workshop's code")
        ben.page.wait_for_timeout(1100)  # the wait after one wrong try
        ben.page.get_by_label("Code").fill(code)
        _join(ben, "Ben", 2)
        _join(asha, "Asha", 0)
        _join(cat, "Cat", 3)
        seats = f.locator(".partnersim-seats")
        for name in ("Asha", "Ben", "Cat"):
            expect(seats).to_contain_text(name)
        # a participant tries the console: the server refuses it, and the facilitator sees it
        cat.open(re.sub(r"key=\S+", "key=guessed", console))
        expect(cat.page.locator(".partnersim-refused")).to_contain_text("Refused")
        expect(cat.page.get_by_role("button", name="Open round 1")).to_have_count(0)
        expect(f.locator(".partnersim-refusals")).to_contain_text("without the facilitator's key")
        cat.page.close()
        cat.open(f"{proc.url}/?code={code}")
        _join(cat, "Cat", 3)  # her seat back, under her name

        # round 1: each chooses for their own agency
        f.get_by_role("button", name="Open round 1", exact=True).click()
        expect(asha.page.locator(".partnersim-timer")).to_have_text(re.compile(r"[34]:\d\d"))
        thumb = asha.page.locator(".partnersim-share-slider").get_by_role("slider")
        thumb.focus()
        for _ in range(3):
            thumb.press("ArrowRight")  # 0.15 -> 0.30
        expect(asha.page.locator(".partnersim-share")).to_have_text("30% of working time")
        asha.page.get_by_role("button", name="Submit our choice").click()
        _select(ben.page, ".partnersim-attendance", "Send no one")
        ben.page.get_by_role("button", name="Submit our choice").click()
        cat.page.get_by_text("Back joint tasks with other agencies").click()
        cat.page.get_by_text("Share the partnership's news with all our staff").click()
        cat.page.get_by_role("button", name="Submit our choice").click()
        for v in (asha, ben, cat):
            expect(v.page.locator(".partnersim-chosen")).to_be_visible()
        expect(seats).to_contain_text("30% time for relationships")
        expect(seats).to_contain_text("sent no one")
        expect(seats).to_contain_text("did not back joint tasks")
        # what one participant sees of the others: that they chose, never what
        own = asha.page.locator("body")
        expect(own).not_to_contain_text("sent no one")
        expect(own).not_to_contain_text("did not back")
        networks = {v: v.page.locator("img.partnersim-network") for v in (fac, asha, ben, cat)}
        before = {v: img.get_attribute("src") for v, img in networks.items()}
        f.get_by_role("button", name="Close the round and run it").click()
        expect(f.locator(".partnersim-message")).to_contain_text("months 0 to 3")
        for v, img in networks.items():  # everyone's shared network is redrawn
            expect(img).not_to_have_attribute("src", before[v])
        expect(ben.page.locator(".partnersim-phase")).to_contain_text("Round 1 of 2 has run")
        expect(ben.page.locator(".partnersim-own-table")).to_contain_text("0.00")  # attendance

        # an event, then round 2; Ben drops out and rejoins his agency
        _select(f, ".partnersim-event", "The chair leaves")
        f.get_by_role("button", name="Set off the event").click()
        expect(f.locator(".partnersim-message")).to_contain_text("The chair leaves (now)")
        ben.page.close()
        ben.open(f"{proc.url}/?code={code}")
        _join(ben, "Ben", 2)
        expect(ben.page.locator(".partnersim-own-table")).to_contain_text("0.15")
        f.get_by_role("button", name="Open round 2", exact=True).click()
        asha.page.get_by_role("button", name="Submit our choice").click()  # 30% again
        expect(asha.page.locator(".partnersim-chosen")).to_contain_text("30% time")
        f.get_by_role("button", name="Close the round and run it").click()
        expect(f.locator(".partnersim-message")).to_contain_text("months 3 to 6")

        # the end: the debrief for everyone, its files in the results folder
        f.get_by_role("button", name="End the workshop").click()
        expect(f.locator(".partnersim-message")).to_contain_text("Results written to",
                                                                 timeout=60_000)
        for v in (asha, ben, cat):
            expect(v.page.locator(".partnersim-debrief")).to_contain_text("Debrief")
        debrief = asha.page.locator(".partnersim-debrief")
        expect(debrief).to_contain_text("trust across agencies")
        expect(debrief.locator("img.partnersim-debrief-paths")).to_be_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        asha.page.screenshot(path=str(ARTIFACTS / "workshop-debrief.png"), full_page=True)
        f.screenshot(path=str(ARTIFACTS / "workshop-console.png"), full_page=True)
        for v in (fac, asha, ben, cat):
            v.close()
    assert proc.returncode == 0 and "Traceback" not in proc.output, proc.output
    assert "stopped" in proc.output

    folders = list(out.iterdir())
    assert len(folders) == 1 and folders[0].name.startswith("workshop-room-")
    folder = folders[0]
    choices = pd.read_parquet(folder / "choices.parquet")
    assert len(pd.read_csv(folder / "choices.csv")) == len(choices) == 4
    first = choices[choices["round"] == 1].set_index("agency")
    assert first.loc["nhs_acute", "relationship_time"] == pytest.approx(0.30)
    assert first.loc["social_work", "meeting_attendance"] == 0.0
    assert first.loc["voluntary", "task_backing"] == 0.0
    assert first.loc["voluntary", "widen_communication"] == 1.0
    rounds = pd.read_parquet(folder / "rounds.parquet")
    assert sorted(rounds["round"].unique()) == [0, 1, 2]
    events = pd.read_csv(folder / "events.csv")
    assert events["event"].tolist() == ["chair_leaves"] and events["month"].tolist() == [3]
    page = (folder / "debrief.html").read_text()
    assert "data:image/png;base64," in page and not re.search(r"(src|href)=\"https?:", page)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["command"].startswith("partnersim workshop room.toml")
    assert manifest["months"] == 6 and manifest["complete"] is True
