"""The whole flow for one scenario: load → project → demand → supply → allocate → tables.

``project_population`` stops after the projection (``capacity project``); ``run`` does
everything and returns a :class:`~capacity.result.Result`.
"""
from __future__ import annotations

import platform
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from . import __version__
from .allocate import Allocation, Arcs, allocate_catchment, allocate_optimal
from .demand import demand_units, stage_population, unit_demand, zone_demand
from .demography.ccm import Projection, project
from .demography.lifetable import sx_from_Lx, sx_from_mx, sx_from_qx
from .demography.schedules import housing_inflow, tfr_factors, young_family_profile
from .errors import InputError
from .model import Model, load_model
from .result import Result
from .scenario import Scenario, default_scenario, load_scenario
from .supply import Supply, build_supply

MODES = ("catchment", "optimal")
SEXES = ("F", "M")
DEFAULT_PPU = 2.8          # persons per new dwelling when housing.csv gives none (estimate)
DEFAULT_RAMP = 3           # years to full occupancy when housing.csv gives none (estimate)

Progress = Callable[[str], None]


class ProjectionWarning(UserWarning):
    """A negative end-of-year count was floored at zero."""


@dataclass
class Projected:
    """The projection of one scenario, with the inputs that produced it."""

    scenario: Scenario
    model: Model
    years: np.ndarray               # base_year .. horizon
    projection: Projection
    warnings: list[str]

    def population_table(self) -> pd.DataFrame:
        """population.csv: zone_id, year, sex, age, population (long format)."""
        pop = self.projection.population
        T1, Z, S, A = pop.shape
        idx = pd.MultiIndex.from_product(
            [self.model.zone_ids, self.years, SEXES, np.arange(A)],
            names=["zone_id", "year", "sex", "age"])
        frame = pd.DataFrame({"population": np.transpose(pop, (1, 0, 2, 3)).ravel()},
                             index=idx).reset_index()
        return frame

    def components_table(self) -> pd.DataFrame:
        """components.csv: births, deaths and net migration per zone in each year's step."""
        p = self.projection
        Z = p.births.shape[1]
        yrs = np.repeat(self.years[1:][None, :], Z, axis=0).T
        return pd.DataFrame({
            "zone_id": np.tile(self.model.zone_ids, len(self.years) - 1),
            "year": yrs.ravel(), "births": p.births.sum(-1).ravel(),
            "deaths": p.deaths.sum(-1).ravel(), "net_migration": p.migration.sum(-1).ravel()})


def _resolve(scenario: Scenario | str | Path) -> Scenario:
    if isinstance(scenario, Scenario):
        return scenario
    path = Path(scenario)
    if path.is_dir() or path.name == "model.toml":
        return default_scenario(path)
    return load_scenario(path)


def _pivot(frame: pd.DataFrame, value: str, zones: list[str], A: int) -> np.ndarray:
    """(Z, 2, A) array from a long zone_id, sex, age table (missing rows are 0)."""
    out = np.zeros((len(zones), 2, A))
    if len(frame):
        z = pd.Index(zones).get_indexer(frame["zone_id"])
        s = (frame["sex"] == "M").to_numpy(int)
        np.add.at(out, (z, s, frame["age"].to_numpy(int)), frame[value].to_numpy(float))
    return out


def survival(model: Model) -> np.ndarray:
    """(2, A) UN-convention survival ratios from the model's mortality table."""
    A = model.open_age + 1
    m = model.mortality
    arr = np.zeros((2, A))
    arr[(m["sex"] == "M").to_numpy(int), m["age"].to_numpy(int)] = m[model.mortality_kind]
    kind = model.mortality_kind
    if kind == "sx":
        return arr
    if kind == "mx":
        return sx_from_mx(arr, open_age=model.open_age)
    if kind == "qx":
        return sx_from_qx(arr, open_age=model.open_age)
    return sx_from_Lx(arr, open_age=model.open_age)


def fertility(model: Model, scenario: Scenario, step_years: np.ndarray) -> np.ndarray:
    """(T, Z, A) ASFR per step: zone schedules where given, else the district schedule,
    each scaled by the scenario's TFR path ÷ the district schedule's TFR."""
    A, Z = model.open_age + 1, len(model.zones)
    f = model.fertility
    zone_col = f["zone_id"].fillna("") if "zone_id" in f.columns else pd.Series("", index=f.index)
    district = np.zeros(A)
    d = f[zone_col == ""]
    np.add.at(district, d["age"].to_numpy(int), d["asfr"].to_numpy(float))
    schedule = np.repeat(district[None, :], Z, axis=0)
    own = f[zone_col != ""]
    if len(own):
        zi = pd.Index(model.zone_ids).get_indexer(own["zone_id"])
        schedule[np.unique(zi)] = 0.0
        np.add.at(schedule, (zi, own["age"].to_numpy(int)), own["asfr"].to_numpy(float))
    base_tfr = district.sum()
    if scenario.tfr and base_tfr <= 0:
        raise InputError.single(model.files["fertility"].name,
                                "a TFR path needs a district schedule with births",
                                column="asfr", expected="district rows (no zone_id) with asfr > 0")
    factors = tfr_factors(scenario.tfr, step_years, base_tfr if base_tfr > 0 else 1.0)
    return factors[:, None, None] * schedule[None, :, :]


