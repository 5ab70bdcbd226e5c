"""report.html in a real browser: headless Chromium driven over the DevTools protocol.

Chromium is started with ``--remote-debugging-pipe`` (DevTools messages as NUL-terminated JSON on
file descriptors 3 and 4), so no websocket library or driver binary is needed.  The test opens the
report from a file URL, waits for the load event, checks every image decoded (naturalWidth > 0),
that no console error, exception or failed load occurred, that nothing was fetched from the
network, that the interactive view draws and turns when dragged, and takes a full-page screenshot.

Needs Debian's ``chromium`` package (``apt-get install -y chromium chromium-driver``).  Without it
the test is skipped, except in CI (``CI`` set) where it fails.
"""
from __future__ import annotations

import base64
import json
import os
import re
import select
import shutil
import subprocess
import sys
import time

import pytest

from _results_fixture import make_results


def chromium_path() -> str | None:
    """The Chromium executable: $OREPIT_CHROMIUM, else chromium / chromium-browser / google-chrome on PATH."""
    if os.environ.get("OREPIT_CHROMIUM"):
        return os.environ["OREPIT_CHROMIUM"]
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


class DevTools:
    """A headless Chromium and its DevTools pipe: `call` sends a command and returns its result,
    every event received meanwhile is kept in `events`."""

    def __init__(self, exe: str, profile, log_path):
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        args = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--remote-debugging-pipe", f"--user-data-dir={profile}",
                "about:blank"]
        # Chromium reads commands on descriptor 3 and writes on 4; a tiny Python trampoline puts the
        # pipe ends there before exec (no preexec_fn, which is unsafe once numba or VTK run threads)
        trampoline = ("import fcntl, os, sys; r, w = (fcntl.fcntl(int(a), fcntl.F_DUPFD, 10) for a in sys.argv[1:3]); "
                      "os.dup2(r, 3); os.dup2(w, 4); os.execv(sys.argv[3], sys.argv[3:])")
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen([sys.executable, "-c", trampoline, str(to_chrome_r), str(from_chrome_w), *args],
                                     stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
                                     pass_fds=(to_chrome_r, from_chrome_w))
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buf = b""
        self._next = 0
        self.events: list[dict] = []
        self.session = None

    def _send(self, message: dict) -> None:
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self._to_chrome, data):]

    def _receive(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no DevTools message from Chromium in time")
            ready, _, _ = select.select([self._from_chrome], [], [], left)
            if ready:
                chunk = os.read(self._from_chrome, 1 << 20)
                if not chunk:
                    raise RuntimeError("Chromium closed the DevTools pipe (see its log)")
                self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, timeout: float = 30.0, session: bool = True, **params) -> dict:
        self._next += 1
        message = {"id": self._next, "method": method, "params": params}
        if session and self.session:
            message["sessionId"] = self.session
        self._send(message)
        deadline = time.monotonic() + timeout
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == self._next:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_event(self, method: str, timeout: float = 30.0) -> dict:
        for event in self.events:
            if event.get("method") == method:
                return event
        deadline = time.monotonic() + timeout
        while True:
            event = self._receive(deadline)
            self.events.append(event)
            if event.get("method") == method:
                return event

    def open_page(self, width: int, height: int) -> None:
        target = self.call("Target.createTarget", session=False, url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", session=False, targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)

    def close(self) -> None:
        try:
            self.session = None
            self.call("Browser.close", timeout=5.0, session=False)
        except Exception:  # noqa: BLE001 - closing anyway
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)
        self._log.close()


