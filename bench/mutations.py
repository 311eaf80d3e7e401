"""Figures of the mutation suite: invalid manifests per class, how many exit 2 with FILE:LINE
and a hint, their exit codes, and the time. Prints them; tests/unit/test_mutations.py asserts.

    make bench        (or: .venv/bin/python bench/mutations.py)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.unit import mutations


def main() -> None:
    with tempfile.TemporaryDirectory() as root:
        start = time.perf_counter()
        outcomes = mutations.run_all(Path(root))
        seconds = time.perf_counter() - start
    print(mutations.figures(outcomes, seconds))
    for outcome in outcomes:
        if outcome.failures:
            print(f"  {outcome.mutation.kind}/{outcome.mutation.name}: {outcome.failures}")


if __name__ == "__main__":
    main()
