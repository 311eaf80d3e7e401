"""The embedded AWS emulator (ministack), run from its own pinned venv and patched on the
emulator side where it lacks what fargo's templates use."""

from fargo.local.server import Emulator, healthy, start, status, stop

__all__ = ["Emulator", "healthy", "start", "status", "stop"]
