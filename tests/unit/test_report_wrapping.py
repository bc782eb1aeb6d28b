"""Reports never cut the decisive value (issue #29, "Reports"): long labels wrap in the SVG, the
Mermaid chart and the steps; the SVG canvas holds its widest line and its title; a settle that
contains the violating delivery lists that delivery on its own."""

from __future__ import annotations

import importlib.util
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import attacks
import attrs
import pytest
from scenario import Attack
from tssbqs_pbt.protocols import FAMILY_C_OPTIONS, Design

from tssbqs_pbt.crypto import Signature
from tssbqs_pbt.kernel import (
    Absorbed,
    Completed,
    Delivered,
    Envelope,
    Invoke,
    Invoked,
    Learned,
    OpId,
    OpResult,
    Sent,
    Settle,
    Settled,
    StepRecord,
    SystemConfig,
    Trace,
    TraceHeader,
    client,
    read,
    server,
    write,
)
from tssbqs_pbt.properties import Clause, Property, Status, Verdict, Violation
from tssbqs_pbt.report import (
    build_timeline,
    render_mermaid,
    render_steps,
    render_svg,
    write_report,
)
from tssbqs_pbt.report.describe import wrap
from tssbqs_pbt.report.mermaid import ARROW_WIDTH, mermaid_label
from tssbqs_pbt.report.svg import text_width

SVG = "{http://www.w3.org/2000/svg}"
LONG = "v-" + "decisive" * 7 + "-e"  # 60 characters, no space to break at
assert len(LONG) == 60


@attrs.frozen
class Ask:
    op: OpId


@attrs.frozen
class Answer:
    op: OpId
    value: str
    ts: tuple[int, int]


