"""The live view in a real browser: JupyterLab + headless Chromium driven by Playwright.

Starts JupyterLab on 127.0.0.1 (free port, random token, isolated config), opens
NOTEBOOK, runs all cells, and checks that the live view renders, that Play moves the
time readout and grows the event log, and that Step works. A screenshot is saved in
tests/e2e/artifacts/ (git-ignored). Without chromium the test skips, except under CI.
"""
from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = Path("/usr/lib/chromium/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

SLOW_MS = 60_000
"""How long to wait for the page or the kernel (a busy 2-core machine can be slow)."""

NOTEBOOK = ROOT / "notebooks" / "03_events_and_the_bus.ipynb"
"""The notebook to open: it displays a LiveView after its outage experiment."""


def _chromium() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    reason = f"no chromium at {CHROMIUM}: `apt-get install -y chromium` (.ci/run does)"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _isolated_env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "MPLCONFIGDIR",
                 "JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR"):
        env[name] = str(tmp / name.lower())
        Path(env[name]).mkdir(parents=True, exist_ok=True)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # kernel: this python
    env["PYTHONHASHSEED"] = "0"
    env["EDLIB_PROGRESS"] = str(tmp / "progress.json")                               # the learner's is not touched
    settings = Path(env["JUPYTERLAB_SETTINGS_DIR"])
    for plugin, values in {"@jupyterlab/apputils-extension/notification": {"fetchNews": "false",
                                                                           "checkForUpdates": False},
                           "@jupyterlab/docmanager-extension/plugin": {"autosave": False}}.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    return env


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A JupyterLab server on 127.0.0.1 (when chromium is there); yields (notebook url with token, chromium)."""
    chromium = _chromium()
    notebook = NOTEBOOK
    port, token = _free_port(), secrets.token_hex(16)
    log = (tmp_path / "lab.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={notebook.parent}"],
        env=_isolated_env(tmp_path), stdout=log, stderr=subprocess.STDOUT, cwd=notebook.parent)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2).read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log = (tmp_path / "lab.log").read_text()[-2000:]
                    raise RuntimeError(f"JupyterLab did not start: {log}") from None
                time.sleep(0.3)
        yield f"{base}/lab/tree/{notebook.name}?token={token}", chromium
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


SEEN_JS = """() => {
    const el = document.querySelector('.edlib-live-log');
    const m = el && el.innerText.match(/(\\d+) of \\d+ records/);
    return m ? m[1] : null;
}"""
"""The number of records the first live view's event log says it has shown (read in one go:
the widget re-renders the log, so a locator found a moment earlier may be gone)."""


def _records_seen(page) -> int:
    return int(page.wait_for_function(SEEN_JS, timeout=SLOW_MS).json_value())   # filled after the picture


def _run_all_cells(page) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    item = page.locator(".lm-Menu-item:not(.lm-mod-disabled) .lm-Menu-itemLabel", has_text="Run All Cells").first
    item.click(timeout=SLOW_MS)


def test_live_view_plays_in_jupyterlab(lab: tuple[str, Path]) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, chromium = lab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        try:
            page.goto(url)
            expect(page.get_by_text("Python 3 (ipykernel) | Idle")).to_be_visible(timeout=SLOW_MS)
            _run_all_cells(page)

            view = page.locator(".edlib-live-view").first
            expect(view).to_be_visible(timeout=SLOW_MS)
            image = view.locator("img").first
            expect(image).to_be_visible()
            page.wait_for_function("img => img.complete && img.naturalWidth >= 700", arg=image.element_handle(),
                                   timeout=SLOW_MS)
            view.scroll_into_view_if_needed()
            clock = view.locator(".edlib-live-time")
            start_text, start_seen = clock.inner_text(), _records_seen(page)

            view.get_by_role("button", name="Play").click()
            expect(clock).not_to_have_text(start_text, timeout=SLOW_MS)
            page.wait_for_function(f"() => {{ const n = ({SEEN_JS})(); return n !== null && +n > {start_seen}; }}",
                                   timeout=SLOW_MS)
            time.sleep(0.5)
            view.get_by_role("button", name="Pause").click()
            expect(view.get_by_role("button", name="Play")).to_be_visible(timeout=SLOW_MS)

            paused_text = clock.inner_text()
            view.get_by_role("button", name="Step").click()
            expect(clock).not_to_have_text(paused_text, timeout=SLOW_MS)
            time.sleep(0.5)  # let the stepped frame arrive
            view.screenshot(path=str(ARTIFACTS / "live_view.png"))
            page.screenshot(path=str(ARTIFACTS / "live_view_page.png"))
            errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
            assert errors.count() == 0, f"a cell wrote to stderr: {errors.first.inner_text()}"
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "failure.png"))
            raise
        finally:
            browser.close()