def problems(events: list[dict]) -> list[str]:
    """Console errors, uncaught exceptions, error log entries and failed loads among the events."""
    out = []
    for e in events:
        method, params = e.get("method"), e.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            out.append("console: " + " ".join(str(a.get("value", a.get("description"))) for a in params.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            out.append("exception: " + str(params.get("exceptionDetails", {}).get("text")))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            out.append("log: " + params["entry"].get("text", ""))
        elif method == "Network.loadingFailed":
            out.append("failed load: " + str(params.get("errorText")))
    return out


@pytest.fixture(scope="module")
def chromium():
    exe = chromium_path()
    if exe is None:
        message = "Chromium not found (Debian: apt-get install -y chromium chromium-driver; or set OREPIT_CHROMIUM)"
        if os.environ.get("CI"):
            pytest.fail(message + " -- required in CI")
        pytest.skip(message)
    return exe


def test_report_renders_in_headless_chromium(chromium, tmp_path):
    folder = make_results(tmp_path / "results")
    from orepit.output.report import write_report
    report = write_report(folder, window_size=(480, 320), chart_size=(560, 320))
    browser = DevTools(chromium, tmp_path / "profile", tmp_path / "chromium.log")
    try:
        browser.open_page(1280, 900)
        browser.call("Page.navigate", url=report.resolve().as_uri())
        browser.wait_event("Page.loadEventFired", timeout=60.0)
        images = browser.call("Runtime.evaluate", returnByValue=True, expression=(
            "Array.from(document.images).map(i => ({alt: i.alt, complete: i.complete, w: i.naturalWidth, "
            "h: i.naturalHeight, data: i.src.startsWith('data:image/png;base64,')}))"))["result"]["value"]
        sections = browser.call("Runtime.evaluate", returnByValue=True,
                                expression="Array.from(document.querySelectorAll('h2')).map(h => h.textContent)"
                                )["result"]["value"]
        canvas_js = ("(() => { const c = document.getElementById('v3d'); const d = c.getContext('2d')"
                     ".getImageData(0, 0, c.width, c.height).data; let n = 0;"
                     " for (let i = 0; i < d.length; i += 4) if (d[i] < 250 || d[i + 1] < 250 || d[i + 2] < 250) n++;"
                     " return [n / (c.width * c.height), c.toDataURL().length, c.toDataURL()]; })()")
        painted, _, before = browser.call("Runtime.evaluate", returnByValue=True, expression=canvas_js)["result"]["value"]
        browser.call("Runtime.evaluate", awaitPromise=True, expression=(  # drag across the canvas, wait two frames
            "(async () => { const c = document.getElementById('v3d'); const r = c.getBoundingClientRect();"
            " const at = (type, dx) => c.dispatchEvent(new PointerEvent(type, {bubbles: true, clientX: r.left + 200 + dx,"
            " clientY: r.top + 200}));"
            " at('pointerdown', 0); at('pointermove', 80); window.dispatchEvent(new PointerEvent('pointerup'));"
            " await new Promise(ok => requestAnimationFrame(() => requestAnimationFrame(ok))); })()"))
        after = browser.call("Runtime.evaluate", returnByValue=True, expression=canvas_js)["result"]["value"][2]
        size = browser.call("Page.getLayoutMetrics")["cssContentSize"]
        shot = browser.call("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                            clip={"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 16000),
                                  "scale": 0.5})
        time.sleep(0.2)  # let late console messages arrive
        browser.call("Runtime.evaluate", expression="1")
        events = list(browser.events)
    finally:
        browser.close()
    png = base64.b64decode(shot["data"])
    (tmp_path / "report_screenshot.png").write_bytes(png)
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
    assert len(images) >= 12, images
    for img in images:
        assert img["complete"] and img["w"] > 0 and img["h"] > 0, f"image did not load: {img}"
        assert img["data"], f"image not embedded: {img}"
    assert problems(events) == []
    assert painted > 0.05, "the interactive view drew nothing"
    assert after != before, "dragging did not rotate the interactive view"
    fetched = [e["params"]["request"]["url"] for e in events if e.get("method") == "Network.requestWillBeSent"]
    assert all(url.startswith(("file:", "data:")) for url in fetched), fetched
    for title in ("Strategies compared", "Block model", "Ultimate pit and nested shells", "Schedules",
                  "Destinations: what each plan does with the ore", "Environmental cost", "How much does more metal cost?"):
        assert title in sections


def test_console_errors_are_caught(chromium, tmp_path):
    """The check itself works: a page with a broken image and a console error is reported."""
    page = tmp_path / "bad.html"
    page.write_text("<!DOCTYPE html><html><head><link rel='icon' href='data:,'></head><body>"
                    "<img src='missing.png'><script>console.error('boom')</script></body></html>")
    browser = DevTools(chromium, tmp_path / "profile", tmp_path / "chromium.log")
    try:
        browser.open_page(400, 300)
        browser.call("Page.navigate", url=page.as_uri())
        browser.wait_event("Page.loadEventFired", timeout=60.0)
        width = browser.call("Runtime.evaluate", returnByValue=True,
                             expression="document.images[0].naturalWidth")["result"]["value"]
        time.sleep(0.2)
        browser.call("Runtime.evaluate", expression="1")
        found = problems(browser.events)
    finally:
        browser.close()
    assert width == 0
    assert any("boom" in p for p in found), found


