"""Invalid manifests made from valid ones, by class, and the check each must pass.

The bases are the examples' manifests and a small one; every mutation is run through the
CLI (`fargo render -f FILE`, in process) and must exit 2 with no traceback, no "internal
error" and none of pydantic's own words, each problem with a hint, and `FILE:LINE` whenever
the file is readable text (else the path). Where a mutation targets one key, the output
must name it: an exit 2 for some other reason would hide a value AWS refuses at deploy.

Used by tests/unit/test_mutations.py (asserts) and bench/mutations.py (prints figures).
"""

from __future__ import annotations

import copy
import gzip
import io
import os
import random
import re
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from fargo.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*/fargo.yml"))
SMALL = {
    "app": "shop",
    "services": {
        "api": {"image": "nginx:1.27", "port": 8000, "http": {"path": "/api/*"}},
    },
}
UNSET = "FARGO_MUTATION_NEVER_SET"
# What must never reach a user.
FORBIDDEN = ("Traceback", "internal error", "Input should be", "instance of", "pydantic")

Data = dict[str, Any]


@dataclass(frozen=True)
class Mutation:
    kind: str  # the class of bad input
    name: str
    write: Callable[[Path], Path]  # writes the input under a directory; returns the -f path
    readable: bool = True  # readable text: every problem must name FILE:LINE
    expect: str | None = None  # text the output must contain (the key the mutation broke)


@dataclass
class Outcome:
    mutation: Mutation
    exit_code: int
    stderr: str
    seconds: float
    failures: list[str] = field(default_factory=list)


def bases() -> list[tuple[str, Data]]:
    out = [("small", copy.deepcopy(SMALL))]
    out += [(path.parent.name, yaml.safe_load(path.read_text())) for path in EXAMPLES]
    return out


def dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)


def text_file(text: str | bytes, name: str = "fargo.yml") -> Callable[[Path], Path]:
    def write(directory: Path) -> Path:
        path = directory / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    return write


def first_service(data: Data) -> str:
    return next(iter(data["services"]))


