"""The files of a static site as the publisher uploads them: key, digest, Content-Type and
Cache-Control. Pure rules plus one directory walk; no AWS calls.

Cache-Control, by name:

- `.html` (and `.htm`): `public, max-age=0, must-revalidate`. HTML names the assets; a
  browser asks again every time (a 304 when nothing changed), so a publish shows at once.
- a content-hashed name: `public, max-age=31536000, immutable`. Its content can never
  change under that name (a new build gives a new name), so it may be kept for a year.
- anything else (`favicon.ico`, `robots.txt`, images named by hand): `public, max-age=3600`.

A name is content-hashed when the last part of its stem, after a `.` or `-`, is at least 8
letters, digits or `_` with at least one digit and one letter (`app.3f9a1c2b.js` from
webpack or Parcel, `index-BX3k9_aZ.js` from Vite and Rollup, `chunk-5XQ2LMTA.js` from
esbuild), or when the whole stem is 16 or more hex digits (webpack's `[hash].png`).
`.map`, `.gz` and `.br` are set aside first, so `app.3f9a1c2b.js.map` counts too. The rule
errs towards "not hashed": a hash that happens to have no digit (`index-BXkpQaZr.js`) gets
an hour, while a plain word never gets a year (`logo-darkmode.svg`, `jquery-3.7.1.min.js`,
`photo-20240101.jpg` are not hashed).
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from fargo.errors import InputError
from fargo.synth.edge import SITE_MANIFEST_PREFIX

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, max-age=0, must-revalidate"
ONE_HOUR = "public, max-age=3600"

UTF8 = "; charset=utf-8"

# The web's types, fixed here rather than read from the machine's mime.types (which
# differs between systems and lacks some: .mjs, .webmanifest, .avif, .woff2 on older ones).
CONTENT_TYPES = {
    ".html": "text/html" + UTF8,
    ".htm": "text/html" + UTF8,
    ".js": "text/javascript" + UTF8,
    ".mjs": "text/javascript" + UTF8,
    ".cjs": "text/javascript" + UTF8,
    ".css": "text/css" + UTF8,
    ".json": "application/json",
    ".map": "application/json",
    ".webmanifest": "application/manifest+json",
    ".txt": "text/plain" + UTF8,
    ".md": "text/markdown" + UTF8,
    ".csv": "text/csv" + UTF8,
    ".xml": "application/xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".wasm": "application/wasm",
    ".pdf": "application/pdf",
    ".zip": "application/zip",
    ".gz": "application/gzip",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".bmp": "image/bmp",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".eot": "application/vnd.ms-fontobject",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".wav": "audio/wav",
    ".vtt": "text/vtt" + UTF8,
}
FALLBACK_TYPE = "application/octet-stream"

_ASIDE = (".map", ".gz", ".br")
_HASH_PART = re.compile(r"[.-](?=[A-Za-z0-9_]*[0-9])(?=[A-Za-z0-9_]*[A-Za-z])[A-Za-z0-9_]{8,}$")
_HASH_STEM = re.compile(r"^(?=[0-9a-f]*[0-9])(?=[0-9a-f]*[a-f])[0-9a-f]{16,}$")

# Reserved in the bucket for the publisher's own record: the bucket policy denies
# CloudFront everything under it.
RESERVED_PREFIX = SITE_MANIFEST_PREFIX

_CHUNK = 1 << 20


def content_type(name: str) -> str:
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in CONTENT_TYPES:
        return CONTENT_TYPES[suffix]
    guessed, encoding = mimetypes.guess_type(name, strict=True)
    # A compressed file (`.tar.bz2`) is served as it is stored, not as what it unpacks to.
    if guessed is None or encoding is not None:
        return FALLBACK_TYPE
    return guessed


def is_content_hashed(name: str) -> bool:
    stem = PurePosixPath(name).name
    while stem.lower().endswith(_ASIDE):
        stem = stem[: stem.rindex(".")]
    stem = PurePosixPath(stem).stem
    return bool(_HASH_PART.search(stem) or _HASH_STEM.match(stem))


def cache_control(name: str) -> str:
    # HTML first: it names the assets, so it must never be kept, whatever it is called.
    if PurePosixPath(name).suffix.lower() in (".html", ".htm"):
        return REVALIDATE
    if is_content_hashed(name):
        return IMMUTABLE
    return ONE_HOUR


@dataclass(frozen=True)
class SiteFile:
    key: str  # the object key: the path under the site directory, with `/`
    path: Path
    sha256: str
    content_type: str
    cache_control: str

    @property
    def immutable(self) -> bool:
        return self.cache_control == IMMUTABLE


def site_files(directory: Path, prefix: str = "", where: str = "cdn.static") -> dict[str, SiteFile]:
    """Every file under `directory` by key (`prefix` and its path under the directory);
    refuses a missing or empty directory, naming the manifest key `where`."""
    if not directory.is_dir():
        raise InputError(
            f"the static site directory {directory} does not exist",
            hint="build the site first (npm run build, or your generator's build command), "
            f"or point {where} at the directory the build writes",
            where=where,
        )
    found: dict[str, SiteFile] = {}
    for root, dirs, names in os.walk(directory):
        dirs.sort()
        for name in sorted(names):
            path = Path(root) / name
            if not path.is_file():  # a broken link or a socket: nothing to serve
                continue
            key = prefix + path.relative_to(directory).as_posix()
            if key.startswith(RESERVED_PREFIX):
                raise InputError(
                    f"{directory} holds {key}, but {RESERVED_PREFIX} is where fargo keeps "
                    "its record of the published site",
                    hint=f"leave {RESERVED_PREFIX} out of the build output",
                    where=where,
                )
            found[key] = SiteFile(key, path, _sha256(path), content_type(key), cache_control(key))
    if not found:
        raise InputError(
            f"the static site directory {directory} is empty",
            hint="build the site first (npm run build, or your generator's build command)",
            where=where,
        )
    return found


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
