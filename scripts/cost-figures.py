"""Rewrite the generated cost figures in a Markdown document, or check that they are current.

A block is written as

    <!-- fargo cost: examples/fullstack --env prod -->
    ...generated...
    <!-- end -->

(or inline, `<!-- fargo total: examples/fullstack -->$0.00<!-- end -->`, the always-on
total alone), and its body is `fargo cost`'s estimate of that manifest, as a Markdown
table, under the default usage assumptions. With --check nothing is written, and the exit
status is 1 when any block differs from what `fargo cost` says today.

    python scripts/cost-figures.py docs/choosing.md
    python scripts/cost-figures.py --check docs/choosing.md
"""

from __future__ import annotations

import argparse
import re
import shlex
import sys
from pathlib import Path

from fargo.cost.estimate import estimate_app
from fargo.cost.lines import Estimate
from fargo.cost.render import money, render_markdown
from fargo.manifest.load import load_manifest
from fargo.model import build_app

BLOCK = re.compile(r"(<!-- fargo cost: (?P<args>[^>]*?) -->\n)(?P<body>.*?)(<!-- end -->)", re.S)
# Inline: just the always-on total, for sentences (`<!-- fargo total: ... -->$74.81<!-- end -->`).
TOTAL = re.compile(r"(<!-- fargo total: (?P<args>[^>]*?) -->)(?P<body>[^<]*?)(<!-- end -->)")
ROOT = Path(__file__).resolve().parents[1]


def _estimate(args: str) -> Estimate:
    words = shlex.split(args)
    env = None
    if "--env" in words:
        at = words.index("--env")
        env = words[at + 1]
        del words[at : at + 2]
    (folder,) = words
    return estimate_app(build_app(load_manifest(ROOT / folder / "fargo.yml", env)))


def rewrite(text: str) -> str:
    text = BLOCK.sub(
        lambda m: m.group(1) + render_markdown(_estimate(m.group("args"))) + "\n" + m.group(4),
        text,
    )
    return TOTAL.sub(
        lambda m: m.group(1) + money(_estimate(m.group("args")).monthly_total) + m.group(4), text
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("document", type=Path)
    parser.add_argument("--check", action="store_true", help="fail when a block is stale")
    options = parser.parse_args()
    text = options.document.read_text()
    current = rewrite(text)
    if options.check:
        if current != text:
            print(f"{options.document}: cost figures are stale; run scripts/cost-figures.py")
            return 1
        return 0
    options.document.write_text(current)
    return 0


if __name__ == "__main__":
    sys.exit(main())
