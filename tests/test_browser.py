"""The report in a real browser: headless Chromium (Debian's `chromium`, installed by .ci/run).

Chromium loads the file offline and dumps the DOM after the page's script ran; the test checks that
the script finished, that the table lists every registered claim, that a claim section opens from
its link (URL fragment), and that the filter hides rows.  Skipped, with the reason, where no Chromium
binary exists.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from lora_claims.report.build import build_report
from lora_claims.catalog import all_claims, get
from lora_claims.profiles import PROFILES
from lora_claims.runner import run_and_record
from lora_claims.store import Store

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "chrome")


def _browser() -> tuple[str | None, str]:
    """The first Chromium on PATH that runs (a snap stub on a machine without snapd does not)."""
    found = [shutil.which(b) for b in BROWSERS if shutil.which(b)]
    if not found:
        return None, ("no Chromium binary on PATH (install Debian's `chromium` package; .ci/run does this "
                      "with apt-get where it can)")
    for path in found:
        try:
            done = subprocess.run([path, "--headless", "--no-sandbox", "--version"], capture_output=True,
                                  text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            last = f"{path} does not start: {exc}"
            continue
        if done.returncode == 0:
            return path, ""
        last = f"{path} --version failed: {(done.stderr or done.stdout).strip()[:200]}"
    return None, last


BROWSER, WHY_NOT = _browser()
pytestmark = pytest.mark.skipif(BROWSER is None, reason=WHY_NOT)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser")
    store = Store(folder / "claims.sqlite")
    run = store.start_run("ci", "cpu", 0, {})
    for cid in ("jang2024.lemma_l2_origin", "jang2024.nc_a_tightness"):      # two fast claims, one control
        run_and_record(get(cid), PROFILES["ci"], "cpu", 0, store, run)
    store.finish_run(run)
    path = build_report(store, all_claims(), folder / "report.html")
    store.close()
    return path


def dom(path, tmp_path, suffix="") -> str:
    """The DOM after load, as Chromium serialises it."""
    cmd = [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", path.resolve().as_uri() + suffix]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "<html" in done.stdout, done.stderr[-2000:]
    return done.stdout


class _Dom(HTMLParser):
    def __init__(self, text):
        super().__init__()
        self.body, self.rows, self.open, self.shown = {}, [], [], ""
        self._span = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body":
            self.body = a
        if tag == "tr" and "data-id" in a:
            self.rows.append((a["data-id"], "display: none" in (a.get("style") or "")))
        if tag == "details" and "open" in a:
            self.open.append(a.get("id"))
        self._span = tag == "span" and a.get("id") == "shown"

    def handle_data(self, data):
        if self._span:
            self.shown += data


def test_report_loads_and_lists_every_claim(report, tmp_path):
    d = _Dom(dom(report, tmp_path))
    assert d.body.get("data-ready") == "1", "the page's script did not finish"
    assert [r[0] for r in d.rows] == [c.id for c in all_claims()]
    assert not any(hidden for _, hidden in d.rows)
    n = len(all_claims())
    assert d.shown.strip() == f"{n} of {n} claims shown"
    assert d.open == []


def test_claim_section_opens_from_its_link(report, tmp_path):
    d = _Dom(dom(report, tmp_path, "#jang2024.nc_a_tightness"))
    assert d.open == ["jang2024.nc_a_tightness"]


def test_filter_hides_rows(report, tmp_path):
    d = _Dom(dom(report, tmp_path, "?verdict=falsified"))
    shown = [cid for cid, hidden in d.rows if not hidden]
    assert shown == ["jang2024.nc_a_tightness"]
    assert re.fullmatch(rf"1 of {len(all_claims())} claims shown", d.shown.strip())
