"""Rewrite the generated cost figures in a Markdown document, or check that they are current.

A block is written as

    <!-- fargo cost: examples/fullstack --env prod -->
    <!-- fargo cost: examples/fullstack --profile standard -->
    ...generated...
    <!-- end -->

(or inline, `<!-- fargo total: examples/fullstack -->$0.00<!-- end -->`, the always-on
total alone), and its body is `fargo cost`'s estimate of that manifest, as a Markdown
table, under the default usage assumptions. A figure in a sentence that comes straight
from the us-east-1 price table is written
`<!-- fargo price: 730 x 0.1 x elasticache_serverless.gb_hour.valkey -->$0.00<!-- end -->`:
terms joined by ` + `, each a product (` x `) of numbers and price-table keys (a range
counts at its high end). With --check nothing is written, and the exit
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
from typing import cast

from fargo.cost.estimate import as_profile, estimate_app
from fargo.cost.lines import Estimate, money
from fargo.cost.prices import load_prices
from fargo.cost.profiles import PROFILES, Profile
from fargo.cost.render import render_markdown
from fargo.manifest.load import load_manifest
from fargo.model import build_app

BLOCK = re.compile(r"(<!-- fargo cost: (?P<args>[^>]*?) -->\n)(?P<body>.*?)(<!-- end -->)", re.S)
# Inline: just the always-on total, for sentences (`<!-- fargo total: ... -->$74.81<!-- end -->`).
TOTAL = re.compile(r"(<!-- fargo total: (?P<args>[^>]*?) -->)(?P<body>[^<]*?)(<!-- end -->)")
# Inline: a figure computed from the price table (`730 x nat.hour`).
PRICE = re.compile(r"(<!-- fargo price: (?P<args>[^>]*?) -->)(?P<body>[^<]*?)(<!-- end -->)")
ROOT = Path(__file__).resolve().parents[1]


def _option(words: list[str], name: str) -> str | None:
    """Take `name VALUE` out of `words`; the value, or None when absent."""
    if name not in words:
        return None
    at = words.index(name)
    value = words[at + 1]
    del words[at : at + 2]
    return value


def _estimate(args: str) -> Estimate:
    """`fargo cost`'s estimate for `FOLDER [--env NAME] [--profile NAME]`."""
    words = shlex.split(args)
    env = _option(words, "--env")
    profile = _option(words, "--profile")
    (folder,) = words
    loaded = load_manifest(ROOT / folder / "fargo.yml", env)
    if profile is not None:
        if profile not in PROFILES:
            raise SystemExit(f"--profile {profile}: one of {', '.join(PROFILES)}")
        loaded = as_profile(loaded, cast("Profile", profile))
    return estimate_app(build_app(loaded))


def _priced(expression: str) -> float:
    """`N x KEY + ...` over the us-east-1 table: each factor a number or a price key."""
    table = load_prices("us-east-1")
    total = 0.0
    for term in expression.split(" + "):
        product = 1.0
        for word in term.split(" x "):
            factor = word.strip()
            try:
                product *= float(factor)
            except ValueError:
                product *= table[factor].price
        total += product
    return total


def rewrite(text: str) -> str:
    text = BLOCK.sub(
        lambda m: m.group(1) + render_markdown(_estimate(m.group("args"))) + "\n" + m.group(4),
        text,
    )
    text = TOTAL.sub(
        lambda m: m.group(1) + money(_estimate(m.group("args")).monthly_total) + m.group(4), text
    )
    return PRICE.sub(lambda m: m.group(1) + money(_priced(m.group("args"))) + m.group(4), text)


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
