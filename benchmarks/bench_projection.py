"""Benchmark: cohort-component projection, 5 000 zones × 2 sexes × 101 ages × 30 years.

Prints seconds, peak memory and the ratio to a same-run baseline of bare numpy work: for
every step, four ``a * b + c`` on (Z, 2, A) arrays (eight elementwise passes — about the
elementwise work of one UN step: start half of migrants, deaths, survivors, end half,
births' female mean, floor check).  Targets: < 2 s, ≤ 5× baseline, < 1 GB.

Run ``python benchmarks/bench_projection.py``; ``main()`` returns the figures as a dict.
"""
from __future__ import annotations

import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from capacity.demography.ccm import project  # noqa: E402

MB = 1024.0 ** 2


def make_inputs(zones: int, years: int, ages: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    pop0 = rng.uniform(0.0, 200.0, (zones, 2, ages))
    sx = rng.uniform(0.95, 1.0, (zones, 2, ages))
    asfr = np.zeros((years, zones, ages))
    asfr[:, :, 15:50] = rng.uniform(0.0, 0.06, (years, zones, 35))
    mig = rng.uniform(-3.0, 5.0, (years, zones, 2, ages))  # some cells go negative
    return pop0, sx, asfr, mig


def baseline(pop0: np.ndarray, sx: np.ndarray, mig: np.ndarray) -> np.ndarray:
    """Bare numpy: per step four ``a*b + c`` on (Z, 2, A), each step's result kept."""
    T = mig.shape[0]
    out = np.empty((T + 1,) + pop0.shape)
    out[0] = pop0
    for t in range(T):
        x = sx * out[t] + mig[t]
        x = sx * x + mig[t]
        x = sx * x + out[t]
        out[t + 1] = sx * x + mig[t]
    return out


def _timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = fn()
        times.append(time.perf_counter() - t0)
        del res
    return float(np.median(times))


def main(zones: int = 5000, years: int = 30, ages: int = 101, repeat: int = 3,
         seed: int = 0, verbose: bool = True) -> dict[str, float]:
    pop0, sx, asfr, mig = make_inputs(zones, years, ages, seed)
    input_mb = sum(a.nbytes for a in (pop0, sx, asfr, mig)) / MB
    project(pop0[:10], sx[:10], asfr[:2, :10], mig[:2, :10])  # warm-up
    t_proj = _timed(lambda: project(pop0, sx, asfr, mig, timing="even"), repeat)
    t_end = _timed(lambda: project(pop0, sx, asfr, mig, timing="end"), repeat)
    t_base = _timed(lambda: baseline(pop0, sx, mig), repeat)

    tracemalloc.start()
    res = project(pop0, sx, asfr, mig, timing="even")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    output_mb = res.population.nbytes / MB
    n_floored = len(res.floored)
    del res
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB

    figures = {
        "zones": zones, "years": years, "ages": ages,
        "seconds_even": t_proj, "seconds_end": t_end, "seconds_baseline": t_base,
        "ratio_even": t_proj / t_base, "ratio_end": t_end / t_base,
        "peak_mb_projection": peak / MB, "output_mb": output_mb, "input_mb": input_mb,
        "max_rss_mb": rss_mb, "floored_cells": n_floored,
    }
    if verbose:
        print(f"projection {zones} zones × 2 sexes × {ages} ages × {years} years "
              f"(median of {repeat})")
        rows = [
            ("projection, timing even", f"{t_proj:8.3f} s", f"{t_proj / t_base:6.2f}×", "< 2 s, ≤ 5×"),
            ("projection, timing end", f"{t_end:8.3f} s", f"{t_end / t_base:6.2f}×", "< 2 s, ≤ 5×"),
            ("baseline 4×(a*b+c)/step", f"{t_base:8.3f} s", f"{1.0:6.2f}×", ""),
            ("peak memory in project()", f"{peak / MB:8.0f} MB", "", "< 1024 MB"),
            ("  of which output array", f"{output_mb:8.0f} MB", "", ""),
            ("inputs (allocated before)", f"{input_mb:8.0f} MB", "", ""),
            ("process max RSS", f"{rss_mb:8.0f} MB", "", "< 1024 MB"),
            ("cells floored at 0", f"{n_floored:8d}", "", ""),
        ]
        w = max(len(r[0]) for r in rows)
        print(f"{'measure':<{w}}  {'value':>11}  {'ratio':>7}  target")
        for name, val, ratio, target in rows:
            print(f"{name:<{w}}  {val:>11}  {ratio:>7}  {target}")
    return figures


if __name__ == "__main__":
    main()
