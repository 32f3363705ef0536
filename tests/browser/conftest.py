"""Real Chromium (Debian's) driven by Playwright, with axe-core for accessibility."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
REQUIRED = os.environ.get("PORTAL_REQUIRE_BROWSER") == "1"
LAUNCH_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test here as a browser test."""
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium per test worker."""
    missing = []
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        missing.append(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    if not AXE.exists():
        missing.append("axe-core not installed (npm ci --prefix tests/browser)")
    if missing:
        if REQUIRED:
            pytest.fail("; ".join(missing))
        pytest.skip("; ".join(missing))
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh page, phone-sized, allowed to inject axe despite the site's CSP."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, bypass_csp=True, locale="id-ID"
    )
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def no_js_page(browser):
    """A fresh page with JavaScript disabled."""
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390,
                                                                      "height": 844})
    page = context.new_page()
    yield page
    context.close()


def axe_violations(page) -> list[dict]:
    """Run axe-core on the page and return its violations (id, impact, targets)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document)")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "targets": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
    ]