# -- a report from a real study: the figures repeated on the page agree, views per strategy ---------
PAGE_JS = """(() => {
  const text = e => e.textContent.trim();
  const tables = {};
  document.querySelectorAll('section').forEach(s => { tables[s.id] = Array.from(s.querySelectorAll('table')).map(
    t => Array.from(t.querySelectorAll('tr')).map(r => Array.from(r.children).map(text))); });
  return {images: Array.from(document.images).map(i => ({alt: i.alt, src: i.src})), tables: tables,
          headline: Array.from(document.querySelectorAll('p.key')).map(text).join(' '),
          paragraphs: Array.from(document.querySelectorAll('p')).map(text),
          links: Array.from(document.querySelectorAll('[href],[src]')).map(e => [e.tagName,
                 e.getAttribute('href') || e.getAttribute('src')]).filter(([, v]) => !v.startsWith('data:image/png')),
          ids: Array.from(document.querySelectorAll('[id]')).map(e => e.id)};
})()"""


def number(text: str) -> tuple[float, float]:
    """(value, half of its last shown digit) of a number as the report writes it ('1,384', '-35.1', '0.0166')."""
    text = text.strip().replace(",", "").replace("\u2212", "-")
    decimals = len(text.split(".")[1]) if "." in text else 0
    return float(text), 0.5 * 10.0 ** -decimals


def agree(a, b) -> bool:
    """Two shown figures (text or exact float) are the same number within what their rounding hides."""
    (x, dx), (y, dy) = (number(v) if isinstance(v, str) else (float(v), 0.0) for v in (a, b))
    return abs(x - y) <= dx + dy + 1e-9 * max(abs(x), abs(y))


def rows_of(table: list[list[str]]) -> dict[str, list[str]]:
    """{first cell: other cells} of a table's body rows, with the header row under 'header'."""
    return {("header" if n == 0 else row[0]): row[1:] for n, row in enumerate(table)}


@pytest.fixture(scope="module")
def study_report(tmp_path_factory):
    """A results folder from a real comparison (Cu and Au, three strategies, frontier) and its report."""
    from orepit.cli import main
    from orepit.output.report import write_report
    out = tmp_path_factory.mktemp("study") / "r"
    assert main(["compare", "--blocks", "2000", "--seed", "3", "--strategies", "high-grade,npv,green,frontier",
                 "--out", str(out), "--no-report", "--quiet", "--threads", "1", "--time-limit", "60"]) == 0
    return write_report(out, window_size=(480, 320), chart_size=(560, 320))