def migration(model: Model, scenario: Scenario, step_years: np.ndarray) -> np.ndarray:
    """(T, Z, 2, A) net migrants per step: migration.csv × scale + housing-led in-movers."""
    A, Z = model.open_age + 1, len(model.zones)
    base = _pivot(model.migration, "net", model.zone_ids, A) * scenario.migration_scale
    net = np.repeat(base[None], len(step_years), axis=0)
    h = model.housing
    if len(h):
        ppu = h["persons_per_unit"].fillna(DEFAULT_PPU) if "persons_per_unit" in h else DEFAULT_PPU
        ramp = (scenario.housing_ramp_years or
                (h["ramp_years"].fillna(DEFAULT_RAMP) if "ramp_years" in h else DEFAULT_RAMP))
        net += housing_inflow(
            pd.Index(model.zone_ids).get_indexer(h["zone_id"]),
            h["units"].to_numpy(float) * scenario.housing_scale,
            h["completion_year"].to_numpy(float) + scenario.housing_delay,
            np.asarray(ppu, float), np.asarray(ramp, float), step_years, Z,
            young_family_profile(model.open_age))
    return net


def project_population(scenario: Scenario | str | Path, progress: Progress | None = None
                       ) -> Projected:
    """Load the scenario's model and project its population to the horizon."""
    scenario = _resolve(scenario)
    model = load_model(scenario.model, overrides=scenario.stages)
    if scenario.horizon <= model.base_year:
        raise InputError.single(scenario.path.name if scenario.path else "scenario",
                                f"horizon {scenario.horizon} is not after the model's base "
                                f"year {model.base_year}", column="horizon",
                                expected=f"a year > {model.base_year}")
    years = np.arange(model.base_year, scenario.horizon + 1)
    steps = years[1:]
    if progress:
        progress(f"projecting {len(model.zones)} zones to {scenario.horizon}")
    pop0 = _pivot(model.population, "count", model.zone_ids, model.open_age + 1)
    proj = project(pop0, survival(model), fertility(model, scenario, steps),
                   migration(model, scenario, steps), srb=model.srb,
                   timing=scenario.migration_timing or model.migration_timing)
    notes = [f"negative population floored at 0: zone {model.zone_ids[z]}, "
             f"sex {SEXES[s]}, age {a}, year {steps[t]} (was {v:.3g})"
             for t, z, s, a, v in proj.floored]
    for note in notes[:20]:
        warnings.warn(note, ProjectionWarning, stacklevel=2)
    if len(notes) > 20:
        warnings.warn(f"... and {len(notes) - 20} more negative counts floored",
                      ProjectionWarning, stacklevel=2)
    return Projected(scenario, model, years, proj, model.warnings + notes)


def _allocate_stage(arcs: Arcs, demand: np.ndarray, places: np.ndarray, mode: str
                    ) -> Allocation:
    open_mask = places > 0
    if mode == "optimal":
        return allocate_optimal(arcs, demand, places, open_mask=open_mask)
    return allocate_catchment(arcs, demand, places, open_mask=open_mask)


def run(scenario: Scenario | str | Path, progress: Progress | None = None,
        criticality: bool = True) -> Result:
    """Run the whole pipeline for one scenario and return every table (nothing written)."""
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    projected = project_population(scenario, progress)
    scenario, model, years = projected.scenario, projected.model, projected.years
    timings["projection_s"] = time.perf_counter() - t0

    t = time.perf_counter()
    stages = model.stages
    units = demand_units(model)
    zpop = stage_population(projected.projection.population, stages)   # (Y, Z, K)
    zpupils = zone_demand(projected.projection.population, stages)
    frac, whole = unit_demand(zpupils, units, len(model.zones))           # (Y, K, U)
    frac, whole, zpupils = _cross_boundary(scenario, model, units, years, frac, whole, zpupils)
    supply = build_supply(model, scenario, years)
    timings["demand_supply_s"] = time.perf_counter() - t

    t = time.perf_counter()
    out = _allocate_all(model, scenario, units, whole, supply, years, progress)
    timings["allocation_s"] = time.perf_counter() - t

    from .tables import build_tables

    tables = build_tables(model, scenario, projected, units, zpop, zpupils, whole, supply, out)
    if criticality:
        t = time.perf_counter()
        from .criticality import project_criticality

        tables["criticality"] = project_criticality(model, scenario, units, whole, supply,
                                                    years, out, progress)
        timings["criticality_s"] = time.perf_counter() - t
    timings["total_s"] = time.perf_counter() - t0
    manifest = _manifest(model, scenario, projected, timings)
    zones = model.zones[["zone_id", "name", "radius_scale", "geometry"]].to_crs("EPSG:4326")
    return Result(name=scenario.name, tables=tables, zones=zones, manifest=manifest)


