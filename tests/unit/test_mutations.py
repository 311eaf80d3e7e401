"""The mutation suite: every invalid manifest made by tests/unit/mutations.py is a clear exit 2,
and the valid manifests a probe found rejected load."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from fargo.cli.main import cli
from fargo.errors import ManifestError
from fargo.manifest.load import load_manifest, parse_manifest
from tests.unit import mutations


def test_every_mutation_is_a_clear_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    start = time.perf_counter()
    outcomes = mutations.run_all(tmp_path)
    seconds = time.perf_counter() - start
    with capsys.disabled():
        print("\n" + mutations.figures(outcomes, seconds))  # noqa: T201 - the suite's figures
    assert len(outcomes) >= 300
    assert len({o.mutation.kind for o in outcomes}) >= 12
    failed = [f"{o.mutation.kind}/{o.mutation.name}: {o.failures}" for o in outcomes if o.failures]
    assert not failed, "\n".join(failed[:20])


@pytest.mark.parametrize(("name", "data"), mutations.bases(), ids=lambda v: str(v)[:12])
def test_the_bases_the_mutations_start_from_are_valid(
    name: str, data: mutations.Data, tmp_path: Path
) -> None:
    path = tmp_path / "fargo.yml"
    path.write_text(mutations.dump(data))
    result = CliRunner().invoke(cli, ["render", "-f", str(path)])
    assert result.exit_code == 0, (name, result.stderr)


def test_a_merge_key_is_overridden_by_a_key_beside_it() -> None:
    loaded = parse_manifest(
        textwrap.dedent("""\
            app: shop
            services:
              api: &web
                image: nginx:1.27
                port: 8000
                http: { path: /api/* }
              admin:
                <<: *web
                port: 9000
                http: { path: /admin/* }
            """),
        "fargo.yml",
        None,
        {},
    )
    admin = loaded.manifest.services["admin"]
    assert (admin.image.ref, admin.port, admin.http and admin.http.path) == (
        "nginx:1.27",
        9000,
        "/admin/*",
    )


def test_an_empty_environment_loads_as_the_base() -> None:
    text = "app: shop\nservices: { api: { image: nginx:1.27 } }\nenvironments:\n  prod:\n"
    prod = parse_manifest(text, "fargo.yml", "prod", {})
    assert prod.env == "prod"
    assert prod.digest == parse_manifest(text, "fargo.yml", None, {}).digest


def problem_of(text: str, environ: dict[str, str] | None = None) -> tuple[int | None, str, str]:
    with pytest.raises(ManifestError) as caught:
        parse_manifest(textwrap.dedent(text), "fargo.yml", None, environ or {})
    (problem,) = caught.value.problems
    assert problem.hint
    return problem.line, problem.path, problem.message


def test_a_variable_reference_with_a_bad_name_is_an_error() -> None:
    line, path, message = problem_of(
        "app: shop\nservices:\n  api:\n    image: ${BAD-NAME}\n", {"BAD": "x"}
    )
    assert (line, path) == (4, "services.api.image")
    assert message == "`${BAD-NAME}` is not a variable reference"


@pytest.mark.parametrize(
    ("schedule", "fragment"),
    [
        ("cron(0 25 * * ? *)", "hours field `25`: `25` is outside 0-23"),
        ("cron(99 3 * * ? *)", "minutes field `99`: `99` is outside 0-59"),
        ("cron(0 3 * 13 ? *)", "month field `13`: `13` is outside 1-12 or JAN-DEC"),
        ("at(2025-02-30T10:00:00)", "is not a date and time that exists"),
    ],
)
def test_a_schedule_out_of_eventbridge_ranges_names_its_field(schedule: str, fragment: str) -> None:
    line, path, message = problem_of(
        f'app: shop\nservices:\n  job:\n    image: nginx:1.27\n    schedule: "{schedule}"\n'
    )
    assert (line, path) == (5, "services.job.schedule")
    assert fragment in message


def test_a_value_with_a_trailing_newline_is_refused() -> None:
    line, path, message = problem_of('app: "shop\\n"\nservices: { api: { image: nginx } }\n')
    assert (line, path) == (1, "app")
    assert message == "app `shop\\n` is not a valid name"  # the newline shown, on one line


def test_a_network_address_with_host_bits_says_which_network() -> None:
    text = "app: shop\nnetwork: { cidr: 10.0.0.1/16 }\nservices: { api: { image: nginx } }\n"
    with pytest.raises(ManifestError) as caught:
        parse_manifest(text, "fargo.yml", None, {})
    (problem,) = caught.value.problems
    assert (problem.line, problem.path) == (2, "network.cidr")
    assert problem.hint == "write 10.0.0.0/16 (the /16 that contains it)"


def test_an_alias_bomb_is_refused_at_the_line_that_expands_it() -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    for index in range(1, 8):
        prev, this = chr(96 + index), chr(97 + index)
        lines.append(f"{this}: &{this} [" + ",".join([f"*{prev}"] * 10) + "]")
    lines.append("app: shop")
    start = time.perf_counter()
    with pytest.raises(ManifestError) as caught:
        parse_manifest("\n".join(lines) + "\n", "fargo.yml", None, {})
    assert time.perf_counter() - start < 1
    (problem,) = caught.value.problems
    assert problem.line == 4  # d: the first anchor whose expansion passes 10000 values
    assert "beyond 10000 values" in problem.message


def test_a_latin1_file_names_the_line_of_its_first_non_utf8_byte(tmp_path: Path) -> None:
    path = tmp_path / "fargo.yml"
    path.write_bytes("app: shop\n# café\nservices: {}\n".encode("latin-1"))
    with pytest.raises(ManifestError) as caught:
        load_manifest(path)
    (problem,) = caught.value.problems
    assert problem.line == 2
    assert "0xE9" in problem.message


def test_a_directory_is_named_as_one(tmp_path: Path) -> None:
    with pytest.raises(ManifestError) as caught:
        load_manifest(tmp_path)
    (problem,) = caught.value.problems
    assert (problem.file, problem.line) == (str(tmp_path), None)
    assert problem.message == "is a directory, not a manifest file"
