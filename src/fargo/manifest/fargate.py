"""Fargate's task-size table (Linux), from AWS's "Task CPU and memory" documentation, and
its CPU architectures with the image platform each runs."""

from __future__ import annotations

from typing import Literal

Arch = Literal["x86_64", "arm64"]
Platform = Literal["linux/amd64", "linux/arm64"]
PLATFORMS: dict[Arch, Platform] = {"x86_64": "linux/amd64", "arm64": "linux/arm64"}


def platform_for_arch(arch: Arch) -> Platform:
    """The image platform for a service's `arch:` (Fargate's names → OCI's)."""
    return PLATFORMS[arch]


# cpu units -> (lowest MiB, highest MiB, step MiB)
_RANGES: dict[int, tuple[int, int, int]] = {
    256: (512, 2048, 0),  # 256 offers an explicit list, handled below
    512: (1024, 4096, 1024),
    1024: (2048, 8192, 1024),
    2048: (4096, 16384, 1024),
    4096: (8192, 30720, 1024),
    8192: (16384, 61440, 4096),
    16384: (32768, 122880, 8192),
}
_CPU_256_MEMORY = (512, 1024, 2048)


def memory_options(cpu: int) -> tuple[int, ...]:
    """Every memory size Fargate offers for `cpu`; empty when `cpu` is not a Fargate size."""
    if cpu == 256:
        return _CPU_256_MEMORY
    span = _RANGES.get(cpu)
    if span is None:
        return ()
    low, high, step = span
    return tuple(range(low, high + 1, step))


def cpu_options() -> tuple[int, ...]:
    return tuple(_RANGES)


def describe_options(cpu: int) -> str:
    options = memory_options(cpu)
    if len(options) <= 4:
        return ", ".join(str(m) for m in options)
    step = options[1] - options[0]
    return f"{options[0]}..{options[-1]} in steps of {step}"
