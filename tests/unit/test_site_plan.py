"""What a site publish uploads, deletes, keeps and invalidates, decided from the directory
and the manifest of the previous publish."""

from __future__ import annotations

from pathlib import Path

from fargo.edge.site import (
    MAX_PATHS,
    RETIRED_DAYS,
    SiteManifest,
    invalidation_paths,
    plan_site,
)
from fargo.edge.site_files import SiteFile, cache_control, content_type

DAY = 86400.0
NOW = 1_700_000_000.0


def files(contents: dict[str, str]) -> dict[str, SiteFile]:
    """Key -> a stand-in for its sha256."""
    return {
        key: SiteFile(key, Path(key), digest, content_type(key), cache_control(key))
        for key, digest in contents.items()
    }


HASHED = "assets/app-3f9a1c2b.js"
SITE = {"index.html": "i1", "docs/index.html": "d1", "app.css": "c1", HASHED: "h1"}


def published(contents: dict[str, str], now: float = NOW - DAY) -> SiteManifest:
    return plan_site(files(contents), None, now).manifest


def test_first_publish_uploads_everything_and_invalidates_all_but_new_hashed_assets() -> None:
    plan = plan_site(files(SITE), None, NOW)
    assert sorted(f.key for f in plan.upload) == [
        "app.css",
        HASHED,
        "docs/index.html",
        "index.html",
    ]
    assert plan.paths == ("/", "/app.css", "/docs/", "/docs/index.html", "/index.html")
    assert plan.delete == plan.kept == ()
    assert plan.changed
    assert plan.manifest.serial == 1


def test_an_unchanged_site_changes_nothing() -> None:
    plan = plan_site(files(SITE), published(SITE), NOW)
    assert not plan.changed
    assert (plan.upload, plan.delete, plan.paths) == ((), (), ())
    assert plan.manifest == published(SITE)  # same serial: nothing to write


def test_one_changed_file_is_one_upload_and_one_path() -> None:
    plan = plan_site(files({**SITE, "app.css": "c2"}), published(SITE), NOW)
    assert [f.key for f in plan.upload] == ["app.css"]
    assert plan.paths == ("/app.css",)
    assert plan.manifest.serial == 2


def test_a_changed_index_page_also_invalidates_its_directory() -> None:
    plan = plan_site(files({**SITE, "docs/index.html": "d2"}), published(SITE), NOW)
    assert plan.paths == ("/docs/", "/docs/index.html")
    plan = plan_site(files({**SITE, "index.html": "i2"}), published(SITE), NOW)
    assert plan.paths == ("/", "/index.html")


def test_a_new_hashed_asset_needs_no_invalidation_but_a_changed_one_does() -> None:
    new = plan_site(files({**SITE, "assets/app-ab12cd34.js": "h2"}), published(SITE), NOW)
    assert [f.key for f in new.upload] == ["assets/app-ab12cd34.js"]
    assert new.paths == ()
    # Content that changed under a "hashed" name: the name was no hash after all.
    changed = plan_site(files({**SITE, HASHED: "h9"}), published(SITE), NOW)
    assert changed.paths == ("/assets/app-3f9a1c2b.js",)


def test_removed_files_are_deleted_but_hashed_assets_are_kept() -> None:
    remaining = {k: v for k, v in SITE.items() if k not in ("app.css", HASHED)}
    plan = plan_site(files(remaining), published(SITE), NOW)
    assert plan.delete == ("app.css",)
    assert plan.kept == (HASHED,)
    assert plan.paths == ("/app.css",)
    kept = plan.manifest.files[HASHED]
    assert kept.retired_at == NOW
    assert "app.css" not in plan.manifest.files


def test_retiring_a_hashed_asset_is_a_change_of_the_manifest_only() -> None:
    remaining = {k: v for k, v in SITE.items() if k != HASHED}
    plan = plan_site(files(remaining), published(SITE), NOW)
    assert plan.changed
    assert (plan.upload, plan.delete, plan.paths) == ((), (), ())
    # The next publish of the same directory has nothing to do.
    again = plan_site(files(remaining), plan.manifest, NOW + DAY)
    assert not again.changed
    assert again.kept == (HASHED,)


def test_retired_assets_are_deleted_after_the_grace_period() -> None:
    remaining = {k: v for k, v in SITE.items() if k != HASHED}
    retired = plan_site(files(remaining), published(SITE), NOW).manifest
    early = plan_site(files(remaining), retired, NOW + RETIRED_DAYS * DAY - 1)
    assert early.delete == ()
    late = plan_site(files(remaining), retired, NOW + RETIRED_DAYS * DAY)
    assert late.delete == (HASHED,)
    assert late.paths == ()  # a cached copy of a hashed asset is never wrong
    assert HASHED not in late.manifest.files


def test_a_returning_asset_is_live_again_without_an_upload() -> None:
    remaining = {k: v for k, v in SITE.items() if k != HASHED}
    retired = plan_site(files(remaining), published(SITE), NOW).manifest
    back = plan_site(files(SITE), retired, NOW + DAY)
    assert back.upload == ()
    assert back.manifest.files[HASHED].retired_at is None


def test_more_paths_than_the_cap_become_one_wildcard() -> None:
    keys = [f"page{i}.html" for i in range(MAX_PATHS + 1)]
    assert invalidation_paths(keys) == ("/*",)
    assert len(invalidation_paths(keys[:MAX_PATHS])) == MAX_PATHS


def test_paths_are_percent_encoded() -> None:
    assert invalidation_paths(["my page.html", "caf\u00e9/index.html"]) == (
        "/caf%C3%A9/",
        "/caf%C3%A9/index.html",
        "/my%20page.html",
    )


def test_manifest_round_trips_and_unknown_ones_are_ignored() -> None:
    remaining = {k: v for k, v in SITE.items() if k != "app.css"}
    manifest = plan_site(files(remaining), published(SITE), NOW).manifest
    assert SiteManifest.from_json(manifest.to_json()) == manifest
    assert SiteManifest.from_json(b"not json") is None
    assert SiteManifest.from_json(b'{"format": 99, "serial": 1, "files": {}}') is None
    assert SiteManifest.from_json(b"[]") is None


def test_the_same_change_published_twice_is_two_invalidations() -> None:
    """A -> B -> A -> B: the second A -> B has the same files but a later serial, so its
    CallerReference (from the manifest digest) differs and CloudFront does not take it for
    a retry of the first."""
    changed = {**SITE, "app.css": "c2"}
    first = plan_site(files(changed), published(SITE), NOW)
    back = plan_site(files(SITE), first.manifest, NOW)
    second = plan_site(files(changed), back.manifest, NOW)
    assert first.paths == second.paths
    assert first.manifest.digest != second.manifest.digest
    # And a retry of one publish is the same reference.
    assert plan_site(files(changed), published(SITE), NOW).manifest.digest == (
        first.manifest.digest
    )
