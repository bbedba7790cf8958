"""The projection step: a scenario's fertility, mortality and migration inputs as arrays,
and the cohort-component projection of every zone (docs/projection.md)."""
from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

from .demography.ccm import project
from .demography.lifetable import sx_from_Lx, sx_from_mx, sx_from_qx
from .demography.schedules import housing_inflow, tfr_factors, young_family_profile
from .errors import InputError

if TYPE_CHECKING:
    from .model import Model
    from .scenario import Scenario
    from .state import RunState

SEXES = ("F", "M")


class ProjectionWarning(UserWarning):
    """A negative end-of-year count was floored at zero."""


def pivot(frame: pd.DataFrame, value: str, zones: list[str], A: int) -> np.ndarray:
    """(Z, 2, A) array from a long zone_id, sex, age table (missing rows are 0)."""
    out = np.zeros((len(zones), 2, A))
    if len(frame):
        z = pd.Index(zones).get_indexer(frame["zone_id"])
        s = (frame["sex"] == "M").to_numpy(int)
        np.add.at(out, (z, s, frame["age"].to_numpy(int)), frame[value].to_numpy(float))
    return out


def survival(model: "Model") -> np.ndarray:
    """(2, A) UN-convention survival ratios from the model's mortality table."""
    A = model.open_age + 1
    m = model.mortality
    arr = np.zeros((2, A))
    arr[(m["sex"] == "M").to_numpy(int), m["age"].to_numpy(int)] = m[model.mortality_kind]
    kind = model.mortality_kind
    if kind == "sx":
        return arr
    convert = {"mx": sx_from_mx, "qx": sx_from_qx, "Lx": sx_from_Lx}[kind]
    return convert(arr, open_age=model.open_age)


def fertility(model: "Model", scenario: "Scenario", step_years: np.ndarray) -> np.ndarray:
    """(T, Z, A) ASFR per step: zone schedules where given, else the district schedule,
    each scaled by the TFR path ÷ the district schedule's TFR (the scenario's path, else
    the model's ``[fertility] tfr``)."""
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
    path = scenario.tfr or model.tfr
    if path and base_tfr <= 0:
        raise InputError.single(model.files["fertility"].name,
                                "a TFR path needs a district schedule with births",
                                column="asfr", expected="district rows (no zone_id) with asfr > 0")
    factors = tfr_factors(path, step_years, base_tfr if base_tfr > 0 else 1.0)
    return factors[:, None, None] * schedule[None, :, :]


def migration(model: "Model", scenario: "Scenario", step_years: np.ndarray) -> np.ndarray:
    """(T, Z, 2, A) migrants in counts per step: migration.csv ``net`` × scale and ``inflow``
    × scale × inflow_scale, plus housing-led in-movers (with ``out_rate`` these counts are
    the inflow; exits come from :func:`out_rates`)."""
    A, Z = model.open_age + 1, len(model.zones)
    mig, zones = model.migration, model.zone_ids
    base = np.zeros((Z, 2, A))
    if "net" in mig.columns:
        base += pivot(mig.fillna({"net": 0.0}), "net", zones, A)
    if "inflow" in mig.columns:
        base += pivot(mig.fillna({"inflow": 0.0}), "inflow", zones, A) * scenario.inflow_scale
    base *= scenario.migration_scale
    net = np.repeat(base[None], len(step_years), axis=0)
    h = model.housing
    if len(h):
        # persons_per_unit and ramp_years are filled with their schema defaults on load
        ppu = h["persons_per_unit"]
        ramp = scenario.housing_ramp_years or h["ramp_years"]
        net += housing_inflow(
            pd.Index(model.zone_ids).get_indexer(h["zone_id"]),
            h["units"].to_numpy(float) * scenario.housing_scale,
            h["completion_year"].to_numpy(float) + scenario.housing_delay,
            np.asarray(ppu, float), np.asarray(ramp, float), step_years, Z,
            young_family_profile(model.open_age, srb=model.srb))
    return net


