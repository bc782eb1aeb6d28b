"""The report layer: step lists, Mermaid and SVG charts, regression tests, written reports.

Traces come from three places: a hand-written P1 attack (A9, "done" after one correct store),
a P2 counterexample found by the search, and the echo-register plug-in (a protocol the report
knows nothing about).  A protocol fault gives the verdict-less case.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import attacks
import attrs
import pytest
from scenario import Attack
from toy_protocols import RaisingRegister
from tssbqs_pbt.protocols import FAMILY_C_OPTIONS, Design, DesignProtocol

from tssbqs_pbt.crypto import PartialSignature, Signature
from tssbqs_pbt.engine.search import Budget, Counterexample, search
from tssbqs_pbt.errors import ProtocolFault
from tssbqs_pbt.kernel import (
    ByzantineSend,
    Deliver,
    Delivered,
    Drain,
    Envelope,
    Invoke,
    Learned,
    NodeSigned,
    OpId,
    Sent,
    Settle,
    StepRecord,
    SystemConfig,
    Trace,
    TraceHeader,
    World,
    client,
    read,
    server,
    step,
    write,
)
from tssbqs_pbt.properties import Property, Status, Verdict, check_all
from tssbqs_pbt.report import (
    build_timeline,
    describe_value,
    escape_mermaid,
    render_mermaid,
    render_regression_test,
    render_steps,
    render_svg,
    write_report,
)
from tssbqs_pbt.report.timeline import Kind

ROOT = Path(__file__).resolve().parents[2]
SVG = "{http://www.w3.org/2000/svg}"
ARROW = re.compile(r"^\s*(\w+)(->>|-->>|-x|--x)(\w+): (.+)$")
NOTE = re.compile(r"^\s*Note over (\w+)(?:,(\w+))?: (.+)$")

Case = tuple[Trace, Verdict | None]


# -- traces ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def p1() -> Case:
    attack = Attack(Design(4, 1, 3, 2, FAMILY_C_OPTIONS.with_(ack_mode="PIGGYBACK")))
    attacks.done_after_one_store(attack)
    attack.drain()
    verdict = attack.verdicts()[0]
    assert verdict.property is Property.CONSISTENCY and verdict.violated
    return Trace.of(attack.world), verdict


@pytest.fixture(scope="module")
def p2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("p2")


@pytest.fixture(scope="module")
def p2(p2_dir: Path) -> Counterexample:
    design = Design(4, 1, 3, 4, FAMILY_C_OPTIONS)
    found = search(DesignProtocol(design), design.config(byzantine={4}), budget=Budget(100),
                   seed=1, save_dir=p2_dir).counterexample
    assert found is not None and found.verdict is not None and found.path is not None
    assert found.verdict.property is Property.AVAILABILITY
    return found


def _echo_module() -> ModuleType:
    path = ROOT / "tests" / "plugin" / "candidate_pkg" / "echo_register.py"
    spec = importlib.util.spec_from_file_location("echo_register_for_report_tests", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # attrs needs the module importable while it builds classes
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def echo() -> Case:
    mod = _echo_module()
    world = World(mod.EchoRegister(), SystemConfig(n=4, f=1, q=3, t=2, byzantine={4}))
    step(world, Invoke(client(1), write("a")))
    first, second = (e.id for e in list(world.pool)[:2])
    step(world, Deliver(first))
    step(world, Deliver(second))
    step(world, ByzantineSend(server(4), server(3), mod.Get(OpId(client(1), 1)), immediate=True))
    step(world, Invoke(client(2), read()))
    step(world, Drain())
    trace = Trace.of(world)
    return trace, check_all(trace)[0]


@pytest.fixture(scope="module")
def fault() -> Trace:
    world = World(RaisingRegister(), SystemConfig(n=4, f=1, q=3, t=2, byzantine={4}))
    step(world, Invoke(client(1), read()))
    with pytest.raises(ProtocolFault):
        step(world, Settle())
    return Trace.of(world)


@pytest.fixture(params=["p1", "p2", "echo"])
def case(request: pytest.FixtureRequest) -> Case:
    value = request.getfixturevalue(request.param)
    if isinstance(value, Counterexample):
        return value.trace, value.verdict
    assert isinstance(value, tuple)
    return value


# -- steps ---------------------------------------------------------------------------------------
def _numbers(text: str) -> list[int]:
    return [int(m.group(1)) for m in re.finditer(r"^(\d+)\. ", text, flags=re.MULTILINE)]


def test_steps_are_numbered_one_per_kernel_step(case: Case) -> None:
    trace, verdict = case
    text = render_steps(trace, verdict)
    assert _numbers(text) == list(range(1, len(trace.steps) + 1))
    assert "B=S4" in text
    assert "### Verdict" in text


def test_p1_steps_tell_the_attack_in_protocol_terms(p1: Case) -> None:
    text = render_steps(*p1)
    lines = text.splitlines()
    assert lines[lines.index("### Steps") + 2].startswith("1. C3 invokes write(v1) as C3#1 → ")
    assert "B=S4 (Byzantine) sends SignDatum{request: signed by C3 (C3#1)" in text
    for name in ("Query", "SignRead", "DatumPartial", "StoreAck", "WriteReply", "ReadReply"):
        assert name in text
    assert "the adversary now holds a service signature on datum|2:v1|3:1.3" in text
    assert "C2's read C2#1 returns v0 (ts (0, 0))" in text
    assert re.search(r"^\d+\. drain .*: 16 messages delivered, 0 left in flight$", text,
                     flags=re.MULTILINE)
    focus = next(line for line in lines if "the violation shows here" in line)
    assert focus.startswith("89. ⚠ C2 receives ReadReply from S2")
    verdict = text.split("### Verdict", 1)[1]
    assert "P1 data consistency: violated" in verdict
    assert ("read C2#1 (invoked at step 31) returned v0 at step 89, but regular semantics "
            "allows only v1 (written by C3#1, write(v1))") in verdict


def test_p2_steps_name_the_stuck_operation(p2: Counterexample) -> None:
    text = render_steps(p2.trace, p2.verdict)
    assert re.search(r"^1\. ⚠ C1 invokes (read\(\)|write\(v1\)) as C1#1", text, re.MULTILINE)
    assert "2. ⚠ drain" in text and "the violation shows here" in text
    assert re.search(r"(read|write) C1#1 \(invoked at step 1\) never completed", text)
    assert "the system is stuck" in text


def test_plugin_steps_use_its_own_message_names(echo: Case) -> None:
    text = render_steps(*echo)
    assert "C1 sends Put to S1, S2, S3, B=S4" in text
    assert "B=S4 (Byzantine) sends Get{op: C1#1} to S3, delivered at once → S3 sends Vouch" in text
    assert "C2's read C2#1 returns a (ts 11)" in text
    assert "P1 data consistency: holds" in text


def test_a_fault_is_reported_without_a_verdict(fault: Trace) -> None:
    text = render_steps(fault)
    assert _numbers(text) == [1, 2]
    assert "2. ⚠ settle" in text and "the protocol faults here" in text
    assert "S1 FAULTS: raised RuntimeError: boom" in text
    assert "Protocol fault" in text.split("### Verdict", 1)[1]
    assert "2 messages were never delivered" in text


@attrs.frozen
class Ping:
    op: OpId
    note: str = "hello"


def test_a_signature_learned_before_the_injection_belongs_to_it() -> None:
    """The kernel records what B knows from its own payload before the ``Sent`` event."""
    config = SystemConfig(n=4, f=1, q=3, t=2, byzantine={4})
    payload = Ping(OpId(client(1), 1))
    envelope = Envelope(1, server(4), server(1), payload)
    signature = Signature("k", b"datum|x|7", 5)
    trace = Trace(TraceHeader("synthetic", config, "ideal", "k"), (
        StepRecord(1, ByzantineSend(server(4), server(1), payload),
                   (Learned(signature), Sent(envelope))),
        StepRecord(2, Deliver(1), (Delivered(1),)),
    ))
    (inject,) = build_timeline(trace).steps[0].happenings
    assert inject.kind is Kind.INJECT and inject.envelope == envelope
    assert inject.effects == (Learned(signature),)
    text = render_steps(trace)
    assert ("1. B=S4 (Byzantine) sends Ping{op: C1#1, note: hello} to S1 (#1, delivered at "
            "step 2) → the adversary now holds a service signature on datum|x|7") in text
    assert "2. S1 receives Ping from B=S4 (#1)" in text
    chart = render_mermaid(trace)
    assert "Note over S4: 1. adversary holds a service signature on datum|x|7" in chart
    assert "S4-->>S1: 2. Ping{op#58; C1#35;1, note#58; hello}" in chart


def test_values_are_described_generically() -> None:
    partial = PartialSignature("k", 2, 0, b"datum|v1", 7)
    signed = NodeSigned(server(1), (partial, Signature("k", b"x", 1)), OpId(client(1), 2))
    assert describe_value(signed) == "signed by S1 (C1#2): (partial of S2, service signature)"
    assert describe_value(b"datum|v1|1000.3") == "datum|v1|1000.3"
    assert describe_value(bytes(range(20))).startswith("0x0001020304050607")
    assert describe_value(tuple(range(9))) == "(0, 1, 2, 3, 4, 5, 6, 7, 8)"
    assert describe_value(("a", "b", "c", "d", "e")) == "(a, b, c, d, e)"  # every item


# -- mermaid -------------------------------------------------------------------------------------
def _check_mermaid_text(text: str) -> None:
    """Every label escapes what ends a statement (;) or starts a comment (#)."""
    for line in text.splitlines():
        body = line.split(": ", 1)[1] if ": " in line else ""
        assert ";" not in re.sub(r"#\w+;", "", body), line
        assert "#" not in re.sub(r"#\w+;", "", body), line


def test_mermaid_has_one_participant_per_node_and_marks_byzantine(case: Case) -> None:
    trace, verdict = case
    text = render_mermaid(trace, verdict)
    lines = text.splitlines()
    assert lines[0] == "sequenceDiagram"
    declared = re.findall(r"^\s*participant (\w+)", text, flags=re.MULTILINE)
    nodes = [str(n) for n in (*trace.header.config.client_ids, *trace.header.config.servers)]
    assert sorted(declared) == sorted(nodes)
    assert "participant S4 as S4 (Byzantine)" in text
    box = lines.index("    box rgb(253, 224, 224) Byzantine servers")
    assert lines[box + 1].strip() == "participant S4 as S4 (Byzantine)"
    assert lines[box + 2].strip() == "end"
    opened = sum(1 for line in lines if line.strip().startswith(("box ", "rect ")))
    assert opened == sum(1 for line in lines if line.strip() == "end")
    for line in lines[1:]:
        stripped = line.strip()
        if stripped.startswith(("%%", "box ", "rect ", "participant ")) or stripped == "end":
            continue
        arrow, note = ARROW.match(line), NOTE.match(line)
        assert arrow or note, f"not a Mermaid statement: {line!r}"
        for who in (arrow.group(1), arrow.group(3)) if arrow else \
                tuple(g for g in note.groups()[:2] if g) if note else ():
            assert who in nodes
        if arrow and arrow.group(1) == "S4":
            assert arrow.group(2).startswith("--"), "a Byzantine server's arrows are dashed"
    _check_mermaid_text(text)


def test_mermaid_draws_each_message_once_and_notes_the_violation(p1: Case) -> None:
    trace, verdict = p1
    text = render_mermaid(trace, verdict)
    arrows = [m for m in map(ARROW.match, text.splitlines()) if m]
    assert len(arrows) == len(build_timeline(trace).envelopes)
    assert "S2->>C2: 89. ReadReply" in text
    note = next(line for line in text.splitlines() if "⚠" in line)
    assert note.strip().startswith("Note over C1,S4: ⚠ 89. P1 data consistency violated")
    shaded = text.split("rect rgba(255, 120, 120, 0.18)")
    assert len(shaded) == 3  # the read's invocation (31) and completion (89)
    assert "⚠ 89." in shaded[2].split("    end")[0]


def test_mermaid_shows_lost_messages_and_caps_arrows(fault: Trace, p1: Case) -> None:
    text = render_mermaid(fault)
    assert "C1-xS2: 1. Query (never delivered)" in text
    assert "Note over S1: 2. FAULT#58; raised RuntimeError#58; boom" in text
    capped = render_mermaid(*p1, max_arrows=10)
    decisive = build_timeline(*p1).decisive  # drawn beyond the cap: the violation needs them
    assert decisive
    assert 10 < len([m for m in map(ARROW.match, capped.splitlines()) if m]) <= 10 + len(decisive)
    assert "more messages not drawn" in capped
    assert "S2->>C2: 89. ReadReply" in capped


def test_escape_mermaid() -> None:
    assert escape_mermaid('a;b#c:d<e>"%`\nz') == "a#59;b#35;c#58;d#lt;e#gt;#quot;#37;#96; z"


# -- svg -----------------------------------------------------------------------------------------
def test_svg_is_xml_with_one_lane_per_node(case: Case) -> None:
    trace, verdict = case
    root = ET.fromstring(render_svg(trace, verdict))
    assert root.tag == f"{SVG}svg"
    lanes = [g for g in root.iter(f"{SVG}g") if g.get("class") == "lane"]
    config = trace.header.config
    assert [g.get("data-node") for g in lanes] == [
        str(n) for n in (*config.client_ids, *config.servers)]
    byzantine = [g for g in lanes if g.get("data-byzantine") == "true"]
    assert [g.get("data-node") for g in byzantine] == ["S4"]
    assert any("(Byzantine)" in (t.text or "") for t in byzantine[0].iter(f"{SVG}text"))


def test_svg_highlights_the_violating_step(p1: Case) -> None:
    trace, verdict = p1
    root = ET.fromstring(render_svg(trace, verdict))
    shaded = {r.get("data-step") for r in root.iter(f"{SVG}rect")
              if r.get("class") == "highlight"}
    assert shaded == {"31", "89"}
    messages = [g for g in root.iter(f"{SVG}g") if g.get("class") == "message"]
    assert len(messages) == len(build_timeline(trace).envelopes)
    violation = [g for g in root.iter(f"{SVG}g") if g.get("class") == "note violation"]
    assert len(violation) == 1 and violation[0].get("data-step") == "89"
    steps = {t.text for t in root.iter(f"{SVG}text") if t.get("class") == "step"}
    assert {"1", "89", "91"} <= steps


# -- regression tests and written reports -------------------------------------------------------
def _pytest(path: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", str(path), "-p", "no:cacheprovider"],
        cwd=cwd, capture_output=True, text=True, timeout=300,
    )


def test_regression_test_of_a_missing_replay_reads_it_relative_to_itself(
        tmp_path: Path) -> None:
    """(A replay file not written yet cannot be embedded: the test reads it, as tests
    generated before the JSON was embedded do.)"""
    replay = tmp_path / "found" / "counterexample-p1-0a1b.json"
    text = render_regression_test(replay, name="counterexample-p1-0a1b",
                                  test_dir=tmp_path / "tests")
    assert "REPLAY = Path(__file__).parent / '../found/counterexample-p1-0a1b.json'" in text
    assert "def test_counterexample_p1_0a1b_is_fixed() -> None:" in text
    assert "rejudge_counterexample(REPLAY)" in text
    assert "FAILS while the protocol still shows the violation and PASSES once" in text
    assert "pytest regression_counterexample-p1-0a1b.py" in text
    compile(text, "generated.py", "exec")


def test_write_report_writes_every_file_and_the_test_fails_while_the_bug_is_there(
    p2: Counterexample, p2_dir: Path, tmp_path: Path
) -> None:
    assert p2.path is not None
    out = tmp_path / "report"
    files = write_report(p2.trace, p2.verdict, p2.path, out)
    stem = p2.path.stem.replace("-", "_")
    assert files.steps == out / f"{stem}.steps.md"
    assert files.test == out / f"regression_{stem}.py"
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in files.all)
    markdown = files.steps.read_text(encoding="utf-8")
    assert markdown.startswith("# Counterexample: P2 data availability violated")
    assert re.search(r"\n1\. ⚠ C1 invokes (read\(\)|write\(v1\)) as C1#1", markdown)
    assert "```mermaid\nsequenceDiagram\n" in markdown and markdown.rstrip().endswith("```")
    assert files.mermaid.read_text(encoding="utf-8") == render_mermaid(p2.trace, p2.verdict)
    ET.fromstring(files.svg.read_text(encoding="utf-8"))
    test_text = files.test.read_text(encoding="utf-8")
    assert "REPLAY_JSON = (" in test_text and "open(" not in test_text  # (reads no file)
    assert f"REPLAY_FILE = {p2.path.name!r}" in test_text
    assert "\nFound by the random search (the " in test_text and ", seed 1).\n" in test_text
    assert "P2 data availability is violated (operation never completed)" in test_text

    done = _pytest(files.test, tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed" in done.stdout
    assert "after the drain, P2 data availability VIOLATED (operation never completed)" in (
        done.stdout)


def test_plain_pytest_in_a_report_directory_collects_nothing(
    p2: Counterexample, tmp_path: Path
) -> None:
    assert p2.path is not None
    write_report(p2.trace, p2.verdict, p2.path, tmp_path / "report")
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                          cwd=tmp_path / "report", capture_output=True, text=True, timeout=300)
    assert done.returncode == 5, done.stdout + done.stderr  # 5: no tests collected


def test_write_report_for_a_protocol_fault(fault: Trace, tmp_path: Path) -> None:
    files = write_report(fault, None, tmp_path / "counterexample-protocol-fault-1.json",
                         tmp_path / "out")
    assert all(p.exists() for p in files.all)
    assert not list((tmp_path / "out").glob("*.tmp")) and not list(
        (tmp_path / "out").glob(".*"))
    markdown = files.steps.read_text(encoding="utf-8")
    assert markdown.startswith("# Counterexample: protocol fault at step 2: S1 raised")
    assert "the protocol faults here" in markdown
    assert files.svg.name == "counterexample_protocol_fault_1.svg"
    verdict_free = render_steps(fault, Verdict(Property.CONSISTENCY, Status.HOLDS))
    assert "P1 data consistency: holds" in verdict_free
