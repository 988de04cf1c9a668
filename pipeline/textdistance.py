"""Edit distance, for comparing what was read with what was meant."""

from __future__ import annotations


def edit_distance(a: str, b: str) -> int:
    """The Levenshtein distance: the fewest single-character insertions, deletions and
    substitutions that turn `a` into `b`."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]
