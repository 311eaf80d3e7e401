"""How the publisher names, types and caches a static site's files."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from fargo.edge.site_files import (
    IMMUTABLE,
    ONE_HOUR,
    REVALIDATE,
    cache_control,
    content_type,
    is_content_hashed,
    site_files,
)
from fargo.errors import EXIT_BAD_INPUT, InputError


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("index.html", "text/html; charset=utf-8"),
        ("docs/page.HTM", "text/html; charset=utf-8"),
        ("assets/app.js", "text/javascript; charset=utf-8"),
        ("assets/worker.mjs", "text/javascript; charset=utf-8"),
        ("assets/app.css", "text/css; charset=utf-8"),
        ("data.json", "application/json"),
        ("assets/app.js.map", "application/json"),
        ("logo.svg", "image/svg+xml"),
        ("app.wasm", "application/wasm"),
        ("fonts/inter.woff2", "font/woff2"),
        ("site.webmanifest", "application/manifest+json"),
        ("robots.txt", "text/plain; charset=utf-8"),
        ("sitemap.xml", "application/xml"),
        ("photo.jpeg", "image/jpeg"),
        ("hero.avif", "image/avif"),
        ("favicon.ico", "image/x-icon"),
        ("backup.tar.gz", "application/gzip"),
        ("LICENSE", "application/octet-stream"),
        ("blob.fargo-unknown-ext", "application/octet-stream"),
    ],
)
def test_content_type_by_extension(name: str, expected: str) -> None:
    assert content_type(name) == expected


def test_content_type_falls_back_to_mimetypes_for_other_known_types() -> None:
    # Not in fargo's table; Python's own map knows it.
    assert content_type("paper.doc") == "application/msword"
    # Compressed archives are served as stored, not as what they unpack to.
    assert content_type("data.tar.bz2") == "application/octet-stream"


@pytest.mark.parametrize(
    "name",
    [
        "app.3f9a1c2b.js",  # webpack, Parcel
        "assets/index-BX3k9_aZ.js",  # Vite, Rollup
        "chunk-5XQ2LMTA.js",  # esbuild
        "main.3f9a1c2b5e6d7f8a.css",
        "static/media/logo.6ce24c58023cc2f8fd88fe9d219db6c6.svg",
        "a1b2c3d4e5f60718.png",  # webpack's [hash][ext]
        "app.3f9a1c2b.js.map",
        "app.3f9a1c2b.js.gz",
    ],
)
def test_content_hashed_names(name: str) -> None:
    assert is_content_hashed(name)
    assert cache_control(name) == IMMUTABLE


@pytest.mark.parametrize(
    "name",
    [
        "app.js",
        "logo-darkmode.svg",  # a word, no digit
        "chunk-vendors.js",
        "jquery-3.7.1.min.js",
        "photo-20240101.jpg",  # a date, no letter
        "favicon2.ico",  # no separator, too short for a bare hash
        "favicon-32x32.png",
        "deadbeefcafebabe.png",  # hex letters only: reads as words
        "report-final.pdf",
        "index-BXkpQaZr.js",  # a real hash without a digit: an hour, never wrongly a year
    ],
)
def test_names_that_are_not_content_hashed(name: str) -> None:
    assert not is_content_hashed(name)
    assert cache_control(name) == ONE_HOUR


def test_html_always_revalidates_even_with_a_hash_like_name() -> None:
    assert cache_control("index.html") == REVALIDATE
    assert cache_control("docs/setup.html") == REVALIDATE
    assert cache_control("page-3f9a1c2b.html") == REVALIDATE


def test_site_files_walks_the_directory_with_posix_keys(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "index.html").write_text("<h1>hi</h1>")
    (tmp_path / "docs" / "index.html").write_text("<h1>docs</h1>")
    (tmp_path / "app.3f9a1c2b.js").write_text("console.log(1)")
    found = site_files(tmp_path)
    assert sorted(found) == ["app.3f9a1c2b.js", "docs/index.html", "index.html"]
    page = found["docs/index.html"]
    assert page.sha256 == hashlib.sha256(b"<h1>docs</h1>").hexdigest()
    assert (page.content_type, page.cache_control) == ("text/html; charset=utf-8", REVALIDATE)
    assert page.path == tmp_path / "docs" / "index.html"
    assert found["app.3f9a1c2b.js"].immutable


def test_missing_directory_names_cdn_static_and_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "dist"
    with pytest.raises(InputError) as raised:
        site_files(missing)
    error = raised.value
    assert error.exit_code == EXIT_BAD_INPUT
    assert error.where == "cdn.static"
    assert str(missing) in error.message
    assert error.hint is not None
    assert "build the site first" in error.hint


def test_empty_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "nested").mkdir()  # directories alone are no site
    with pytest.raises(InputError) as raised:
        site_files(tmp_path)
    assert "empty" in raised.value.message
    assert str(tmp_path) in raised.value.message
    assert raised.value.where == "cdn.static"


def test_the_publishers_prefix_is_reserved(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("hi")
    (tmp_path / ".fargo").mkdir()
    (tmp_path / ".fargo" / "site.json").write_text("{}")
    with pytest.raises(InputError) as raised:
        site_files(tmp_path)
    assert ".fargo/site.json" in raised.value.message


def test_other_dot_directories_are_published(tmp_path: Path) -> None:
    (tmp_path / ".well-known").mkdir()
    (tmp_path / ".well-known" / "security.txt").write_text("Contact: mailto:x@example.com")
    assert list(site_files(tmp_path)) == [".well-known/security.txt"]
