"""projects.csv: every key project named in the plan (PLAN lines 205-206, 211, 256, 305).

Rows come from sources/plan_projects.csv (one per project x stage).  New schools are sited
at the given coordinates or at an offset from a zone seat; expansions at their school.
Cost = classes x places per class (S60-S62) x cost per place (stage_parameters.csv);
international (fee-paying) schools cost 0 to the public budget (estimate).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .common import Sources, fmt, place_at_seat_offset, write_csv, zone_of


def build_projects(s: Sources, zones, schools) -> pd.DataFrame:
    stages = s.stages()
    stage_order = list(stages)
    per_class = int(s.param("places_per_class_cost"))
    pp = s.plan_projects
    stages_of = pp.groupby("group_id").stage.agg(list)
    rows = []
    for r in pp.itertuples():
        lon = lat = None
        if r.kind == "new":
            if r.site == "coordinates":
                lon, lat = float(r.lon), float(r.lat)
            else:
                assert r.site == "seat_offset", r.site
                lon, lat = place_at_seat_offset(zones, s.tw, r.site_zone, r.dx_km, r.dy_km)
            z = zone_of(zones, lon, lat)
        else:
            z = schools.loc[schools.school_id == r.school_id, "zone_id"].iloc[0]
        assert r.stage in stage_order, r.stage
        cl = int(r.classes)
        intl = r.international == "true"
        cpp = stages[r.stage]["cost_per_place"]
        cost = 0 if intl else cl * per_class * cpp
        multi = len(stages_of[r.group_id]) > 1
        rows.append({
            "project_id": f"{r.group_id}-{r.stage}" if multi else r.group_id,
            "group_id": r.group_id, "name": r.name, "name_zh": r.name_zh, "kind": r.kind,
            "stage": r.stage, "school_id": r.school_id, "lon": "" if lon is None else fmt(lon, 6),
            "lat": "" if lat is None else fmt(lat, 6), "classes": cl,
            "open_year": int(r.open_year), "cost": cost, "zone_id": z,
            "basis": f"{r.basis}; cost: " + (
                "0, privately funded (estimate)" if intl else
                f"estimate = classes x {per_class} places x CNY {cpp:,} per place (S62)")
                     + f"; site: {r.site_basis}",
            "source": r.source_id})
    return pd.DataFrame(rows).sort_values("project_id").reset_index(drop=True)


def write_projects(pr: pd.DataFrame, out: Path) -> None:
    write_csv(pr, out / "projects.csv")