def changed(data: Data, path: tuple[str, ...], value: Any) -> Data:
    """A copy of `data` with `value` at `path` (mappings made on the way)."""
    out = copy.deepcopy(data)
    node = out
    for part in path[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[path[-1]] = value
    return out


# Each data mutation: (class, name, function from a base to the mutated data, the text the
# output must contain). `{svc}` in a path is the base's first service.
DataMutation = tuple[str, str, Callable[[Data], Data], str]


def at(kind: str, path: str, value: Any, name: str | None = None) -> DataMutation:
    def mutate(data: Data) -> Data:
        parts = tuple(path.replace("{svc}", first_service(data)).split("."))
        return changed(data, parts, value)

    key = path.rsplit(".", maxsplit=1)[-1]
    return (kind, name or f"{path}={value!r}", mutate, "services" if key == "{svc}" else key)


def job(kind: str, schedule: str) -> DataMutation:
    """A scheduled job beside the base's services, with `schedule`."""

    def mutate(data: Data) -> Data:
        return changed(data, ("services", "job"), {"image": "nginx:1.27", "schedule": schedule})

    return (kind, f"schedule={schedule!r}", mutate, "services.job.schedule")


def serverless(kind: str, low: Any, high: Any) -> DataMutation:
    def mutate(data: Data) -> Data:
        database = {"engine": "postgres", "version": "16", "serverless": {"min": low, "max": high}}
        return changed(data, ("database",), database)

    return (kind, f"serverless min={low!r} max={high!r}", mutate, "database.serverless")


def version(kind: str, value: Any, aurora: bool = False) -> DataMutation:
    def mutate(data: Data) -> Data:
        database: Data = {"engine": "postgres", "version": value}
        database |= {"serverless": {"min": 0, "max": 2}} if aurora else {"size": "micro"}
        return changed(data, ("database",), database)

    return (kind, f"version={value!r}{' aurora' if aurora else ''}", mutate, "database.version")


def tags(kind: str, name: str, value: dict[str, Any]) -> DataMutation:
    return (kind, name, lambda data: changed(data, ("tags",), value), "tags")


CRON = [
    "cron(0 24 * * ? *)",
    "cron(0 25 * * ? *)",
    "cron(60 3 * * ? *)",
    "cron(99 3 * * ? *)",
    "cron(0 3 * 13 ? *)",
    "cron(0 3 * 0 ? *)",
    "cron(0 3 32 * ? *)",
    "cron(0 3 0 * ? *)",
    "cron(0 3 ? * 8 *)",
    "cron(0 3 ? * 0 *)",
    "cron(0 3 * * ? 1969)",
    "cron(0 3 * * ? 2200)",
    "cron(1,99 3 * * ? *)",
    "cron(5-61 3 * * ? *)",
    "cron(*/0 3 * * ? *)",
    "cron(0 3 * FOO ? *)",
    "cron(0 3 ? * 2#6 *)",
    "cron(0 3 * * ?)",
    "cron(0 3 * * * *)",
    "cron(0 3 ? * ? *)",
    "cron(0 3 * * ? *)\n",
    "at(2025-02-30T10:00:00)",
    "at(2025-13-01T10:00:00)",
    "at(2025-01-01T24:00:00)",
    "at(2025-01-01T10:61:00)",
    "at(2025-01-01)",
    "at(2025-01-01T10:00:00)\n",
    "rate(0 minutes)",
    "rate(1 minutes)",
    "rate(5 weeks)",
    "",
]
STRICT_NUMBERS = [
    ("services.{svc}.port", True),
    ("services.{svc}.port", False),
    ("services.{svc}.count", True),
    ("services.{svc}.count", False),
    ("services.{svc}.count.min", True),
    ("services.{svc}.count.max", True),
    ("services.{svc}.cpu", True),
    ("services.{svc}.memory", True),
    ("services.{svc}.spot.base", True),
    ("network.azs", True),
    ("keep_images", True),
    ("queues.jobs.visibility", True),
    ("queues.jobs.retention", True),
    ("queues.jobs.dlq.max_receives", True),
    ("buckets.files.expire_noncurrent_days", True),
]
CAPACITIES = [(0.3, 4), (0.75, 4), (0, 1.25), (0, 2.2), (0, 257), (-0.5, 4), (0, 0.5), (5, 4)]
CAPACITIES += [(True, 4), (0, True), ("many", 4)]
VERSIONS = ["99", "16.99", "9.6", "12", "13", "16.0", "16.", "16.5.1", "abc", "", "16\n"]
VERSIONS += ["17.1", "16.2", "14.1"]
IMAGES = [
    "",
    " ",
    "Nginx:1.27",
    "UPPER/repo:1",
    "ghcr.io/Acme/api:1",
    "nginx:",
    ":tag",
    "a//b",
    "nginx@sha256:xyz",
    "-nginx",
    "nginx:" + "a" * 129,
    "nginx:1.27\n",
    "nginx 1.27",
    "nginx:tag:extra",
    "http://nginx",
    "nginx:tàg",
    "ghcr.io/" + "a" * 260 + ":1",
]
TRAILING_NEWLINE = [
    ("app", "shop\n"),
    ("region", "us-east-1\n"),
    ("profile", "lean\n"),
    ("network.cidr", "10.0.0.0/16\n"),
    ("services.{svc}.http.path", "/api/*\n"),
    ("services.{svc}.http.host", "api.example.com\n"),
    ("services.{svc}.http.healthcheck", "/health\n"),
    ("services.{svc}.arch", "arm64\n"),
    ("services.{svc}.secrets.KEY", "secretsmanager:shop/key\n"),
    ("services.{svc}.image", "nginx:1.27\n"),
    ("mail", {"domain": "example.com\n", "from": "a@example.com"}),
    ("mail", {"domain": "example.com", "from": "a@example.com\n"}),
    ("alerts.email", "ops@example.com\n"),
    ("cache", {"engine": "valkey", "node": "cache.t4g.micro\n"}),
    ("database", {"version": "16", "name": "app\n"}),
    ("domain", {"name": "example.com\n"}),
    ("cdn", {"existing": "E2ABCDEF123456\n"}),
    ("builder", "docker\n"),
]
WRONG_TYPES = [
    ("services", []),
    ("services", 5),
    ("services.{svc}", 5),
    ("services.{svc}", [1]),
    ("services.{svc}", "nginx"),
    ("services.{svc}.image", 5),
    ("services.{svc}.image", [1]),
    ("services.{svc}.image", True),
    ("services.{svc}.http", True),
    ("services.{svc}.http", "x"),
    ("services.{svc}.count", "many"),
    ("services.{svc}.count", [1]),
    ("services.{svc}.env", [1]),
    ("services.{svc}.env", "x"),
    ("services.{svc}.env.A", [1]),
    ("services.{svc}.env.A", {"a": 1}),
    ("services.{svc}.env.bad-name", "x"),
    ("services.{svc}.command", "run"),
    ("services.{svc}.command", 5),
    ("services.{svc}.uses", "db"),
    ("services.{svc}.uses", {"a": 1}),
    ("services.{svc}.port", "eighty"),
    ("services.{svc}.port", 1.5),
    ("services.{svc}.port", 0),
    ("services.{svc}.port", 70000),
    ("services.{svc}.cpu", "x"),
    ("services.{svc}.cpu", 300),
    ("services.{svc}.arch", "arm"),
    ("services.{svc}.spot", "yes"),
    ("network", 5),
    ("network.nat", "always"),
    ("database", "pg"),
    ("database", [1]),
    ("queues", [1]),
    ("tags", [1]),
    ("tags.team", {"a": 1}),
    ("environments", [1]),
    ("environments.prod", 5),
    ("environments.prod", [1]),
    ("previews", 5),
    ("profile", "big"),
    ("keep_images", 0),
    ("keep_images", 1001),
    ("app", 5),
    ("app", None),
    ("region", "mars-1"),
    ("nonsense", 1),
]
INTERPOLATION = ["${BAD-NAME}", "${1X}", "${}", "${A", "${A:-x", "${ A }", f"${{{UNSET}}}"]
CIDRS = ["999.999.0.0/16", "10.0.0.1/16", "10.0.0.0/8", "10.0.0.0/17", "256.1.0.0/16"]
CIDRS += ["10.0.0.0", "", "fe80::/16", "10.0.0.0/016", "10.0.0.0/16/16"]


def data_mutations() -> list[DataMutation]:
    out: list[DataMutation] = []
    out += [at("network", "network.cidr", cidr) for cidr in CIDRS]
    out += [job("schedule", expression) for expression in CRON]
    out += [at("strict-numbers", path, value) for path, value in STRICT_NUMBERS]
    out += [serverless("aurora-capacity", low, high) for low, high in CAPACITIES]
    out += [version("engine-version", value) for value in VERSIONS]
    out += [version("engine-version", value, aurora=True) for value in ("16.10", "13", "15.14")]
    out += [at("image", "services.{svc}.image", ref) for ref in IMAGES]
    out += [
        tags("tags", "46 tags", {f"k{i}": "v" for i in range(46)}),
        tags("tags", "51 tags", {f"k{i}": "v" for i in range(51)}),
        tags("tags", "key of 129", {"k" * 129: "v"}),
        tags("tags", "value of 257", {"k": "v" * 257}),
        tags("tags", "aws: key", {"aws:team": "x"}),
        tags("tags", "AWS: key", {"AWS:team": "x"}),
        tags("tags", "Aws: key", {"Aws:team": "x"}),
        tags("tags", "aws: value", {"team": "aws:x"}),
        tags("tags", "empty key", {"": "x"}),
        tags("tags", "fargo: key", {"fargo:app": "other"}),
        tags("tags", "key with !", {"team!": "x"}),
        tags("tags", "value with newline", {"team": "x\n"}),
        tags("tags", "key with newline", {"team\n": "x"}),
        tags("tags", "number value", {"team": 5}),
    ]
    out += [at("trailing-newline", path, value) for path, value in TRAILING_NEWLINE]
    out += [at("wrong-type", path, value) for path, value in WRONG_TYPES]
    out += [at("interpolation", "services.{svc}.image", text) for text in INTERPOLATION]
    return out


def text_mutations(name: str, data: Data) -> Iterator[Mutation]:
    """Bad text and encodings made from one valid manifest."""
    text = dump(data)
    lines = text.splitlines(keepends=True)
    middle = len(lines) // 2

    def inserted(byte: str) -> str:
        return "".join([*lines[:middle], f"# {byte} here\n", *lines[middle:]])

    latin = text.replace(f"app: {data['app']}", f"app: {data['app']}  # café")
    yield Mutation("encoding", f"{name}: Latin-1", text_file(latin.encode("latin-1")))
    yield Mutation("encoding", f"{name}: UTF-16", text_file(text.encode("utf-16")), False)
    yield Mutation("encoding", f"{name}: UTF-16 no BOM", text_file(text.encode("utf-16-le")), False)
    yield Mutation("encoding", f"{name}: UTF-32", text_file(text.encode("utf-32")), False)
    yield Mutation("encoding", f"{name}: gzip", text_file(gzip.compress(text.encode())), False)
    for char, label in (("\x00", "NUL"), ("\x07", "BEL"), ("\x1b", "ESC"), ("\x7f", "DEL")):
        yield Mutation("control-bytes", f"{name}: {label}", text_file(inserted(char)))
    yield Mutation("yaml-syntax", f"{name}: tab indent", text_file(text.replace("\n  ", "\n\t", 1)))
    yield Mutation(
        "yaml-syntax", f"{name}: unclosed [", text_file(text.replace("app:", "app: [x,", 1))
    )
    first = lines[0]
    yield Mutation("yaml-syntax", f"{name}: duplicate key", text_file(text + first), True)


def unreadable() -> Iterator[Mutation]:
    def directory(root: Path) -> Path:
        path = root / "fargo.yml"
        path.mkdir()
        return path

    def loop(root: Path) -> Path:
        (root / "a.yml").symlink_to(root / "b.yml")
        (root / "b.yml").symlink_to(root / "a.yml")
        return root / "a.yml"

    def missing(root: Path) -> Path:
        return root / "nowhere" / "fargo.yml"

    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("fargo.yml", dump(SMALL))
    noise = random.Random(7).randbytes(4096)  # noqa: S311 - test noise, not a secret
    yield Mutation("unreadable", "a directory", directory, False)
    yield Mutation("unreadable", "a symlink loop", loop, False)
    yield Mutation("unreadable", "a missing file", missing, False)
    yield Mutation("unreadable", "random bytes", text_file(noise), False)
    yield Mutation("unreadable", "a zip archive", text_file(zipped.getvalue()), False)
    yield Mutation("unreadable", "2 MiB", text_file("# x\n" * (512 * 1024)), False)


def yaml_bombs() -> Iterator[Mutation]:
    laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for index in range(1, 9):
        prev, this = chr(96 + index), chr(97 + index)
        laughs.append(f"{this}: &{this} [" + ",".join([f"*{prev}"] * 9) + "]")
    services = "services: {api: {image: nginx, env: {A: *i}}}"
    yield Mutation("alias-bomb", "billion laughs", text_file("\n".join([*laughs, services])))
    maps = ["a: &a {x1: 1, x2: 2, x3: 3, x4: 4, x5: 5, x6: 6, x7: 7, x8: 8, x9: 9}"]
    for index in range(1, 9):
        prev, this = chr(96 + index), chr(97 + index)
        body = ", ".join(f"k{n}: *{prev}" for n in range(9))
        maps.append(f"{this}: &{this} {{{body}}}")
    yield Mutation("alias-bomb", "mapping bomb", text_file("\n".join(maps) + "\napp: x\n"))
    merges = ["a: &a {x: 1}"]
    for index in range(1, 20):
        prev, this = chr(96 + index), chr(97 + index)
        merges.append(f"{this}: &{this} {{<<: [*{prev}, *{prev}, *{prev}], y{index}: 1}}")
    yield Mutation("alias-bomb", "merge bomb", text_file("\n".join(merges) + "\n"))
    yield Mutation("alias-bomb", "recursive list", text_file("app: &a [x, *a]\n"))
    yield Mutation("alias-bomb", "recursive mapping", text_file("app: &a {x: *a}\n"))
    yield Mutation(
        "alias-bomb", "recursive merge", text_file("app: x\nservices: &s {<<: *s, a: 1}\n")
    )
    yield Mutation("alias-bomb", "merge of a string", text_file("app: x\nservices: {<<: nope}\n"))
    yield Mutation("alias-bomb", "undefined alias", text_file("app: *nowhere\n"))
    yield Mutation("deep-nesting", "5000 [", text_file("app: " + "[" * 5000))
    yield Mutation("deep-nesting", "5000 {", text_file("app: " + "{a: " * 5000))
    yield Mutation("deep-nesting", "5000 - ", text_file("app:\n" + "- " * 5000 + "x\n"))
    yield Mutation("deep-nesting", "5000 [ closed", text_file("app: " + "[" * 5000 + "]" * 5000))
    yield Mutation("yaml-syntax", "empty file", text_file(""))
    yield Mutation("yaml-syntax", "a list", text_file("- app: x\n"))
    yield Mutation("yaml-syntax", "a string", text_file("hello\n"))
    yield Mutation("yaml-syntax", "two documents", text_file("app: x\n---\napp: y\n"))
    yield Mutation("yaml-syntax", "a tag", text_file("app: !!python/object:os.system x\n"))


def generate() -> list[Mutation]:
    mutations = [*unreadable(), *yaml_bombs()]
    for base_name, base in bases():
        mutations += text_mutations(base_name, base)
        for kind, name, mutate, expect in data_mutations():
            text = dump(mutate(base))
            mutations.append(Mutation(kind, f"{base_name}: {name}", text_file(text), True, expect))
    return mutations


_PROBLEM = re.compile(r"^(?:error: )?(?P<where>.+?)(?::(?P<line>\d+))?: ")


def run(mutation: Mutation, directory: Path) -> Outcome:
    path = mutation.write(directory)
    runner = CliRunner()
    env = {UNSET: None, "FARGO_DEBUG": None}
    start = time.perf_counter()
    result = runner.invoke(cli, ["render", "-f", str(path)], env=env)
    seconds = time.perf_counter() - start
    outcome = Outcome(mutation, result.exit_code, result.stderr, seconds)
    outcome.failures = check(outcome, path, result.output)
    return outcome


def check(outcome: Outcome, path: Path, output: str) -> list[str]:
    """What is wrong with how the CLI answered this mutation (empty: nothing)."""
    failures = []
    if outcome.exit_code != 2:
        failures.append(f"exit {outcome.exit_code}, not 2")
    failures += [f"output has {word!r}" for word in FORBIDDEN if word in output]
    lines = outcome.stderr.splitlines()
    problems = [i for i, line in enumerate(lines) if not line.startswith("  hint: ")]
    if not problems:
        failures.append("no problem reported")
    for index in problems:
        if index + 1 >= len(lines) or not lines[index + 1].startswith("  hint: "):
            failures.append(f"no hint after {lines[index]!r}")
        if not lines[index].removeprefix("error: ").startswith(str(path)):
            failures.append(f"{lines[index]!r} does not name {path}")
            continue
        match = _PROBLEM.match(lines[index][len("error: ") :] if index == 0 else lines[index])
        line = match.group("line") if match else None
        if outcome.mutation.readable and line is None:
            failures.append(f"no FILE:LINE in {lines[index]!r}")
        if line is not None and path.is_file():
            total = max(path.read_bytes().count(b"\n"), 1) + 1
            if not 1 <= int(line) <= total:
                failures.append(f"line {line} is outside the file ({total} lines)")
    if outcome.mutation.expect and outcome.mutation.expect not in outcome.stderr:
        failures.append(f"the output does not name {outcome.mutation.expect}")
    return failures


def run_all(root: Path) -> list[Outcome]:
    outcomes = []
    for index, mutation in enumerate(generate()):
        directory = root / str(index)
        directory.mkdir()
        outcomes.append(run(mutation, directory))
    return outcomes


def figures(outcomes: list[Outcome], seconds: float) -> str:
    """The figures, per class: mutations, how many exit 2 cleanly, and the exit codes."""
    kinds: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        kinds.setdefault(outcome.mutation.kind, []).append(outcome)
    rows = [f"{'class':<18}{'mutations':>10}{'clean exit 2':>14}  exit codes"]
    for kind, group in sorted(kinds.items()):
        codes: dict[int, int] = {}
        for outcome in group:
            codes[outcome.exit_code] = codes.get(outcome.exit_code, 0) + 1
        clean = sum(not outcome.failures for outcome in group)
        shown = ", ".join(f"{code}: {count}" for code, count in sorted(codes.items()))
        rows.append(f"{kind:<18}{len(group):>10}{clean:>14}  {shown}")
    clean = sum(not outcome.failures for outcome in outcomes)
    rows.append(f"{'total':<18}{len(outcomes):>10}{clean:>14}")
    rows.append(
        f"{len(outcomes)} invalid manifests from {len(bases())} bases in {seconds:.1f} s "
        f"({os.cpu_count()} CPUs)"
    )
    return "\n".join(rows)
