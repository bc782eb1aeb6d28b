"""Check that a counterexample's charts render with nothing cut off, in a real browser.

    python scripts/check_rendering.py REPORT... [--out DIR] [--chromium PATH] [--mmdc CMD]

REPORT is a counterexample's replay file (``counterexample-*.json``: its charts are rendered
first, into --out), one of its charts (``*.svg`` or ``*.mmd``), or a report directory (every
chart in it).  For each chart:

- the SVG that tssbqs-pbt draws is loaded in headless Chromium, which measures every text (its
  real bounding box, in the fonts the machine has): each must lie inside the canvas, and each
  note's text inside its box; then a PNG screenshot of the whole SVG is taken;
- the Mermaid file is rendered by mermaid-cli (``mmdc``) to SVG, measured the same way (every
  text inside the drawing, every note's text inside its box) and screenshot too;
- neither drawing may contain an ellipsis, except the counts of what is left out ("… 12 more
  messages not drawn", "… and 3 more events").

It prints one line per chart and writes the PNGs (and the Mermaid SVG) next to the report or
into --out; exit status 0 when everything fits, 1 when something is cut off, 2 when a tool is
missing.  Tools: Chromium (Debian: ``apt-get install chromium``; or --chromium, $CHROMIUM) and
mermaid-cli (--mmdc, $MMDC, ``mmdc`` on the PATH, else ``npx -y @mermaid-js/mermaid-cli``,
which is run with PUPPETEER_SKIP_DOWNLOAD=1 and told to use that Chromium).  CI does not need
any of this; ``tests/unit/test_report_wrapping.py`` runs it when both tools are there.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import attrs

__all__ = ["Tools", "check_chart", "find_tools", "main"]

_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
          "--hide-scrollbars", "--allow-file-access-from-files")
_ALLOWED_ELLIPSIS = re.compile(r"… (and )?\d+ more (message|event)")
_MAX_SIDE = 16_000  # Chromium's largest screenshot side, roughly
_TIMEOUT = 120

# Runs in the page: every <text> of the SVG measured against the canvas and its note's box.
_MEASURE = """
<script>
const svg = document.querySelector('svg');
const view = svg.viewBox.baseVal;
const box = (view && view.width) ? view : {x: 0, y: 0, width: svg.width.baseVal.value,
                                          height: svg.height.baseVal.value};
const problems = [];
const slack = 1.5;
function inside(b, o) {
  return b.x >= o.x - slack && b.y >= o.y - slack && b.x + b.width <= o.x + o.width + slack
    && b.y + b.height <= o.y + o.height + slack;
}
for (const t of svg.querySelectorAll('text')) {
  const b = t.getBBox();
  if (b.width === 0 || !t.textContent.trim()) continue;
  const m = t.getCTM(), root = svg.getCTM();
  const x = b.x + (m ? m.e - root.e : 0), y = b.y + (m ? m.f - root.f : 0);
  if (!inside({x: x, y: y, width: b.width, height: b.height}, box))
    problems.push('off the canvas: ' + t.textContent);
  const note = t.closest('g.note') ? t.closest('g.note').querySelector('rect')
    : (t.classList.contains('noteText') && t.previousElementSibling
       && t.previousElementSibling.classList.contains('note') ? t.previousElementSibling
       : null);
  if (note && !inside(b, note.getBBox())) problems.push('outside its note: ' + t.textContent);
}
const out = document.createElement('pre');
out.id = 'verdict';
out.textContent = JSON.stringify({problems: problems, text: svg.textContent,
                                  width: box.width, height: box.height});
