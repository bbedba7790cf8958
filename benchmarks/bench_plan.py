"""Plan benchmark: `capacity plan` on the Tongzhou baseline (start 2027, every stage to 2035),
deterministic and with ``--draws`` futures (default 20: one plan for every future).

Prints the wall time of each plan (run + candidates + formulation + solves, the stages side
by side on every core) and per stage the solver's seconds, status, gap and its basis; the
reference measured in the same run is the scenario's own run (the chain the plan starts
with), so the ratio says what planning adds. Targets (issue 22): ≤ 2 min deterministic,
≤ 10 min with 20 draws, on 2 cores.
Run: ``PYTHONPATH=. python benchmarks/bench_plan.py [--draws 20] [--quick]``.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from capacity.chain import Chain
from capacity.plan.run import make_plan

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"


def show(label: str, plan, seconds: float, reference: float) -> None:
    print(f"{label}: {seconds:.1f} s wall ({seconds / reference:.1f} × the run's "
          f"{reference:.1f} s)")
    for r in plan.summary.itertuples():
        gap = "–" if r.gap != r.gap else f"{r.gap:.2%}"
        print(f"  {r.stage:<13} {plan.timings[r.stage]:>6.1f} s  {r.status:<10} gap {gap:>7} "
              f"({r.gap_basis})  new {r.new_schools}, expansions {r.expansions}, "
              f"{r.variables:,} variables, {r.binaries:,} integers")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--draws", type=int, default=20)
    ap.add_argument("--quick", action="store_true", help="the deterministic plan only")
    args = ap.parse_args()
    t = time.perf_counter()
    chain = Chain(BASELINE, post=(), workers=1)
    chain.run_steps(chain.start())
    reference = time.perf_counter() - t
    t = time.perf_counter()
    plan = make_plan(BASELINE)
    show("Tongzhou baseline plan, deterministic", plan, time.perf_counter() - t, reference)
    if args.quick:
        return
    t = time.perf_counter()
    plan = make_plan(BASELINE, draws=args.draws)
    show(f"with {args.draws} draws (5 representative futures per stage)", plan,
         time.perf_counter() - t, reference)


if __name__ == "__main__":
    main()
