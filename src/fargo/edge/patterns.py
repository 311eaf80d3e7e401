"""CloudFront path patterns as sets of request paths: do two overlap, does one cover another.

A pattern matches a request path case-sensitively; `*` stands for zero or more characters
and `?` for exactly one, and a leading `/` may be left out (`images/*` is `/images/*`).
Each pattern is run as a small automaton (one state per pattern position); a pair of them
is explored over an alphabet of the literal characters the two mention plus one character
neither does, which stands for every other character: both patterns treat all of those
alike, so the answers hold for every path.
"""

from __future__ import annotations

from collections.abc import Iterator

State = frozenset[int]


def normalize(pattern: str) -> str:
    """The pattern as CloudFront reads it: request paths start with `/`."""
    return pattern if pattern.startswith(("/", "*")) else f"/{pattern}"


def overlaps(a: str, b: str) -> bool:
    """Some request path matches both patterns."""
    return any(accept_a and accept_b for accept_a, accept_b in _pairs(a, b))


def covers(outer: str, inner: str) -> bool:
    """Every request path `inner` matches, `outer` matches too."""
    return all(
        accept_outer or not accept_inner for accept_outer, accept_inner in _pairs(outer, inner)
    )


def _closure(pattern: str, states: set[int]) -> State:
    # A `*` may match nothing, so the position after it is reachable for free.
    todo = list(states)
    while todo:
        k = todo.pop()
        if k < len(pattern) and pattern[k] == "*" and k + 1 not in states:
            states.add(k + 1)
            todo.append(k + 1)
    return frozenset(states)


def _step(pattern: str, states: State, char: str) -> State:
    following: set[int] = set()
    for k in states:
        if k == len(pattern):
            continue
        if pattern[k] == "*":
            following.add(k)
        elif pattern[k] in ("?", char):
            following.add(k + 1)
    return _closure(pattern, following)


def _pairs(a: str, b: str) -> Iterator[tuple[bool, bool]]:
    """For every pair of states the two automata reach on one path: whether each accepts."""
    a, b = normalize(a), normalize(b)
    literals = {c for c in a + b if c not in "*?"}
    other = next(chr(n) for n in range(1, 0x110000) if chr(n) not in literals)
    alphabet = [*sorted(literals), other]
    start = (_closure(a, {0}), _closure(b, {0}))
    seen = {start}
    todo = [start]
    while todo:
        states_a, states_b = todo.pop()
        yield len(a) in states_a, len(b) in states_b
        for char in alphabet:
            pair = (_step(a, states_a, char), _step(b, states_b, char))
            if (pair[0] or pair[1]) and pair not in seen:
                seen.add(pair)
                todo.append(pair)