def _cross_boundary(scenario, model, units, years, frac, whole, zpupils):
    """Add extra pupils at named zones or units (e.g. children from neighbouring counties)."""
    if not scenario.cross_boundary:
        return frac, whole, zpupils
    from .demand import largest_remainder
    from .errors import Problems

    label = scenario.path.name if scenario.path else "scenario"
    problems = Problems()
    stage_idx = {s: k for k, s in enumerate(model.stages)}
    extra = np.zeros_like(frac)
    for i, row in enumerate(scenario.cross_boundary):
        k = stage_idx.get(row.get("stage"))
        where = f"cross_boundary[{i}]"
        if k is None or "pupils" not in row or ("zone_id" in row) == ("unit_id" in row):
            problems.add(label, f"{where} needs a known stage, pupils and one of zone_id or "
                         "unit_id", column=where,
                         expected="stage, pupils, zone_id or unit_id [, from_year, to_year]")
            continue
        active = (years >= row.get("from_year", years[0])) & (years <= row.get("to_year",
                                                                                years[-1]))
        if "zone_id" in row:
            sel = (units["zone_id"] == row["zone_id"]).to_numpy()
            share = units["weight"].to_numpy() * sel
        else:
            sel = (units["unit_id"] == row["unit_id"]).to_numpy()
            share = sel.astype(float)
        if not sel.any():
            problems.add(label, f"{where} names an unknown zone or unit", column=where,
                         expected="a zone_id of the zones file or a unit_id of the units")
            continue
        extra[active, k, :] += row["pupils"] * share
    problems.raise_if_any()
    frac = frac + extra
    zone = units["zone"].to_numpy()
    zadd = np.zeros_like(zpupils)
    np.add.at(np.moveaxis(zadd, 1, -1), (slice(None), slice(None), zone), extra)
    return frac, largest_remainder(frac, zone, len(model.zones)), zpupils + zadd


def unit_radius(model: Model, scenario: Scenario, units: pd.DataFrame, stage: str
                ) -> np.ndarray:
    """(U,) service radius of each unit: the stage's radius_m × its zone's radius_scale
    (the scale is left out when the scenario sets ``zone_radius_scale = false``)."""
    radius = np.full(len(units), model.stages[stage].radius_m, dtype=float)
    if scenario.zone_radius_scale:
        radius *= model.zones["radius_scale"].to_numpy(float)[units["zone"].to_numpy()]
    return radius


def stage_arcs(model: Model, scenario: Scenario, units: pd.DataFrame, supply: Supply,
               stage: str) -> Arcs:
    """Unit → site arcs of one stage within each unit's service radius."""
    sel = (supply.sites["stage"] == stage).to_numpy()
    return Arcs.build(units[["x", "y"]].to_numpy(), supply.sites.loc[sel, ["x", "y"]].to_numpy(),
                      unit_radius(model, scenario, units, stage))


def _allocate_all(model: Model, scenario: Scenario, units: pd.DataFrame, whole: np.ndarray,
                  supply: Supply, years: np.ndarray, progress: Progress | None
                  ) -> dict[tuple[str, str], list[Allocation]]:
    """Both modes, every stage and year: {(stage, mode): [Allocation per year]}."""
    out: dict[tuple[str, str], list[Allocation]] = {}
    for k, name in enumerate(model.stages):
        if progress:
            progress(f"allocating {name}")
        sel = (supply.sites["stage"] == name).to_numpy()
        arcs = stage_arcs(model, scenario, units, supply, name)
        places = supply.places[sel]
        for mode in MODES:
            out[(name, mode)] = [_allocate_stage(arcs, whole[y, k], places[:, y], mode)
                                 for y in range(len(years))]
    return out


def _manifest(model: Model, scenario: Scenario, projected: Projected,
              timings: dict[str, float]) -> dict:
    import importlib.metadata as md

    versions = {}
    for pkg in ("numpy", "pandas", "scipy", "geopandas", "shapely", "pyproj", "ortools",
                "openpyxl", "matplotlib"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return {
        "scenario": scenario.name, "description": scenario.description,
        "scenario_file": str(scenario.path) if scenario.path else None,
        "model": model.name, "model_path": str(model.path), "crs": model.crs,
        "base_year": int(model.base_year), "horizon": int(scenario.horizon),
        "allocation_mode": scenario.mode, "migration_timing":
            scenario.migration_timing or model.migration_timing,
        "report_year": scenario.report_year, "lang": scenario.lang,
        "stages": {k: s.as_dict() for k, s in model.stages.items()},
        "zone_radius_scale": bool(scenario.zone_radius_scale),
        "targets": model.targets, "input_hashes": model.file_hashes(),
        "versions": {"capacity": __version__, "python": platform.python_version(), **versions},
        "seed": None, "timings": {k: round(v, 3) for k, v in timings.items()},
        "warnings": projected.warnings,
    }
