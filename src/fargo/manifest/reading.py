"""Reading fargo.yml from disk: a bounded size, UTF-8 text, and a plain word when it is not.

Everything that can be wrong with the file itself (a directory, a symlink loop, a binary, an
encoding other than UTF-8, a control character) is reported here, before YAML sees it: by
the path and what is wrong when there is no text to point into, by `file:LINE` when there is.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from fargo.errors import ManifestError, ManifestProblem

# A manifest is a few KB; a bound keeps a stray `-f some.iso` or a generated monster from
# being read whole into memory.
MAX_BYTES = 1024 * 1024

# YAML allows tab, LF and CR among the C0 controls, and no DEL (YAML 1.1, "printable").
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_NAMES = {0x00: "NUL", 0x07: "BEL", 0x08: "BS", 0x1B: "ESC", 0x7F: "DEL"}
_UTF_HINT = "save the file as UTF-8 text (e.g. `iconv -f {0} -t UTF-8 fargo.yml`)"
_PATH_HINT = "pass -f PATH/TO/fargo.yml"
_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)
# Leading bytes of compressed or archive files people pass by mistake.
_MAGIC = (
    (b"\x1f\x8b", "gzip-compressed", "gunzip it first"),
    (b"PK\x03\x04", "a zip archive", "unzip it first"),
    (b"BZh", "bzip2-compressed", "bunzip2 it first"),
    (b"\xfd7zXZ\x00", "xz-compressed", "unxz it first"),
)


def read_manifest_text(file: Path) -> str:
    """The manifest's text, or a `ManifestError` that says what is wrong with the file."""
    name = str(file)
    try:
        with file.open("rb") as stream:
            data = stream.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise _error(name, "file not found", _PATH_HINT) from None
    except IsADirectoryError:
        raise _error(name, "is a directory, not a manifest file", _PATH_HINT) from None
    except PermissionError:
        raise _error(name, "cannot be read: permission denied", "check its permissions") from None
    except OSError as exc:
        # ELOOP (a symlink loop), ENAMETOOLONG, a device that will not read, ...
        reason = exc.strerror or type(exc).__name__
        raise _error(
            name, f"cannot be read: {reason}", "check the path and where its links point"
        ) from None
    if len(data) > MAX_BYTES:
        raise _error(
            name,
            f"is larger than {MAX_BYTES // 1024} KiB; a manifest is a few KB of YAML",
            "check that -f names the manifest, not some other file",
        )
    return decode(data, name)


def decode(data: bytes, name: str) -> str:
    """UTF-8 text without control characters; anything else is named as what it is."""
    for magic, what, hint in _MAGIC:
        if data.startswith(magic):
            raise _error(name, f"is {what}, not YAML text", hint)
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            raise _error(name, f"is {encoding} text; fargo reads UTF-8", _UTF_HINT.format(encoding))
    if data and data.count(0) * 4 >= len(data):
        # ASCII in UTF-16 without a byte order mark: every other byte is NUL.
        guess = "UTF-16 text" if data[1::2].count(0) * 2 >= len(data) // 2 else "a binary file"
        hint = _UTF_HINT.format("UTF-16") if guess == "UTF-16 text" else _PATH_HINT
        raise _error(name, f"is {guess}, not UTF-8 YAML", hint)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = data[exc.start]
        raise ManifestError(
            [
                ManifestProblem(
                    name,
                    line,
                    "",
                    f"is not UTF-8 text: byte 0x{byte:02X} on this line (Latin-1 or another "
                    "legacy encoding?)",
                    _UTF_HINT.format("LATIN1"),
                )
            ]
        ) from None
    control = _CONTROL.search(text)
    if control is not None:
        code = ord(control.group(0))
        label = _CONTROL_NAMES.get(code, "a control character")
        raise ManifestError(
            [
                ManifestProblem(
                    name,
                    text.count("\n", 0, control.start()) + 1,
                    "",
                    f"a control character ({label}, 0x{code:02X}) is on this line; YAML "
                    "allows none",
                    "delete it (an editor that shows invisible characters helps), or write "
                    'it as an escape inside double quotes, e.g. "\\x07"',
                )
            ]
        )
    return text


def _error(name: str, message: str, hint: str) -> ManifestError:
    return ManifestError([ManifestProblem(name, None, "", message, hint)])
