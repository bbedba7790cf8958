"""Ensemble benchmark: draws of the Tongzhou baseline on a dask LocalCluster.

Prints, for 200 draws (``--draws``):
- the time per draw on one worker as a ratio to one deterministic run's compute time
  (projection, demand, supply, distances, allocation in the scenario's mode; same process,
  best of two) — target ≤ 1.0×;
- the speed-up from 1 to 2 workers (draw time, cluster start-up excluded) — target ≥ 1.6×;
- peak memory of the client process and of a worker for N/4 and N draws (flat in N but
  for the per-draw summaries: zones × stages × years × 3 int32 per draw).
Each measurement runs in a fresh process. Run: ``python benchmarks/bench_ensemble.py``.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "baseline.toml"


def child(draws: int, workers: int) -> dict:
    """One ensemble in this process: timings and peak memory."""
    from capacity.chain import Chain
    from capacity.ensemble import ensemble

    det, det_cpu = [], []
    for _ in range(2):
        chain = Chain(SCENARIO, modes=("optimal",), post=(), workers=1)
        state = chain.start()
        t, c = time.perf_counter(), time.process_time()
        chain.run_steps(state, ("projection", "demand", "supply", "distances", "allocation"))
        det.append(time.perf_counter() - t)
        det_cpu.append(time.process_time() - c)
    ens = ensemble(SCENARIO, draws=draws, seed=1, workers=workers)
    m = ens.manifest
    return {"draws": draws, "workers": workers, "deterministic_s": min(det),
            "deterministic_cpu_s": min(det_cpu),
            "draws_s": m["cluster"]["draws_s"], "cluster_s": m["cluster"]["cluster_s"],
            "stats": m["stats"],
            "client_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "worker_peak_mb": m["stats"].get("peak_rss_kb", 0) / 1024}


def measure(draws: int, workers: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", str(draws), str(workers)],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--draws", type=int, default=200)
    p.add_argument("--child", nargs=2, type=int)
    args = p.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    n = args.draws
    one, two = measure(n, 1), measure(n, 2)
    small = measure(max(n // 4, 1), 2)
    per_draw = one["draws_s"] / n
    print(f"Tongzhou baseline, {n} draws (seed 1)")
    print(f"  deterministic run compute      {one['deterministic_s']:.3f} s")
    print(f"  1 worker:  {one['draws_s']:.1f} s for the draws ({per_draw:.3f} s per draw = "
          f"{per_draw / one['deterministic_s']:.2f}x the deterministic run; target <= 1.0x)")
    cpu_draw = one["stats"]["cpu_ms"] / 1000 / n
    print(f"  CPU time per draw {cpu_draw:.3f} s = {cpu_draw / one['deterministic_cpu_s']:.2f}x "
          f"the deterministic run's CPU time {one['deterministic_cpu_s']:.3f} s "
          "(robust to a loaded machine)")
    print(f"  2 workers: {two['draws_s']:.1f} s (speed-up {one['draws_s'] / two['draws_s']:.2f}x;"
          f" target >= 1.6x); cluster start-up {two['cluster_s']:.1f} s")
    print(f"  solves {one['stats']['solves']}, cached {one['stats']['cached']}, "
          f"all served without flows {one['stats']['all_served']}")
    for r in (small, two):
        print(f"  peak memory, {r['draws']:>4} draws: client {r['client_peak_mb']:.0f} MB, "
              f"worker {r['worker_peak_mb']:.0f} MB")


if __name__ == "__main__":
    main()
