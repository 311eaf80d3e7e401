"""docs/choosing.md: its cost figures are `fargo cost`'s, regenerated and compared."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "cost-figures.py"
GUIDE = ROOT / "docs" / "choosing.md"


def _check(document: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--check", str(document)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_the_guide_states_the_figures_fargo_cost_gives_today() -> None:
    done = _check(GUIDE)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_guide_prices_each_profile_and_closes_with_the_totals() -> None:
    text = GUIDE.read_text()
    for block in (
        "examples/fullstack",
        "examples/fullstack --env staging",
        "examples/fullstack --env prod",
    ):
        assert f"<!-- fargo cost: {block} -->" in text
    closing = text.split("## In short", 1)[1]
    assert closing.count("<!-- fargo total: ") >= 3


def test_a_stale_figure_is_caught(tmp_path: Path) -> None:
    stale = tmp_path / "choosing.md"
    text = GUIDE.read_text()
    marker = "<!-- fargo total: examples/fullstack -->"
    start = text.index(marker) + len(marker)
    end = text.index("<!-- end -->", start)
    stale.write_text(text[:start] + "$1.00" + text[end:])
    done = _check(stale)
    assert done.returncode == 1
    assert "stale" in done.stdout


def test_a_sentence_figure_from_the_price_table_is_checked_too(tmp_path: Path) -> None:
    """`<!-- fargo price: ... -->` figures: a stale one fails the check; AWS's NAT gateway
    hour times a month of 730 hours, by hand."""
    document = tmp_path / "guide.md"
    document.write_text("a NAT gateway at <!-- fargo price: 730 x nat.hour -->$99.00<!-- end -->\n")
    assert _check(document).returncode == 1
    subprocess.run([sys.executable, str(SCRIPT), str(document)], check=True, timeout=120)
    assert "$32.85<!-- end -->" in document.read_text()
    assert _check(document).returncode == 0
