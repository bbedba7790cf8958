"""Turn a stage's solution into plan rows: new schools, temporary places, transport."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..geo import model_lonlat

from .formulation import Formulation
from .params import StagePlan
from .solve import Solution

#: Columns of plan.csv.
PLAN_COLUMNS = ["stage", "kind", "id", "name", "zone_id", "school_id", "classes", "places",
                "open_year", "first_year", "last_year", "pupil_years", "cost_cny", "lon",
                "lat", "radius_scale", "basis", "generated"]


def runs(values: np.ndarray) -> list[tuple[int, int, int]]:
    """Maximal runs of equal positive whole values: (first index, last index, value)."""
    out, i = [], 0
    while i < len(values):
        if values[i] > 0:
            j = i
            while j + 1 < len(values) and values[j + 1] == values[i]:
                j += 1
            out.append((i, j, int(values[i])))
            i = j + 1
        else:
            i += 1
    return out


def decode(f: Formulation, sol: Solution, sp: StagePlan, stage: str, sites: pd.DataFrame,
           candidates: pd.DataFrame, zone_ids: list[str], horizon: int, crs: str
           ) -> pd.DataFrame:
    """plan.csv rows of one stage (``sites``: the stage's existing supply sites in order;
    ``crs``: the model's)."""
    v, rows, T = sol.values, [], len(f.years)
    xv = v[f.x["var"].to_numpy()]
    for r in f.y[v[f.y["var"].to_numpy()] > 0.5].itertuples():
        c = candidates.iloc[r.cand]
        used = f.x["t"].to_numpy()[(f.x["site"].to_numpy() == f.n_sites + r.cand) & (xv > 1e-6)]
        opens = int(f.years[used.min()]) if len(used) else int(r.open_year)
        rows.append({"stage": stage, "kind": "new", "id": c["site_id"], "name": c["name"],
                     "zone_id": c["zone_id"], "classes": int(r.classes), "places": int(r.places),
                     "open_year": opens, "first_year": opens,
                     "last_year": horizon, "cost_cny": r.places * sp.cost_per_place,
                     "x": c["x"], "y": c["y"], "basis": c["basis"],
                     "generated": bool(c["generated"])})
    temp = np.zeros((f.n_sites, T))
    temp[f.h["site"], f.h["t"]] = v[f.h["var"].to_numpy()]
    temp = np.ceil(temp - 1e-3)
    for s in np.flatnonzero(temp.sum(axis=1) > 0):
        site = sites.iloc[s]
        for a, b, n in runs(temp[s]):
            rows.append({"stage": stage, "kind": "temporary",
                         "id": f"temp-{site['school_id']}-{f.years[a]}",
                         "name": f"Temporary places at {site['name']}",
                         "school_id": site["school_id"], "places": n,
                         "first_year": f.years[a], "last_year": f.years[b],
                         "pupil_years": n * (b - a + 1),
                         "cost_cny": n * (b - a + 1) * sp.temporary_cost_per_place_year,
                         "x": site["x"], "y": site["y"], "basis": "plan"})
    xt = f.x[f.x["transport"]]
    flow = v[xt["var"].to_numpy()]
    if len(xt) and flow.sum() > 1e-6:
        zone = f.classes["zone"].to_numpy()[xt["cls"].to_numpy()]
        per = pd.DataFrame({"zone": zone, "t": xt["t"], "p": flow}).groupby(["zone", "t"])["p"] \
            .sum().unstack(fill_value=0.0)
        for z, g in per.iterrows():
            years = f.years[g.index[g > 1e-6]]
            if not len(years):
                continue
            pupil_years = float(g.sum())
            rows.append({"stage": stage, "kind": "transport", "id": f"transport-{zone_ids[z]}",
                         "name": f"Transport beyond the walking radius, {zone_ids[z]}",
                         "zone_id": zone_ids[z], "places": int(np.ceil(g.max() - 1e-6)),
                         "first_year": int(years.min()), "last_year": int(years.max()),
                         "pupil_years": round(pupil_years, 3),
                         "cost_cny": pupil_years * sp.transport_cost_per_pupil_year,
                         "radius_scale": sp.transport_radius_scale, "basis": "plan"})
    return with_lonlat(pd.DataFrame(rows, columns=PLAN_COLUMNS + ["x", "y"]), crs)


def with_lonlat(rows: pd.DataFrame, crs: str) -> pd.DataFrame:
    """Plan rows with WGS84 ``lon``/``lat`` from their model-CRS ``x``/``y`` (a site given
    in metres or another datum comes out in degrees), without ``x``/``y``."""
    x, y = (rows[c].to_numpy(float, na_value=np.nan) for c in ("x", "y"))
    lon, lat = np.full(len(rows), np.nan), np.full(len(rows), np.nan)
    ok = np.isfinite(x) & np.isfinite(y)                 # transport rows have no point
    lon[ok], lat[ok] = model_lonlat(x[ok], y[ok], crs, "wgs84")
    return rows.assign(lon=lon, lat=lat)[PLAN_COLUMNS]


def by_year(plan: pd.DataFrame) -> pd.DataFrame:
    """Spending per year, stage and kind: capital in the opening year, temporary places and
    transport in the years they run (transport spread evenly over its years)."""
    out = []
    for r in plan.itertuples():
        years = [int(r.open_year)] if r.kind == "new" else \
            list(range(int(r.first_year), int(r.last_year) + 1))
        for y in years:
            out.append({"year": y, "stage": r.stage, "kind": r.kind,
                        "cost_cny": r.cost_cny / len(years)})
    cols = ["year", "stage", "kind", "cost_cny"]
    if not out:
        return pd.DataFrame(columns=cols)
    return pd.DataFrame(out).groupby(cols[:3], as_index=False)["cost_cny"].sum()


def unique_ids(plan: pd.DataFrame, taken: set[str]) -> pd.DataFrame:
    """Plan rows whose ids are unique and distinct from ``taken`` (the scenario's school and
    project ids): a repeated id (a site chosen for two stages; one school's temporary
    places in two stages) gets ``-<stage>``, then ``-2``, ``-3``, … as needed."""
    seen, ids = {str(t) for t in taken}, []
    for pid, stage in zip(plan["id"].astype(str), plan["stage"].astype(str)):
        new, n = (pid if pid not in seen else f"{pid}-{stage}"), 2
        while new in seen:
            new, n = f"{pid}-{stage}-{n}", n + 1
        seen.add(new)
        ids.append(new)
    return plan.assign(id=ids)
