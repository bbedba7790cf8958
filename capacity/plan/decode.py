"""Turn a stage's result into plan rows: new schools, expansions, temporary places,
transport (and the units plan.toml transports)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..geo import model_lonlat

from .params import StagePlan
from .stage import StageResult

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


def decode(r: StageResult, sp: StagePlan, stage: str, sites: pd.DataFrame,
           candidates: pd.DataFrame, zone_ids: list[str], horizon: int, crs: str,
           names_zh: dict | None = None) -> pd.DataFrame:
    """plan.csv rows of one stage (``sites``: the stage's existing supply sites in order;
    ``crs``: the model's): new schools, expansions, temporary places, transport by zone."""
    rows = []
    use = r.use.groupby("cand")["pupils"].sum() if len(r.use) else pd.Series(dtype=float)
    for n in r.new.itertuples():
        c = candidates.iloc[n.cand]
        rows.append({"stage": stage, "kind": "new", "id": c["site_id"], "name": c["name"],
                     "zone_id": c["zone_id"], "classes": n.classes, "places": n.places,
                     "open_year": n.open_year, "first_year": n.open_year,
                     "last_year": horizon, "pupil_years": round(float(use.get(n.cand, 0.0)), 3),
                     "cost_cny": n.capital_cny, "x": c["x"], "y": c["y"], "basis": c["basis"],
                     "generated": bool(c["generated"])})
    for e in r.expansions.itertuples():
        site = sites.iloc[e.site]
        rows.append({"stage": stage, "kind": "expansion", "id": f"exp-{site['school_id']}",
                     "name": f"Expansion of {site['name']}", "school_id": site["school_id"],
                     "zone_id": site.get("zone_id"),
                     "classes": e.classes, "places": e.places, "open_year": e.open_year,
                     "first_year": e.open_year, "last_year": horizon,
                     "cost_cny": e.capital_cny, "x": site["x"], "y": site["y"],
                     "basis": "plan"})
    years = r.years
    temp = np.zeros((len(sites), len(years)))
    if len(r.temporary):
        temp[r.temporary["site"], np.searchsorted(years, r.temporary["year"])] = \
            r.temporary["places"]
    for s in np.flatnonzero(temp.sum(axis=1) > 0):
        site = sites.iloc[s]
        for a, b, n in runs(temp[s]):
            rows.append({"stage": stage, "kind": "temporary",
                         "id": f"temp-{site['school_id']}-{years[a]}",
                         "name": f"Temporary places at {site['name']}",
                         "school_id": site["school_id"], "zone_id": site.get("zone_id"),
                         "places": n,
                         "first_year": years[a], "last_year": years[b],
                         "pupil_years": n * (b - a + 1),
                         "cost_cny": n * (b - a + 1) * sp.temporary_cost_per_place_year,
                         "x": site["x"], "y": site["y"], "basis": "plan"})
    if len(r.transport):
        zone = r.formulation.data.class_zone[r.transport["cls"].to_numpy()]
        per = r.transport.assign(zone=zone).groupby("zone")
        for z, g in per:
            pupil_years = float(g["pupils"].sum())
            rows.append({"stage": stage, "kind": "transport", "id": f"transport-{zone_ids[z]}",
                         "name": f"Transport beyond the walking radius, {zone_ids[z]}",
                         "zone_id": zone_ids[z],
                         "places": int(np.ceil(g.groupby("year")["pupils"].sum().max() - 1e-6)),
                         "first_year": int(g["year"].min()), "last_year": int(g["year"].max()),
                         "pupil_years": round(pupil_years, 3),
                         "cost_cny": pupil_years * sp.transport_cost_per_pupil_year,
                         "radius_scale": sp.transport_radius_scale, "basis": "plan"})
    return with_lonlat(pd.DataFrame(rows, columns=PLAN_COLUMNS + ["x", "y"]), crs)


def transport_units(r: StageResult, stage: str, unit_ids: np.ndarray) -> pd.DataFrame:
    """stage, unit_id, from_year, to_year: the units whose reach class the plan transports,
    one row per run of consecutive years (plan.toml's ``[[transport]]``)."""
    cols = ["stage", "unit_id", "from_year", "to_year"]
    if not len(r.transport):
        return pd.DataFrame(columns=cols)
    uc = r.formulation.data.unit_class
    out = []
    years = r.years
    for cls, g in r.transport[r.transport["pupils"] > 1e-6].groupby("cls"):
        on = np.isin(years, g["year"]).astype(float)
        spans = [(int(years[a]), int(years[b])) for a, b, _ in runs(on)]
        for u in np.flatnonzero(uc == cls):
            out += [(stage, unit_ids[u], a, b) for a, b in spans]
    return pd.DataFrame(out, columns=cols)


def with_lonlat(rows: pd.DataFrame, crs: str) -> pd.DataFrame:
    """Plan rows with WGS84 ``lon``/``lat`` from their model-CRS ``x``/``y`` (a site given
    in metres or another datum comes out in degrees), without ``x``/``y``."""
    x, y = (rows[c].to_numpy(float, na_value=np.nan) for c in ("x", "y"))
    lon, lat = np.full(len(rows), np.nan), np.full(len(rows), np.nan)
    ok = np.isfinite(x) & np.isfinite(y)                 # transport rows have no point
    lon[ok], lat[ok] = model_lonlat(x[ok], y[ok], crs, "wgs84")
    return rows.assign(lon=lon, lat=lat)[PLAN_COLUMNS]


def by_year(plan: pd.DataFrame, build: dict[str, tuple[int, int]]) -> pd.DataFrame:
    """Spending per year, stage and kind (undiscounted CNY): capital of new schools and
    expansions spread over their construction years before opening (``build``: stage →
    (school years, expansion years)), temporary places and transport in the years they
    run (transport spread evenly over its years)."""
    out = []
    for r in plan.itertuples():
        if r.kind in ("new", "expansion"):
            n = build[r.stage][0 if r.kind == "new" else 1]
            years = list(range(int(r.open_year) - n, int(r.open_year)))
        else:
            years = list(range(int(r.first_year), int(r.last_year) + 1))
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
