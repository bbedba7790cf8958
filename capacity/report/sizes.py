"""Standard-size schools for a number of classes (budget and recommendation)."""
from __future__ import annotations

import numpy as np


def standard_schools(classes: np.ndarray, sizes: tuple[int, ...]
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fewest standard-size schools holding ``classes`` (then fewest classes in them).

    Returns (schools, classes in those schools, mix text such as ``"1×36 + 1×24"``) per
    element. Exact (dynamic programme over class counts up to the largest one asked for).
    """
    classes = np.asarray(classes, dtype=int)
    top = int(classes.max(initial=0))
    sizes = tuple(sorted(set(int(s) for s in sizes), reverse=True))
    n_sch = np.zeros(top + 1, dtype=int)
    built = np.zeros(top + 1, dtype=int)
    counts = np.zeros((top + 1, len(sizes)), dtype=int)
    for c in range(1, top + 1):     # over class counts, not rows
        cands = [(n_sch[max(c - s, 0)] + 1, built[max(c - s, 0)] + s, j)
                 for j, s in enumerate(sizes)]
        n, b, j = min(cands)
        prev = max(c - sizes[j], 0)
        n_sch[c], built[c] = n, b
        counts[c] = counts[prev]
        counts[c, j] += 1
    mix = np.array([" + ".join(f"{k}×{s}" for k, s in zip(row, sizes) if k) for row in counts],
                   dtype=object)
    return n_sch[classes], built[classes], mix[classes]
