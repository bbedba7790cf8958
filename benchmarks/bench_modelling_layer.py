"""Modelling-layer benchmark (issue 22, item 7): what building the plan's rows in linopy
(capacity/plan/model.py) costs against solving them, per stage of the Tongzhou baseline.

The rule: a labelled modelling layer is used unless it costs more than 20 % of solve time.
Per stage it times the whole formulation (``assemble``: frames, costs, bounds and the linopy
rows), the linopy rows alone (``constraint_rows``) and the plan's solve (steps 1–3 of
capacity/plan/solve.py, ``--time-limit`` s), each build twice (the first call pays lazy
imports), and prints the ratios and a verdict. The reference is the solve of the same run.
Run: ``PYTHONPATH=. python benchmarks/bench_modelling_layer.py [--stage junior] [--quick]``.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from capacity.chain import Chain
from capacity.plan.candidates import read_sites, stage_candidates
from capacity.plan.data import nearest_candidates, stage_data
from capacity.plan.formulation import assemble
from capacity.plan.model import constraint_rows
from capacity.plan.params import plan_params
from capacity.plan.solve import solve
from capacity.plan.stage import CANDIDATE_ARCS

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
STAGES = ["kindergarten", "primary", "junior", "senior"]
RULE = 0.20          # issue 22: a modelling layer may cost at most 20 % of solve time


def stage_inputs(stages: list[str]) -> dict:
    """Each stage's plan data as capacity/plan/run.py builds it (deterministic baseline)."""
    chain = Chain(BASELINE, post=(), progress=None, workers=1)
    state = chain.start()
    params = plan_params(state)
    state.allocators = {state.scenario.mode: state.allocators[state.scenario.mode]}
    state = chain.run_steps(state)
    sites = read_sites(state, params)
    return {s: (nearest_candidates(stage_data(state, params, s, stage_candidates(
        state, params, s, sites)), CANDIDATE_ARCS), params.stages[s], params) for s in stages}


def timed(make) -> tuple[float, float, object]:
    """(first, again) seconds and the result of ``make()`` called twice."""
    t = time.perf_counter()
    make()
    first = time.perf_counter() - t
    t = time.perf_counter()
    out = make()
    return first, time.perf_counter() - t, out


def bench_stage(stage: str, inputs, time_limit: float) -> None:
    data, sp, params = inputs
    a1, a2, f = timed(lambda: assemble(data, sp, params))
    frames = {k: getattr(f, k) for k in ("x", "u", "h", "g", "y", "z", "wv")}
    frames["op"] = f.op
    cap_h = sp.temporary_share * data.places
    r1, r2, _ = timed(lambda: constraint_rows(frames, data, sp, params, cap_h, f.unreachable))
    sol = solve(f, params.mip_gap, time_limit)
    print(f"{stage}: {f.A.shape[1]:,} variables, {f.A.shape[0]:,} rows, {f.A.nnz:,} nonzeros")
    print(f"  assemble {a2:.2f} s (first {a1:.2f}) | linopy rows {r2:.2f} s (first {r1:.2f}) | "
          f"solve {sol.seconds:.2f} s ({sol.status})")
    share = r2 / sol.seconds
    print(f"  linopy rows / solve = {share:.1%}; assemble / solve = {a2 / sol.seconds:.1%}: "
          f"{'within' if share <= RULE else 'OVER'} the {RULE:.0%} rule")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stage", choices=STAGES, action="append")
    ap.add_argument("--quick", action="store_true", help="one stage (kindergarten)")
    ap.add_argument("--time-limit", type=float, default=60.0)
    args = ap.parse_args()
    stages = args.stage or (["kindergarten"] if args.quick else STAGES)
    t = time.perf_counter()
    inputs = stage_inputs(stages)
    print(f"Tongzhou baseline, plan data for {', '.join(stages)}: "
          f"{time.perf_counter() - t:.1f} s")
    for stage in stages:
        bench_stage(stage, inputs[stage], args.time_limit)


if __name__ == "__main__":
    main()
