"""Designed catchments on Tongzhou (docs/catchments.md): primary one year, primary a
three-year map, primary redrawn in two consecutive years, junior one year; solve time, gap,
contiguity, shortfall beside nearest and optimal, and the ratio of the solve time to the
optimal mode's min-cost flow of the same stage-year (measured in the same run).

    python benchmarks/bench_catchments.py [--time-limit S]
"""
from __future__ import annotations

import argparse
import time

from capacity.allocate import allocate_optimal
from capacity.catchments.run import make_catchments

SCENARIO = "scenarios/baseline.toml"


def reference_s(c, stage: str, year: int) -> float:
    """Seconds of the optimal mode's min-cost flow on the same stage-year (best of 3)."""
    st = c.state
    y = year - int(st.years[0])
    k = st.stage_names.index(stage)
    places = st.supply.places[st.site_mask(stage), y]
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        allocate_optimal(st.arcs[stage], st.unit_pupils[y, k], places, open_mask=places > 0)
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--time-limit", type=float, default=None)
    args = ap.parse_args()
    cases = [("primary", (2027, 2027), False), ("junior", (2030, 2030), False),
             ("primary", (2027, 2029), False), ("primary", (2027, 2028), True),
             ("junior", (2030, 2031), True)]
    for stage, years, each in cases:
        c = make_catchments(SCENARIO, [stage], years, each, time_limit_s=args.time_limit)
        ref = reference_s(c, stage, years[0])
        s = c.tables["catchment_summary"]
        for r in s.itertuples():
            print(f"{stage:<8} map {r.first_year}-{r.last_year} year {r.year}: shortfall "
                  f"nearest {r.shortfall_nearest:,} designed {r.shortfall_designed:,} "
                  f"optimal {r.shortfall_optimal:,}; {r.catchments} catchments "
                  f"{r.contiguous_share:.0%} contiguous; moved {r.pupils_moved}; "
                  f"{r.status} gap {r.gap:.1%} (bound {r.unserved_bound:,.0f} from "
                  f"{getattr(r, 'bound_basis', 'split')}; distance gap {r.distance_gap:.1%}); "
                  f"{r.seconds:.1f} s = {r.seconds / ref:,.0f}× the optimal flow ({ref:.3f} s)")


if __name__ == "__main__":
    main()