def out_rates(model: "Model", scenario: "Scenario") -> np.ndarray | None:
    """(Z, 2, A) out-migration rates (docs/projection.md §2), or None when neither
    migration.csv ``out_rate`` nor the scenario's ``[migration] out_rate`` is given; × the
    scenario's ``scale`` × ``exit_scale``, capped at 1, the age pattern flattened by
    ``exit_flatten`` (docs/scenarios.md)."""
    A, Z = model.open_age + 1, len(model.zones)
    mig = model.migration
    if scenario.out_rate is not None:
        rates = np.full((Z, 2, A), float(scenario.out_rate))
    elif "out_rate" in mig.columns:
        rates = pivot(mig.fillna({"out_rate": 0.0}), "out_rate", model.zone_ids, A)
    else:
        return None
    if scenario.exit_flatten:
        pop0 = pivot(model.population, "count", model.zone_ids, A)
        size = np.maximum(pop0.sum(axis=(1, 2), keepdims=True), 1e-9)
        crude = (rates * pop0).sum(axis=(1, 2), keepdims=True) / size
        w = scenario.exit_flatten
        rates = (1.0 - w) * rates + w * crude
    rates[..., :min(scenario.exit_ages_from, A)] = 0.0
    return np.minimum(rates * (scenario.migration_scale * scenario.exit_scale), 1.0)


class Inputs(NamedTuple):
    """What the cohort-component step takes besides the base population and survival."""

    asfr: np.ndarray                 # (T, Z, A)
    migration: np.ndarray            # (T, Z, 2, A) counts (the inflow when out_rates)
    out_rates: np.ndarray | None     # (Z, 2, A) exit rates, or None
    timing: str                      # "even" or "end"


def inputs(model: "Model", scenario: "Scenario", step_years: np.ndarray) -> Inputs:
    """A scenario's projection inputs (one home for the projection step and ensembles)."""
    return Inputs(fertility(model, scenario, step_years), migration(model, scenario, step_years),
                  out_rates(model, scenario),
                  scenario.migration_timing or model.migration_timing)


def projection(state: "RunState") -> None:
    """Fill ``state.projection``; floored negative counts become warnings."""
    model, scenario = state.model, state.scenario
    steps = state.years[1:]
    state.say(f"projecting {len(model.zones)} zones to {scenario.horizon}")
    pop0 = pivot(model.population, "count", model.zone_ids, model.open_age + 1)
    given = inputs(model, scenario, steps)
    state.projection = project(pop0, survival(model), given.asfr, given.migration,
                               srb=model.srb, timing=given.timing,
                               out_rates=given.out_rates)
    notes = [f"negative population floored at 0: zone {model.zone_ids[z]}, "
             f"sex {SEXES[s]}, age {a}, year {steps[t]} (was {v:.3g})"
             for t, z, s, a, v in state.projection.floored]
    for note in notes[:20]:
        warnings.warn(note, ProjectionWarning, stacklevel=2)
    if len(notes) > 20:
        warnings.warn(f"... and {len(notes) - 20} more negative counts floored",
                      ProjectionWarning, stacklevel=2)
    state.warnings.extend(notes)


def population_table(state: "RunState") -> pd.DataFrame:
    """population.csv: zone_id, year, sex, age, population (long format)."""
    pop = state.projection.population
    _, _, _, A = pop.shape
    idx = pd.MultiIndex.from_product(
        [state.model.zone_ids, state.years, SEXES, np.arange(A)],
        names=["zone_id", "year", "sex", "age"])
    return pd.DataFrame({"population": np.transpose(pop, (1, 0, 2, 3)).ravel()},
                        index=idx).reset_index()


def components_table(state: "RunState") -> pd.DataFrame:
    """components.csv: births, deaths and net migration per zone in each year's step."""
    p, years = state.projection, state.years
    Z = p.births.shape[1]
    yrs = np.repeat(years[1:][None, :], Z, axis=0).T
    return pd.DataFrame({
        "zone_id": np.tile(state.model.zone_ids, len(years) - 1),
        "year": yrs.ravel(), "births": p.births.sum(-1).ravel(),
        "deaths": p.deaths.sum(-1).ravel(), "net_migration": p.migration.sum(-1).ravel()})
