"""Ensemble benchmark: draws of the Tongzhou baseline on a dask LocalCluster.

Prints, for 200 draws (``--draws``):
- the time per draw on one worker as a ratio to one deterministic run's compute time
  (projection, demand, supply, distances, allocation in the scenario's mode; same process,
  best of two) — target ≤ 1.0×;
- the speed-up from 1 to 2 workers (draw time, cluster start-up excluded) — target ≥ 1.6×;
- peak memory of the client process and of a worker for N/4 and N draws (flat in N but
  for the per-draw summaries: zones × stages × years × 3 int32 per draw);
- a load-robust pairing (``--rounds``): inside one ensemble worker, one deterministic run
  and then a batch of draws, alternately; the median over rounds of each round's ratio
  (time per draw ÷ that round's deterministic run), in wall and in task-thread CPU time.
  On a machine shared with other jobs the load drifts over the minutes of the N draws, and
  the best of two deterministic runs meets a quieter moment than the average draw; paired
  rounds a few seconds long see the same load.
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


def deterministic_in_worker() -> tuple[float, float]:
    """Wall and thread CPU time of one deterministic run's compute (model load excluded)."""
    from capacity.chain import Chain

    chain = Chain(SCENARIO, modes=("optimal",), post=(), workers=1)
    state = chain.start()
    t, c = time.perf_counter(), time.thread_time()
    chain.run_steps(state, ("projection", "demand", "supply", "distances", "allocation"))
    return time.perf_counter() - t, time.thread_time() - c


def draws_in_worker(base, draws) -> tuple[float, float]:
    """Wall and thread CPU time of a batch of draws."""
    from capacity.ensemble.run import run_batch

    t, c = time.perf_counter(), time.thread_time()
    run_batch(base, draws)
    return time.perf_counter() - t, time.thread_time() - c


def paired(rounds: int, per_round: int) -> dict:
    """Per round, in one worker configured as the ensemble's: a deterministic run, then
    ``per_round`` draws; the median and range of the per-draw ratios."""
    import logging
    import statistics

    import dask
    from distributed import Client, LocalCluster

    from capacity.ensemble.api import prepare
    from capacity.ensemble.cluster import local_config
    from capacity.ensemble.draws import make_draw
    from capacity.ensemble.run import make_base

    _, state, spec, _ = prepare(SCENARIO)
    base = make_base(state)
    drawn = [make_draw(i, 1, spec, state.model, state.years[1:])
             for i in range(rounds * per_round)]
    with dask.config.set(local_config()):
        cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                               dashboard_address=":0", silence_logs=logging.ERROR)
    wall, cpu = [], []
    with cluster, Client(cluster) as client:
        shared = client.scatter(base, broadcast=True)
        client.submit(draws_in_worker, shared, drawn[:1], pure=False).result()   # warm-up
        for r in range(rounds):
            det = client.submit(deterministic_in_worker, pure=False).result()
            batch = drawn[r * per_round:(r + 1) * per_round]
            got = client.submit(draws_in_worker, shared, batch, pure=False).result()
            wall.append(got[0] / per_round / det[0])
            cpu.append(got[1] / per_round / det[1])
    return {"rounds": rounds, "per_round": per_round,
            "wall": [statistics.median(wall), min(wall), max(wall)],
            "cpu": [statistics.median(cpu), min(cpu), max(cpu)]}


def measure(a: int, b: int, flag: str = "--child") -> dict:
    """``child(a, b)`` (or ``paired(a, b)`` with ``--paired``) in a fresh process."""
    out = subprocess.run([sys.executable, __file__, flag, str(a), str(b)],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--draws", type=int, default=200)
    p.add_argument("--rounds", type=int, default=10, help="paired rounds (0: none)")
    p.add_argument("--child", nargs=2, type=int)
    p.add_argument("--paired", nargs=2, type=int)
    args = p.parse_args()
    if args.child:
        print(json.dumps(child(*args.child)))
        return
    if args.paired:
        print(json.dumps(paired(*args.paired)))
        return
    n = args.draws
    one, two = measure(n, 1), measure(n, 2)
    small = measure(max(n // 4, 1), 2)
    pair = measure(args.rounds, 8, "--paired") if args.rounds else None
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
    if pair:
        w, c = pair["wall"], pair["cpu"]
        print(f"  paired in one worker ({pair['rounds']} rounds of a deterministic run and "
              f"{pair['per_round']} draws): per draw {w[0]:.2f}x the deterministic run in "
              f"wall time (rounds {w[1]:.2f}-{w[2]:.2f}), {c[0]:.2f}x in task-thread CPU "
              f"({c[1]:.2f}-{c[2]:.2f})")


if __name__ == "__main__":
    main()