def _settle_trace(noise: int = 30, protocol: str = "synthetic") -> tuple[Trace, Verdict]:
    """C1 reads; one settle delivers ``noise`` messages between servers and, in the middle,
    the Answer that makes C1's read return LONG, a value nobody may read."""
    config = SystemConfig(n=4, f=1, q=3, t=2, byzantine={4})
    op = OpId(client(1), 1)
    ask = Envelope(1, client(1), server(1), Ask(op))
    answer = Envelope(2, server(1), client(1), Answer(op, LONG, (2, 1)))
    chatter = [Envelope(10 + i, server(1 + i % 3), server(1 + (i + 1) % 3), Ask(op))
               for i in range(noise)]
    first = StepRecord(1, Invoke(client(1), read()), (
        Invoked(op, read()), Sent(ask), Sent(answer), *(Sent(e) for e in chatter)))
    events: list[object] = [Delivered(1)]
    events.extend(Delivered(e.id) for e in chatter[: noise // 2])
    events.extend((Delivered(2), Completed(op, OpResult(LONG, (2, 1)))))
    events.extend(Delivered(e.id) for e in chatter[noise // 2:])
    events.append(Settled(noise + 2, 0))
    second = StepRecord(2, Settle(), tuple(events))  # type: ignore[arg-type]
    trace = Trace(TraceHeader(protocol, config, "ideal", "k"), (first, second))
    verdict = Verdict(Property.CONSISTENCY, Status.VIOLATED, (
        Violation(Clause.INTEGRITY, ops=(op,), steps=(1, 2), got=LONG, allowed=("v0",)),))
    return trace, verdict


@pytest.fixture(scope="module")
def long_write() -> tuple[Trace, Verdict]:
    """A real attack (A9) whose write is of a 60-character value: the violation names it."""
    attack = Attack(Design(4, 1, 3, 2, FAMILY_C_OPTIONS.with_(ack_mode="PIGGYBACK")))
    original = attack.invoke

    def invoke(index: int, operation: object) -> OpId:
        return original(index, write(LONG) if operation == write("v1") else operation)

    attack.invoke = invoke  # type: ignore[method-assign]
    attacks.done_after_one_store(attack)
    attack.drain()
    verdict = attack.verdicts()[0]
    assert verdict.property is Property.CONSISTENCY and verdict.violated
    return Trace.of(attack.world), verdict


def _texts(svg: str) -> list[ET.Element]:
    return list(ET.fromstring(svg).iter(f"{SVG}text"))


# -- wrap --------------------------------------------------------------------------------------
def test_wrap_breaks_between_words_and_never_cuts() -> None:
    text = f"read C1#3 returned {LONG} at step 38, but regular semantics allows only v1"
    lines = wrap(text, 30)
    assert " ".join(lines) == text
    assert LONG in lines  # a word wider than the line stands whole on a line of its own
    assert all(len(line) <= 30 for line in lines if line != LONG)
    assert wrap("", 10) == ("",)


# -- the long value appears whole everywhere ---------------------------------------------------
@pytest.mark.parametrize("source", ["settle", "long_write"])
def test_a_long_value_appears_whole_in_svg_mermaid_and_steps(
        source: str, long_write: tuple[Trace, Verdict]) -> None:
    trace, verdict = _settle_trace() if source == "settle" else long_write
    svg, mermaid, steps = (render_svg(trace, verdict), render_mermaid(trace, verdict),
                           render_steps(trace, verdict))
    assert any(LONG in (t.text or "") for t in _texts(svg))
    violation = [line for line in mermaid.splitlines() if "⚠" in line]
    assert violation and LONG in violation[0]
    assert LONG in steps.split("### Verdict")[1]
    for text in (svg, mermaid, steps):
        assert "…" not in text.replace("… and", "").replace("more message", "")


def test_byzantine_messages_are_labelled_in_full(long_write: tuple[Trace, Verdict]) -> None:
    trace, verdict = long_write
    timeline = build_timeline(trace, verdict)
    forged = [e for e in timeline.envelopes.values() if timeline.is_byzantine(e.src)]
    assert forged
    mermaid = render_mermaid(trace, verdict)
    labels = [line for line in mermaid.splitlines() if "-->>" in line or "--x" in line]
    assert labels and not any("…" in line for line in labels)
    assert any("<br/>" in line for line in labels)  # long ones wrap instead


# -- the SVG is sized to its content -----------------------------------------------------------
def _extent(t: ET.Element) -> tuple[float, float]:
    size = int(t.get("font-size", "11"))
    width = text_width(t.text or "", size, t.get("font-weight") == "bold")
    x = float(t.get("x", "0"))
    anchor = t.get("text-anchor", "start")
    left = x - width / 2 if anchor == "middle" else x - width if anchor == "end" else x
    return left, left + width


@pytest.mark.parametrize("protocol", [
    "synthetic",
    "design[" + " ".join(f"OPTION_{i}=VALUE_{i}" for i in range(30)) + "]",
    "one-name-without-any-space-" * 8,
])
def test_svg_canvas_holds_every_line_and_the_title(protocol: str) -> None:
    trace, verdict = _settle_trace(protocol=protocol)
    svg = render_svg(trace, verdict)
    root = ET.fromstring(svg)
    width, height = float(root.get("width", "0")), float(root.get("height", "0"))
    assert root.get("viewBox") == f"0 0 {width:g} {height:g}"
    for t in _texts(svg):
        left, right = _extent(t)
        assert left >= 0 and right <= width, (t.text, left, right, width)
        assert 0 < float(t.get("y", "0")) <= height
    title = "".join((t.text or "") + " " for t in _texts(svg)
                    if t.get("font-size") == "13").replace(" ", "")
    assert protocol.replace(" ", "") in title  # wrapped onto lines, not cut


def test_svg_notes_hold_their_wrapped_text(long_write: tuple[Trace, Verdict]) -> None:
    svg = render_svg(*long_write)
    root = ET.fromstring(svg)
    notes = [g for g in root.iter(f"{SVG}g") if "note" in (g.get("class") or "")]
    violation = [g for g in notes if g.get("class") == "note violation"]
    assert len(violation) == 1
    assert len(list(violation[0].iter(f"{SVG}text"))) > 1  # the violation wraps
    for g in notes:
        (box,) = g.iter(f"{SVG}rect")
        left = float(box.get("x", "0"))
        right = left + float(box.get("width", "0"))
        top = float(box.get("y", "0"))
        bottom = top + float(box.get("height", "0"))
        for t in g.iter(f"{SVG}text"):
            text_left, text_right = _extent(t)
            assert left <= text_left and text_right <= right, t.text
            assert top < float(t.get("y", "0")) <= bottom


# -- a settle that contains the violating delivery ---------------------------------------------
def test_a_settle_lists_the_violating_delivery_on_its_own() -> None:
    trace, verdict = _settle_trace(noise=60)
    steps = render_steps(trace, verdict)
    settle = steps.split("\n2. ", 1)[1].split("\n\n", 1)[0]
    assert settle.startswith("⚠ settle")
    assert "62 messages delivered" in settle
    decisive = [line for line in settle.splitlines() if line.startswith("   - ⚠")]
    assert decisive == [
        f"   - ⚠ delivery 32 of 62: C1 receives Answer{{op: C1#1, value: {LONG}, ts: (2, 1)}} "
        f"from S1 (#2) → C1's read C1#1 returns {LONG} (ts (2, 1))"]
    assert build_timeline(trace, verdict).decisive == frozenset({2})


def test_the_violating_delivery_is_drawn_beyond_the_arrow_cap() -> None:
    trace, verdict = _settle_trace(noise=60)
    mermaid = render_mermaid(trace, verdict, max_arrows=5)
    answer = mermaid_label(f"⚠ 2. Answer{{op: C1#1, value: {LONG}, ts: (2, 1)}}", ARROW_WIDTH)
    assert f"S1->>C1: {answer}\n" in mermaid  # marked, with the value it carried
    assert "more messages not drawn" in mermaid


# -- in a real browser (only where Chromium is installed; CI does not need it) -----------------
def _rendering_check() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "scripts" / "check_rendering.py"
    spec = importlib.util.spec_from_file_location("check_rendering_for_tests", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_charts_render_with_nothing_cut_off_in_chromium(
        long_write: tuple[Trace, Verdict], tmp_path: Path) -> None:
    """scripts/check_rendering.py measures every text in headless Chromium (and renders the
    Mermaid file with mermaid-cli when ``mmdc`` or $MMDC is there) and takes screenshots."""
    check = _rendering_check()
    tools = check.find_tools(npx=False)  # no download from a test
    if tools is None:
        pytest.skip("no Chromium (apt-get install chromium): the rendering check needs it")
    trace, verdict = long_write
    files = write_report(trace, verdict, tmp_path / "counterexample-p1-long.json", tmp_path)
    charts = [files.svg] + ([files.mermaid] if tools.mmdc is not None else [])
    for chart in charts:
        assert check.check_chart(chart, tmp_path, tools) == []
    assert (tmp_path / f"{files.svg.stem}.png").stat().st_size > 0


def test_a_settle_lists_the_delivery_that_handed_the_adversary_a_signature() -> None:
    """P3: the delivery after which a correct server's message gave B a signature it must not
    hold is listed on its own, inside the settle, with the signed bytes whole."""
    config = SystemConfig(n=4, f=1, q=3, t=2, byzantine={4})
    op = OpId(client(1), 1)
    signed = f"datum|{LONG}|2.1".encode()
    ask = Envelope(1, client(1), server(1), Ask(op))
    leak = Envelope(5, server(1), server(4), Answer(op, LONG, (2, 1)))
    chatter = [Envelope(10 + i, server(2), server(3), Ask(op)) for i in range(30)]
    first = StepRecord(1, Invoke(client(1), read()), (
        Invoked(op, read()), Sent(ask), *(Sent(e) for e in chatter)))
    second = StepRecord(2, Settle(), (
        *(Delivered(e.id) for e in chatter), Delivered(1), Sent(leak), Absorbed(5),
        Learned(Signature("k", signed, 5)), Settled(31, 0)))
    trace = Trace(TraceHeader("synthetic", config, "ideal", "k"), (first, second))
    verdict = Verdict(Property.CONFIDENTIALITY, Status.VIOLATED, (
        Violation(Clause.SIGNING_ORACLE, steps=(2,), messages=(5,), got=LONG,
                  allowed=("v1",)),))
    assert build_timeline(trace, verdict).decisive == frozenset({1, 5})
    steps = render_steps(trace, verdict)
    assert (f"   - ⚠ delivery 31 of 31: S1 receives Ask{{op: C1#1}} from C1 (#1) → S1 sends "
            f"Answer to B=S4; the adversary now holds a service signature on "
            f"{signed.decode()}") in steps
    mermaid = render_mermaid(trace, verdict, max_arrows=3)
    assert "C1->>S1: ⚠ 2. Ask{op#58; C1#35;1}" in mermaid
    assert any(LONG in (t.text or "") for t in _texts(render_svg(trace, verdict)))
