"""Stage parameters and enrolment rates (model.toml [stages.*]).

Ages, class sizes, radii, costs: sources/stage_parameters.csv.  Enrolment (share of the
age group seeking a place in the stage): primary derived from the 2020-21 pupils (S71) and
the graduated census; junior and senior from Beijing's 2022 enrolment (S40) and census
cohort, times the Tongzhou/Beijing primary ratio; kindergarten the plan target.
"""
from __future__ import annotations

from .common import SEXES, Sources
from .population import census_groups, graduate


def stage_rates(s: Sources, lts: dict):
    stages = s.stages()
    tz = census_groups(s)
    bj = census_groups(s, 110000)
    t = sum(graduate(tz[x], lts[x]["Lx"]) for x in SEXES)
    b = sum(graduate(bj[x], lts[x]["Lx"]) for x in SEXES)
    e = s.edu

    def ev(area, year, stage, metric):
        m = (e.area == area) & (e.year == year) & (e.stage == stage) & (e.metric == metric)
        return float(e.loc[m, "value"].iloc[0])

    tz_prim = ev("Tongzhou", 2020, "primary", "enrolled")           # 74,881 (S71)
    bj_prim = ev("Beijing", 2020, "primary", "enrolled")            # 995,046 (S71)
    r_tz_p = tz_prim / t[6:12].sum()
    r_bj_p = bj_prim / b[6:12].sum()
    # Beijing 2022 (S40) enrolled / the 2020 census cohort two years younger
    r_bj_j = ev("Beijing", 2022, "junior", "enrolled") / b[10:13].sum()
    r_bj_s = ev("Beijing", 2022, "senior_general", "enrolled") / b[13:16].sum()
    adj = r_tz_p / r_bj_p
    rates = {
        "kindergarten": stages["kindergarten"]["enrolment"],
        "primary": round(min(r_tz_p, 1.0), 3),
        "junior": round(min(r_bj_j * adj, 1.0), 3),
        "senior": round(min(r_bj_s * adj, 1.0), 3),
    }
    info = {"r_tz_p": r_tz_p, "r_bj_p": r_bj_p, "r_bj_j": r_bj_j, "r_bj_s": r_bj_s, "adj": adj,
            "tz_prim": tz_prim,
            "pop": {k: float(t[v["ages"][0]:v["ages"][1] + 1].sum()) for k, v in stages.items()}}
    return rates, info
