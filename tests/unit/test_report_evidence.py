"""Reports show the data inside evidence and never cut a message with an ellipsis."""

from __future__ import annotations

from tssbqs_pbt.protocols.messages import Datum, Report, SignRead

from tssbqs_pbt.kernel import NodeSigned, OpId
from tssbqs_pbt.kernel.ids import client, server
from tssbqs_pbt.report.describe import describe_payload


def _evidence_message() -> SignRead:
    op = OpId(client(1), 2)
    stale = Datum("v-stale-and-decisive", (1, 1))
    fresh = Datum("v2", (2, 1))
    reports = tuple(NodeSigned(server(i), Report(op, 0, stale if i == 3 else fresh), op)
                    for i in (1, 2, 3))
    return SignRead(op, 0, fresh, reports)


def test_evidence_shows_which_data_inside_which_statements() -> None:
    text = describe_payload(_evidence_message())
    assert "items" not in text and "…" not in text
    for i in (1, 2, 3):
        assert f"signed by S{i}" in text
    assert "v-stale-and-decisive" in text  # the stale datum S3 vouched for
    assert text.index("signed by S3") < text.index("v-stale-and-decisive")


def test_a_long_message_is_never_cut() -> None:
    text = describe_payload(_evidence_message())
    assert len(text) > 160 and text.endswith("}")