def test_a_studys_report_repeats_each_figure_alike_and_links_nothing_outside(chromium, study_report, tmp_path):
    import io
    import pandas as pd
    from PIL import Image
    from orepit.data.files import read_model
    folder = study_report.parent
    kpis = pd.read_csv(folder / "kpis.csv").set_index("strategy")
    summary = json.loads((folder / "summary.json").read_text())
    blocks = read_model(folder / "blocks.parquet")
    browser = DevTools(chromium, tmp_path / "profile", tmp_path / "chromium.log")
    try:
        browser.open_page(1280, 900)
        browser.call("Page.navigate", url=study_report.resolve().as_uri())
        browser.wait_event("Page.loadEventFired", timeout=60.0)
        page = browser.call("Runtime.evaluate", returnByValue=True, expression=PAGE_JS, timeout=60.0)["result"]["value"]
        time.sleep(0.2)
        browser.call("Runtime.evaluate", expression="1")
        events = list(browser.events)
    finally:
        browser.close()
    assert problems(events) == []
    names = list(kpis.index)
    assert names == ["high-grade", "npv", "green"] and summary["deposit"]["elements"] == ["cu", "au"]

    # nothing on the page points outside it: in-page anchors and data URIs only
    for tag, target in page["links"]:
        assert target.startswith("data:") or (target.startswith("#") and target[1:] in page["ids"]), (tag, target)

    # every picture: titled views per strategy, axis titles in its metadata, one colour-bar tick a period
    meta = {img["alt"]: Image.open(io.BytesIO(base64.b64decode(img["src"].split(",", 1)[1]))).text
            for img in page["images"]}
    assert all(text.get("axes") for text in meta.values()), {alt: t for alt, t in meta.items() if not t.get("axes")}
    for s in names:
        for caption, title in ((f"{s}: mined blocks by destination", f"{s}: destinations"),
                               (f"{s}: environmental cost per tonne", f"{s}: environmental cost per tonne"),
                               (f"{s}: blocks coloured by extraction period", f"{s}: extraction period")):
            found = [alt for alt in meta if alt.startswith(caption)]
            assert len(found) == 1, (caption, list(meta))
            assert meta[found[0]]["title"].startswith(title), meta[found[0]]
            assert meta[found[0]]["north arrow"] and meta[found[0]]["scale bar"]
            if "period" in caption:
                n = int(blocks["period_" + s.replace("-", "_")].max()) + 1
                assert meta[found[0]]["colour bar ticks"] == ", ".join(map(str, range(n)))

    # the headline KPI table names each element's metal and shows kpis.csv's figures
    head, every = (rows_of(t) for t in page["tables"]["kpis"][:2])
    assert head["header"][:3] == names
    shown = {"metal recovered (t Cu)": ("metal_recovered_cu", 1.0), "metal recovered (kg Au)": ("metal_recovered_au", 1e3),
             "NPV (economic) (MUSD)": ("npv", 1e-6), "NPV after environmental cost (MUSD)": ("npv_after_environment", 1e-6),
             "CO2 (kt)": ("co2_tonnes", 1e-3)}
    for label, (key, scale) in shown.items():
        for s, cell in zip(names, head[label]):
            assert agree(cell, kpis.loc[s, key] * scale), (label, s, cell)
    assert kpis.loc["green", "metal_recovered_cu"] == kpis.loc["green", "metal_recovered"]
    for label, cells in head.items():                       # the same row in "all KPIs" is the same figures
        if label != "header":
            assert every[label] == cells, label

    # where the metal goes: one table per element, its rows the KPI table's, the parts adding up
    for table, element in zip(page["tables"]["balance"], ("t Cu", "kg Au")):
        rows = rows_of(table)
        assert table[0][0] == f"metal ({element})", table[0]
        for s, n in zip(names, range(3)):
            assert agree(rows["recovered"][n], head[f"metal recovered ({element})"][n])
            parts = sum(number(rows[k][n])[0] for k in rows if k not in ("header", "ore-grade metal in the deposit"))
            assert agree(f"{parts:.0f}", rows["ore-grade metal in the deposit"][n])

    # the headline's figures are the KPI table's, against each base
    gap = {"high-grade": head["metal recovered (t Cu)"][3]}                  # green − high-grade, as shown
    for base in ("npv", "high-grade"):
        key = base.replace("-", "_")
        said = re.search(rf"Against {base}, green (recovers|loses) ([\d,]+) t (more|less) Cu; its economic NPV is "
                         rf"([\d,]+) M USD (higher|lower) \(([\d.]+) % of {base}'s\)", page["headline"])
        assert said, page["headline"]
        extra = ("" if said[1] == "recovers" else "-") + said[2]
        assert agree(extra, kpis.loc["green", f"extra_metal_vs_{key}"])
        green_cu, base_cu = (number(head["metal recovered (t Cu)"][names.index(n)])[0] for n in ("green", base))
        assert abs(number(extra)[0] - (green_cu - base_cu)) <= 1.5        # three figures, each rounded to 1 t
        if base in gap:
            assert agree(said[2], gap[base].lstrip("-"))
        npv_gap = number(head["NPV (economic) (MUSD)"][2])[0] - number(head["NPV (economic) (MUSD)"][names.index(base)])[0]
        assert abs(number(said[4])[0] * (1 if said[5] == "higher" else -1) - npv_gap) <= 1.0
        assert agree(said[6], 100 * kpis.loc["green", "npv"] / kpis.loc[base, "npv"])
    budget = [p for p in page["paragraphs"] if p.startswith("Green may give up")]
    if budget:
        keeps = re.search(r"and keeps ([\d,.]+) M USD", budget[0])[1]
        assert agree(keeps, head["NPV (economic) (MUSD)"][2])
