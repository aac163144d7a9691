"""How many of the package's ``raise`` statements the tests reach.

    python -m coverage run -m pytest -q        # any test selection
    python tools/raise_coverage.py             # reads .coverage, prints the figure
    python tools/raise_coverage.py --missing   # and every raise no test reaches
    python tools/raise_coverage.py --fail-under 90   # exit 1 below 90% (CI)

A raise is reached when coverage recorded its first line as executed. Bare
``raise`` statements that re-raise inside ``except`` blocks count like others.
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "neuroflow"


def raise_lines(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(), str(path))
    return sorted(node.lineno for node in ast.walk(tree) if isinstance(node, ast.Raise))


def main() -> int:
    import coverage

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-file", default=".coverage")
    parser.add_argument("--missing", action="store_true", help="list the raises not reached")
    parser.add_argument("--fail-under", type=float, default=0.0,
                        help="exit 1 if the percentage reached is below this")
    args = parser.parse_args()
    data = coverage.CoverageData(basename=args.data_file)
    data.read()
    executed = {Path(f).resolve(): set(data.lines(f) or ()) for f in data.measured_files()}
    total = reached = 0
    missing: list[str] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = executed.get(path.resolve(), set())
        for line in raise_lines(path):
            total += 1
            if line in lines:
                reached += 1
            else:
                missing.append(f"{path.relative_to(PACKAGE.parent)}:{line}")
    if args.missing:
        print("\n".join(missing))
    percent = 100 * reached / max(total, 1)
    print(f"raise statements reached by the tests: {reached} of {total} ({percent:.1f}%)")
    if percent < args.fail_under:
        print(f"below the required {args.fail_under:.0f}%: run with --missing to see which")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
