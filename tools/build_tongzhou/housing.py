"""housing.csv: the illustrative new-housing pipeline (ESTIMATE, sources/housing_pipeline.csv).

Sites are offsets from the zone seat pulled back inside the zone; persons per unit is the
2020 census mean family household size (S13, district_totals.csv).
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .common import Sources, fmt, place_at_seat_offset, write_csv


def build_housing(s: Sources, zones) -> pd.DataFrame:
    ppu = float(s.totals.loc[s.totals.indicator == "mean_family_household_size", "value"].iloc[0])
    rows = []
    for h in s.housing_pipeline.itertuples():
        lon, lat = place_at_seat_offset(zones, s.tw, h.zone_id, h.dx_km, h.dy_km)
        rows.append({"development_id": h.development_id, "zone_id": h.zone_id, "lon": lon,
                     "lat": lat, "units": int(h.units), "completion_year": int(h.completion_year),
                     "persons_per_unit": ppu, "ramp_years": int(h.ramp_years),
                     "basis": "estimate: illustrative pipeline (no development data in sources); "
                              "persons_per_unit = mean family household size (S13)",
                     "note": h.note})
    return pd.DataFrame(rows).sort_values("development_id").reset_index(drop=True)


def write_housing(h: pd.DataFrame, out: Path) -> None:
    h = h.copy()
    h["lon"] = h.lon.map(lambda v: fmt(v, 6))
    h["lat"] = h.lat.map(lambda v: fmt(v, 6))
    h["persons_per_unit"] = h.persons_per_unit.map(lambda v: fmt(v, 2))
    write_csv(h, out / "housing.csv")
