"""Start ministack with fargo's emulator patches applied.

fargo runs this file with the python of ministack's own virtualenv (ministack
pins botocore exactly, so it cannot share fargo's environment):

    BIND_HOST=127.0.0.1 GATEWAY_PORT=4566 TMPDIR=/some/dir VENV/bin/python launcher.py

It imports only the standard library and what that virtualenv holds, never
fargo. The patches live in the sibling ``patches`` package; once they are in
place ministack serves exactly as its own foreground ``main()`` does, health
endpoint included.
"""

import importlib
import sys
from pathlib import Path
from types import ModuleType

_HERE = Path(__file__).resolve().parent
# Exit status when the installed ministack is not the one the patches fit.
_EXIT_PATCH_FAILED = 3


def _import_patches() -> ModuleType:
    """The sibling ``patches`` package, found from this file's location.

    Python put this directory first on sys.path when it started the script;
    moved to the end, a sibling module cannot shadow the stdlib or ministack.
    """
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
    sys.path.append(str(_HERE))
    patches = importlib.import_module("patches")
    if Path(str(patches.__file__)).resolve().parent != _HERE / "patches":
        raise ImportError(f"imported 'patches' from {patches.__file__}, not from {_HERE}")
    return patches


def _apply_patches() -> list[str]:
    patches = _import_patches()
    try:
        applied: list[str] = patches.apply_all()
    except patches.PatchError as exc:
        print(f"fargo emulator launcher: {exc}", file=sys.stderr)
        raise SystemExit(_EXIT_PATCH_FAILED) from exc
    return applied


def main() -> None:
    applied = _apply_patches()
    print(f"fargo emulator launcher: ministack patched ({', '.join(applied)})", flush=True)
    # ministack's own entry point reads BIND_HOST, GATEWAY_PORT and TMPDIR, refuses
    # a port in use, writes its PID file and serves ministack.app:app with hypercorn.
    serve = importlib.import_module("ministack.app").main
    sys.argv[1:] = []  # its argument parser must not see ours
    serve()


if __name__ == "__main__":
    main()
