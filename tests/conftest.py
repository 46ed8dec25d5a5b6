"""Shared pytest options, and the real Chromium the browser tests share.

One Playwright (sync API) per test session: a second ``sync_playwright()`` while the first
is open fails ("using Playwright Sync API inside the asyncio loop"), so every browser test
takes the session's ``browser``.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

import pytest

from partnersim.dashboard import server as dashboard

BROWSER_SKIP_REASON = ""
if shutil.which("chromium") is None:
    BROWSER_SKIP_REASON = "chromium is not installed (apt-get install -y chromium)"
else:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        BROWSER_SKIP_REASON = "the playwright package is not installed"
if not BROWSER_SKIP_REASON and dashboard.missing_assets(dashboard.default_assets_dir()):
    BROWSER_SKIP_REASON = ("dashboard assets are not prepared "
                           "(partnersim dashboard --prepare-assets)")


def pytest_addoption(parser):
    parser.addoption(
        "--update-golden", action="store_true", default=False,
        help="rewrite tests/golden/baseline.json from the current model (then review the diff)")


@pytest.fixture(scope="session")
def browser_requirements() -> None:
    """Skip (or, with PARTNERSIM_REQUIRE_BROWSER=1, fail) when no browser test can run."""
    if BROWSER_SKIP_REASON:
        if os.environ.get("PARTNERSIM_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests required but {BROWSER_SKIP_REASON}")
        pytest.skip(BROWSER_SKIP_REASON)


@pytest.fixture(scope="session")
def browser(browser_requirements: None) -> Any:
    """Debian's Chromium through Playwright, for the whole session."""
    from playwright.sync_api import expect, sync_playwright

    # the 5 s default of expect() is too short on a loaded 2-core machine (a fresh server's
    # first page builds a model); a longer wait changes nothing that is asserted
    expect.set_options(timeout=20_000)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=shutil.which("chromium"),
                              args=list(dashboard.CHROMIUM_ARGS))
        yield b
        b.close()
