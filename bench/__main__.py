"""``python -m bench [--quick] [SUITE ...]``: run benchmark suites, print RESULT lines."""

from __future__ import annotations

import argparse
import importlib
import sys

SUITES = ("store", "cli", "http", "plugins", "tui", "binary")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="reduced sizes (about a minute)")
    parser.add_argument("suites", nargs="*", help=f"any of {', '.join(SUITES)} (default: all)")
    args = parser.parse_args(argv)
    unknown = [s for s in args.suites if s not in SUITES]
    if unknown:
        parser.error(f"unknown suite(s): {', '.join(unknown)}")
    for suite in args.suites or SUITES:
        try:
            module = importlib.import_module(f"bench.{suite}")
        except ModuleNotFoundError as exc:
            if exc.name != f"bench.{suite}":
                raise
            print(f"SKIP   {suite}: suite not written yet", flush=True)
            continue
        print(f"== {suite}", flush=True)
        module.run(quick=args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
