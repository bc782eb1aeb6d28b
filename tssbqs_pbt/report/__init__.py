"""Counterexample reports: numbered steps in protocol terms, sequence charts, regression tests.

Everything here reads a :class:`~tssbqs_pbt.kernel.Trace` and an optional
:class:`~tssbqs_pbt.properties.Verdict`; protocol messages are described by attrs introspection
only, so any plugged-in protocol gets the same report.
"""

from __future__ import annotations

from tssbqs_pbt.report.describe import describe_payload, describe_value
from tssbqs_pbt.report.files import ReportFiles, report_stem, write_report
from tssbqs_pbt.report.mermaid import escape_mermaid, render_mermaid
from tssbqs_pbt.report.regression import render_regression_test
from tssbqs_pbt.report.steps import render_steps
from tssbqs_pbt.report.svg import render_svg
from tssbqs_pbt.report.timeline import Timeline, build_timeline

__all__ = [
    "ReportFiles",
    "Timeline",
    "build_timeline",
    "describe_payload",
    "describe_value",
    "escape_mermaid",
    "render_mermaid",
    "render_regression_test",
    "render_steps",
    "render_svg",
    "report_stem",
    "write_report",
]
