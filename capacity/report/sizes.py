"""Standard-size schools for a number of classes (budget and recommendation)."""
from __future__ import annotations

import numpy as np


def standard_schools(classes: np.ndarray, sizes: tuple[int, ...]
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fewest standard-size schools holding ``classes`` (then fewest classes in them).

    Returns (schools, classes in those schools, mix text such as ``"1×36 + 1×24"``) per
    element. Exact, and its work does not grow with the class counts: the fewest schools
    is n = ⌈c ÷ largest⌉, and an optimal mix has fewer than ``largest`` schools of other
    sizes (among ``largest`` of them, a subset sums to a multiple of ``largest`` and could
    be replaced by fewer largest schools), so all but ``largest − 1`` of the n schools are
    of the largest size; a dynamic programme over the small remainder places the rest.
    """
    classes = np.maximum(np.asarray(classes, dtype=np.int64), 0)
    sizes = tuple(sorted(set(int(s) for s in sizes), reverse=True))
    big = sizes[0]
    fixed = np.maximum(-(-classes // big) - (big - 1), 0)     # schools of the largest size
    rest = classes - fixed * big                              # < big², whatever c is
    top = int(rest.max(initial=0))
    n_sch = np.zeros(top + 1, dtype=np.int64)
    built = np.zeros(top + 1, dtype=np.int64)
    counts = np.zeros((top + 1, len(sizes)), dtype=np.int64)
    for c in range(1, top + 1):     # over class counts of the remainder, not rows
        cands = [(n_sch[max(c - s, 0)] + 1, built[max(c - s, 0)] + s, j)
                 for j, s in enumerate(sizes)]
        n, b, j = min(cands)
        prev = max(c - sizes[j], 0)
        n_sch[c], built[c] = n, b
        counts[c] = counts[prev]
        counts[c, j] += 1
    mix_counts = counts[rest]
    mix_counts[:, 0] += fixed
    mix = np.array([" + ".join(f"{k}×{s}" for k, s in zip(row, sizes) if k)
                    for row in mix_counts], dtype=object)
    return n_sch[rest] + fixed, built[rest] + fixed * big, mix
