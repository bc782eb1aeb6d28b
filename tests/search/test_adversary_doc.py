"""docs/adversary.md's example runs as shown (a code block that can run is run)."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "adversary.md"


def test_the_adversary_doc_example_runs() -> None:
    text = DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"<!-- adversary example -->\n```python\n(.*?)```", text, re.DOTALL)
    assert len(blocks) == 1
    exec(compile(blocks[0], str(DOC), "exec"), {})  # its asserts are the test


def test_the_doc_names_every_field_role() -> None:
    from tssbqs_pbt.protocols.api import FieldRole

    text = DOC.read_text(encoding="utf-8")
    missing = [r.name for r in FieldRole if f"`{r.name}`" not in text]
    assert not missing, f"docs/adversary.md does not say what B may put in {missing}"