document.body.appendChild(out);
</script>
"""


@attrs.frozen
class Tools:
    """Where Chromium is and how mermaid-cli is started (``mmdc``: a command line)."""

    chromium: str
    mmdc: tuple[str, ...] | None


@attrs.frozen
class _Measured:
    problems: tuple[str, ...]
    text: str  # every text of the drawing, run together
    width: float
    height: float


def find_tools(chromium: str | None = None, mmdc: str | None = None,
               npx: bool = True) -> Tools | None:
    """The tools to use, or None when there is no Chromium (mermaid-cli may be absent)."""
    browser = chromium or os.environ.get("CHROMIUM") or next(
        (found for name in _BROWSERS if (found := shutil.which(name))), None)
    if browser is None:
        return None
    command = mmdc or os.environ.get("MMDC")
    if command:
        return Tools(browser, tuple(shlex.split(command)))
    if shutil.which("mmdc"):
        return Tools(browser, ("mmdc",))
    if npx and shutil.which("npx"):
        return Tools(browser, ("npx", "-y", "@mermaid-js/mermaid-cli"))
    return Tools(browser, None)


def check_chart(path: Path, out: Path, tools: Tools) -> list[str]:
    """Measure and screenshot one chart (an ``.svg`` tssbqs-pbt drew, or an ``.mmd``);
    return what is cut off (nothing: an empty list)."""
    path, out = path.resolve(), out.resolve()  # (a relative path has no file URI)
    if path.suffix == ".mmd":
        if tools.mmdc is None:
            return [f"{path.name}: no mermaid-cli to render it (--mmdc, $MMDC, mmdc or npx)"]
        drawn = out / (path.stem + ".mermaid.svg")
        _mermaid(path, drawn, tools)
        path = drawn
    measured = _measure(path, tools)
    problems = [f"{path.name}: {p}" for p in measured.problems]
    for match in re.finditer(r".{0,40}….{0,30}", measured.text):
        if not _ALLOWED_ELLIPSIS.search(match.group()):
            problems.append(f"{path.name}: an ellipsis cuts text: {match.group()!r}")
    _screenshot(path, out / (path.stem + ".png"), measured.width, measured.height, tools)
    return problems


def _mermaid(source: Path, target: Path, tools: Tools) -> None:
    assert tools.mmdc is not None
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "puppeteer.json"
        config.write_text(json.dumps({"executablePath": tools.chromium,
                                      "args": list(_FLAGS[1:])}), encoding="utf-8")
        env = {**os.environ, "PUPPETEER_SKIP_DOWNLOAD": "1"}
        subprocess.run([*tools.mmdc, "-q", "-p", str(config), "-i", str(source), "-o",
                        str(target)], check=True, env=env, timeout=_TIMEOUT * 3,
                       stdout=subprocess.DEVNULL)


def _chromium(tools: Tools, *args: str) -> str:
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run([tools.chromium, *_FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=_TIMEOUT, check=True)
    return done.stdout


def _measure(svg: Path, tools: Tools) -> _Measured:
    inline = re.sub(r"^<\?xml[^>]*>\s*", "", svg.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "measure.html"
        page.write_text(f"<!DOCTYPE html><html><body style='margin:0'>{inline}{_MEASURE}"
                        "</body></html>", encoding="utf-8")
        dom = _chromium(tools, "--virtual-time-budget=5000", "--dump-dom", page.as_uri())
    found = re.search(r"<pre id=\"verdict\">(.*?)</pre>", dom, re.S)
    if found is None:
        raise RuntimeError(f"Chromium did not measure {svg}")
    text = found.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
    found_json = json.loads(text.replace("&amp;", "&"))
    return _Measured(tuple(str(p) for p in found_json["problems"]), str(found_json["text"]),
                     float(found_json["width"]), float(found_json["height"]))


def _screenshot(svg: Path, png: Path, width: float, height: float, tools: Tools) -> None:
    w = min(int(width) + 1, _MAX_SIDE)
    h = min(int(height) + 1, _MAX_SIDE)
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "shot.html"  # the SVG at its own size, whatever its root says
        page.write_text(f"<!DOCTYPE html><html><body style='margin:0'><img src='{svg.as_uri()}'"
                        f" width='{w}' height='{h}'></body></html>", encoding="utf-8")
        _chromium(tools, f"--window-size={w},{h}", f"--screenshot={png}", page.as_uri())


def _charts(report: Path, out: Path) -> list[Path]:
    if report.is_dir():
        drawn = [p for p in report.glob("*.svg") if not p.name.endswith(".mermaid.svg")]
        return sorted([*drawn, *report.glob("*.mmd")])
    if report.suffix == ".json":
        from tssbqs_pbt.cli import main as cli

        with contextlib.redirect_stdout(io.StringIO()):
            if cli(["render", str(report), "--out", str(out)]) != 0:
                raise RuntimeError(f"tssbqs-pbt render {report} failed")
        stem = report.stem.replace("-", "_")
        return [out / f"{stem}.svg", out / f"{stem}.mmd"]
    return [report]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reports", nargs="+", type=Path, help="replay files, charts or dirs")
    parser.add_argument("--out", type=Path, help="where PNGs go (default: next to the chart)")
    parser.add_argument("--chromium", help="the Chromium binary (default: $CHROMIUM, PATH)")
    parser.add_argument("--mmdc", help="mermaid-cli command (default: $MMDC, mmdc, npx)")
    args = parser.parse_args(argv)
    tools = find_tools(args.chromium, args.mmdc)
    if tools is None:
        print("no Chromium found (apt-get install chromium, or --chromium PATH)", file=sys.stderr)
        return 2
    problems: list[str] = []
    for report in (path.resolve() for path in args.reports):
        out = (args.out or (report if report.is_dir() else report.parent)).resolve()
        out.mkdir(parents=True, exist_ok=True)
        for chart in _charts(report, out):
            found = check_chart(chart, out, tools)
            print(f"{'CUT' if found else 'ok '} {chart}")
            problems.extend(found)
    for problem in problems:
        print(f"  {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
