"""The tutorial's code in docs/plugin.md and the README is the tested package, verbatim."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from plugin_project import BUG, TUTORIAL

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"<!-- file: (?P<name>[^ ]+?)(?P<excerpt> \(excerpt\))? -->\n```\w*\n"
                   r"(?P<code>.*?)```", re.DOTALL)


def _blocks(doc: Path) -> list[tuple[str, bool, str]]:
    text = doc.read_text(encoding="utf-8")
    return [(m["name"], bool(m["excerpt"]), m["code"]) for m in BLOCK.finditer(text)]


@pytest.mark.parametrize("doc", ["docs/plugin.md", "README.md"])
def test_every_code_block_is_the_tutorial_file(doc: str) -> None:
    blocks = _blocks(ROOT / doc)
    assert blocks, f"{doc} has no '<!-- file: ... -->' code blocks"
    for name, excerpt, code in blocks:
        actual = (TUTORIAL / name).read_text(encoding="utf-8")
        if excerpt:
            assert code in actual, f"{doc}: the {name} excerpt is not in {TUTORIAL / name}"
        else:
            assert code == actual, f"{doc}: the {name} block differs from {TUTORIAL / name}"


def test_the_docs_show_the_whole_package() -> None:
    names = {name for name, excerpt, _ in _blocks(ROOT / "docs" / "plugin.md") if not excerpt}
    assert names == {"pyproject.toml", "quorum_register.py", "tests/test_quorum_register.py"}


def test_the_test_is_three_lines_and_the_bug_is_marked() -> None:
    test = (TUTORIAL / "tests" / "test_quorum_register.py").read_text(encoding="utf-8")
    assert len([line for line in test.splitlines() if line.strip()]) == 3
    assert BUG in (TUTORIAL / "quorum_register.py").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Plug in your own protocol" in readme and "Bring your own protocol" not in readme
