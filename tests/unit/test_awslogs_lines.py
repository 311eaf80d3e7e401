"""The emulator's awslogs forwarder (fargo.local.patches.ecs_awslogs): one event per line
the container wrote, as the awslogs driver sends them, however the engine's log stream cut
its output into chunks."""

from __future__ import annotations

from fargo.local.patches.ecs_awslogs import _lines

OUTPUT = "héllo\r\nwörld\n\nno newline at the end".encode()


def test_every_cut_gives_the_same_lines() -> None:
    expected = ["héllo", "wörld", "", "no newline at the end"]
    for cut in range(1, len(OUTPUT)):
        # Two chunks, cut anywhere: within a line, and within a two-byte character.
        assert list(_lines([OUTPUT[:cut], b"", OUTPUT[cut:]])) == expected, cut


def test_a_chunk_a_byte_gives_the_same_lines() -> None:
    chunks = [OUTPUT[i : i + 1] for i in range(len(OUTPUT))]
    assert list(_lines(chunks)) == ["héllo", "wörld", "", "no newline at the end"]
