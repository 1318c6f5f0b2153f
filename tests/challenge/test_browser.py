"""Browser test: the leaderboard page and the submission form in headless Debian Chromium (Playwright)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import httpx
import pytest

CHROMIUM = os.environ.get("FACEMETRIC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
XSS_NAME = '<img src=x onerror="window.__xss=1">'


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(
            f"Debian chromium not found at {CHROMIUM}; install it with 'apt-get install chromium' "
            "(scripts/setup.sh does so as root) or set FACEMETRIC_CHROMIUM"
        )
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (extra: test)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_leaderboard_and_submission_form_in_chromium(browser, live_contest, add_team, helpers, tmp_path):
    url, directory = live_contest.url, live_contest.directory
    for k, (name, noise) in enumerate([("Bayesian Bandits", 0.15), ("Cosine Crew", 0.05), (XSS_NAME, 0.3)]):
        token = add_team(name)
        for seed in range(1 + k % 2):
            data = helpers.cosine_submission(directory, noise, seed=300 + 10 * k + seed)
            r = httpx.post(
                f"{url}/api/submissions",
                headers={"Authorization": f"Bearer {token}"},
                files={"file": ("s.csv", data)},
            )
            assert r.status_code == 200
    token = add_team("Deep Metric Lab")
    data = helpers.cosine_submission(directory, 0.02, seed=777)
    upload = tmp_path / "submission.csv"
    upload.write_bytes(data)

    page = browser.new_page(viewport={"width": 1100, "height": 700})
    page.goto(url + "/submit")
    page.fill("#token", token)
    page.set_input_files("#file", str(upload))
    page.click("#send")
    page.wait_for_selector("#result")
    public, _ = helpers.reference_scores(directory, data)
    assert page.inner_text("#public-score") == f"{public:.5f}"

    page.goto(url + "/submit")
    page.fill("#token", "fmc_not-a-token")
    page.set_input_files("#file", str(upload))
    page.click("#send")
    assert "invalid team token" in page.inner_text("#error")

    page.goto(url + "/")
    rows = page.locator("#leaderboard tbody tr")
    names = [rows.nth(i).locator("td.team-name").inner_text() for i in range(rows.count())]
    assert {"Deep Metric Lab", "Bayesian Bandits", "baseline: cosine", "baseline: L2", XSS_NAME} <= set(names)
    assert page.evaluate("window.__xss") is None  # the name was shown as text, not run
    row = rows.filter(has_text="Deep Metric Lab")
    assert row.locator("td").nth(3).inner_text() == f"{public:.5f}"
    ranks = [rows.nth(i).locator("td").first.inner_text() for i in range(rows.count())]
    team_ranks = [int(r) for r in ranks if r]
    assert team_ranks == sorted(team_ranks) and team_ranks[0] == 1

    shot = tmp_path / "leaderboard.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    target = os.environ.get("FACEMETRIC_SCREENSHOT_DIR")
    if target:  # refresh docs/img/leaderboard.png: FACEMETRIC_SCREENSHOT_DIR=docs/img pytest ...
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(target) / "leaderboard.png")
    page.close()
