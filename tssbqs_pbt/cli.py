"""The ``tssbqs-pbt`` command line. Thin: parse, call the library, print."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from tssbqs_pbt import __version__
from tssbqs_pbt.errors import TssbqsError

__all__ = ["main"]


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tssbqs-pbt",
        description="Property-based testing of BQS + threshold-signature storage protocols.",
    )
    parser.add_argument("--version", action="version", version=f"tssbqs-pbt {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser(
        "sweep",
        help="search the whole design space and print the validity matrix (not built yet)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "sweep":
            print(
                "tssbqs-pbt sweep: the design-space sweep is not built yet in this version "
                f"({__version__}); see the README's status section.",
                file=sys.stderr,
            )
            return 2
        parser.print_help()
        return 0
    except TssbqsError as exc:
        print(f"tssbqs-pbt: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
