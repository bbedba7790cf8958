"""``capacity.ensemble(...)``: N draws of a scenario and their summaries (docs/ensemble.md)."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import geopandas as gpd
import numpy as np
import pandas as pd

from .. import __version__
from ..chain import Chain, resolve_scenario
from ..result import Result
from ..runfolder import atomic_folder
from ..scenario import Scenario
from . import aggregate
from ..options import check as check_options
from .cluster import check_reachable, check_summaries, run_draws
from .conditioning import (Conditioning, condition, few_draws, observations_table,
                           shortfall_risk)
from .draws import Draw, district_tfr, draw_scenario, inputs_table, make_draw, project_units
from .run import make_base, run_batch
from .spec import Uncertainty, check_tfr_base, read_uncertainty

MAIN_STEPS = ("projection", "demand", "supply", "distances", "allocation")


@dataclass
class EnsembleResult:
    """An ensemble's per-draw summaries (arrays: draw, year, zone, stage) and its tables."""

    scenario: str
    mode: str
    seed: int
    years: np.ndarray
    zone_ids: list[str]
    stages: list[str]
    cost_per_place: dict[str, float]
    inputs: pd.DataFrame                   # one row per draw: every drawn input
    demand: np.ndarray                     # (N, Y, Z, K) whole pupils
    shortfall: np.ndarray                  # (N, Y, Z, K)
    out_of_reach: np.ndarray               # (N, Y, Z, K)
    places: np.ndarray                     # (N, Y, K) district places
    deterministic: dict[str, np.ndarray]   # demand, shortfall, out_of_reach: (Y, Z, K)
    zones: gpd.GeoDataFrame
    report_year: int
    manifest: dict = field(default_factory=dict)
    conditioning: Conditioning | None = None   # weights by fit to the observations

    @property
    def weights(self) -> np.ndarray | None:
        """(N,) the draws' importance weights (None: equal)."""
        return None if self.conditioning is None else self.conditioning.weights

    @property
    def draws(self) -> np.ndarray:
        return self.inputs["draw"].to_numpy()

    @property
    def quantiles(self) -> pd.DataFrame:
        """quantiles.csv: demand and shortfall at P5 … P95 beside the deterministic run."""
        return aggregate.quantiles({"demand": self.demand, "shortfall": self.shortfall},
                                   self.deterministic, self.years, self.zone_ids, self.stages,
                                   self.weights)

    @property
    def probability(self) -> pd.DataFrame:
        return aggregate.probability(self.demand, self.shortfall, self.years, self.zone_ids,
                                     self.stages, self.weights)

    @property
    def risk(self) -> pd.DataFrame:
        """risk.csv: weighted P(shortfall > 0, > 500, > 1,000 places) per zone, stage, year."""
        w = self.weights if self.weights is not None else \
            np.full(len(self.inputs), 1.0 / len(self.inputs))
        return shortfall_risk(self.shortfall, w, self.years, self.zone_ids, self.stages)

    @property
    def observations(self) -> pd.DataFrame:
        """observations.csv: the observed figures beside the weighted draws' P10/P50/P90."""
        return observations_table(self.conditioning) if self.conditioning is not None \
            else observations_table(Conditioning(pd.DataFrame(), np.zeros((0, 1)),
                                                 np.zeros((0, 1)), np.zeros(0), np.ones(1)))

    @property
    def budget(self) -> pd.DataFrame:
        return aggregate.budget(self.shortfall, self.cost_per_place, self.zone_ids,
                                self.stages, self.weights)

    @property
    def district(self) -> pd.DataFrame:
        """Per-draw district summaries (draws.parquet)."""
        return aggregate.district_draws(self.draws, self.demand, self.shortfall,
                                        self.out_of_reach, self.places, self.years,
                                        self.stages)

    def worst_years(self) -> pd.DataFrame:
        """Per stage: the year of the largest median district shortfall, P10/P50/P90."""
        return aggregate.worst_years(self.quantiles, self.stages)

    def write(self, out: str | Path, year: int | None = None) -> Path:
        """Write ``out/<scenario>-ensemble/`` atomically; returns the folder."""
        from .report import write_report

        name = f"{self.scenario}-ensemble"
        with atomic_folder(out, name) as tmp:
            q = self.quantiles
            q.to_csv(tmp / "quantiles.csv", index=False)
            self.probability.to_csv(tmp / "probability.csv", index=False)
            self.budget.to_csv(tmp / "budget.csv", index=False)
            inputs = self.inputs
            if self.weights is not None:
                inputs = inputs.assign(weight=self.weights)
            inputs.to_csv(tmp / "inputs.csv", index=False)
            self.observations.to_csv(tmp / "observations.csv", index=False)
            self.risk.to_csv(tmp / "risk.csv", index=False)
            self.district.to_parquet(tmp / "draws.parquet", index=False)
            aggregate.zone_draws(self.draws, self.demand, self.shortfall, self.out_of_reach,
                                 self.years, self.zone_ids, self.stages
                                 ).to_parquet(tmp / "draws_zones.parquet", index=False)
            write_report(self, tmp, year or self.report_year, q)
            (tmp / "ensemble.json").write_text(json.dumps(self.manifest, indent=2,
                                                          default=str), encoding="utf-8")
        return Path(out) / name


def prepare(scenario: Scenario | str | Path,
            check: Callable[[object], None] | None = None
            ) -> tuple[Chain, object, Uncertainty, float]:
    """Load and check the scenario, its model and ``[uncertainty]`` (and ``check(state)``,
    before any work); run the deterministic chain (scenario mode, no criticality). Returns
    the chain, its state, the checked distributions and the deterministic compute time (s)."""
    scen = resolve_scenario(scenario)
    chain = Chain(scen, modes=(scen.mode,), post=(), workers=1)
    state = chain.start()
    spec = checked_uncertainty(state.scenario, state.model)
    if check is not None:
        check(state)
    t = time.perf_counter()
    chain.run_steps(state, MAIN_STEPS)
    return chain, state, spec, time.perf_counter() - t


def checked_uncertainty(scenario: Scenario, model) -> Uncertainty:
    """The scenario's ``[uncertainty]`` checked against its model: the one check of
    ``capacity ensemble`` and ``capacity validate``."""
    spec = read_uncertainty(scenario, model)
    check_tfr_base(district_tfr(model), spec.tfr_spread,
                   scenario.path.name if scenario.path else "scenario")
    return spec


def context(state) -> dict[str, int]:
    """The names option bounds may use (capacity/options.py) for a run's state."""
    return {"base_year": int(state.years[0]), "horizon": int(state.years[-1]),
            "open_age": int(state.model.open_age)}


def null_draw(state, spec: Uncertainty) -> Draw:
    """A draw that changes nothing: the deterministic run."""
    names, _ = project_units(state.model, spec)
    return Draw(-1, np.ones(len(state.years) - 1), 1.0, 1.0, 0, {u: 0 for u in names},
                {s: st.enrolment for s, st in state.model.stages.items()})


def ensemble(scenario: Scenario | str | Path, draws: int = 100, seed: int = 0, *,
             workers: int | None = None, scheduler: str | None = None,
             batch: int | None = None, progress: Callable[[str], None] | None = None,
             year: int | None = None, lang: str | None = None) -> EnsembleResult:
    """Run ``draws`` draws of ``scenario`` (its ``[uncertainty]``) on dask.distributed:
    ``workers`` local processes (default: every core), or the cluster at ``scheduler``
    (``tcp://host:8786``); ``year``: of the probability map (default: the report year);
    ``lang``: of the report (default: the scenario's [report] lang, else the model's).
    Every option is checked (capacity/schema/commands/options.csv) before any work. Nothing is
    written; see :meth:`EnsembleResult.write`."""
    given = {"--draws": draws, "--seed": seed, "--workers": workers, "--batch": batch,
             "--scheduler": scheduler, "--year": year}
    check_options("ensemble", given)
    if scheduler:
        check_reachable(scheduler)
    t0 = time.perf_counter()

    def within(state) -> None:
        check_options("ensemble", {"--year": year}, context(state))
        check_summaries(draws, len(state.years), len(state.model.zones),
                        len(state.model.stages))

    _, state, spec, det_s = prepare(scenario, within)
    base = make_base(state)
    det = run_batch(base, [null_draw(state, spec)])
    steps = state.years[1:]
    drawn = [make_draw(i, seed, spec, state.model, steps) for i in range(draws)]
    if progress:
        progress(f"{state.scenario.name}: {draws} draws")
    sums, info = run_draws(base, drawn, workers, scheduler, batch, progress)
    model = state.model
    cond = condition(model, [draw_scenario(d, state.scenario, model, steps) for d in drawn],
                     state.years)
    zones = model.zones[[c for c in ("zone_id", "name", "name_zh", "geometry")
                         if c in model.zones.columns]].to_crs("EPSG:4326")
    manifest = {
        "scenario": state.scenario.name, "scenario_file": str(state.scenario.path or ""),
        "model": model.name, "model_zh": model.name_zh,
        "scenario_zh": state.scenario.name_zh, "mode": state.scenario.mode,
        "lang": lang or state.scenario.lang or model.lang, "draws": draws, "seed": seed,
        "uncertainty": spec.as_dict(), "cluster": info, "stats": sums.stats,
        "timings": {"deterministic_compute_s": round(det_s, 3),
                    "total_s": round(time.perf_counter() - t0, 3)},
        "versions": {"capacity": __version__}, "input_hashes": model.file_hashes(),
        "warnings": list(state.warnings) + ([
            f"conditioning: {cond.ess:.1f} effective draws of {draws} — few draws fit the "
            "observations; read the quantiles as indicative and run more draws "
            "(docs/ensemble.md)"] if few_draws(cond.ess, draws) else []),
        "conditioning": {"effective_sample_size": round(cond.ess, 1), "draws": draws,
                         "observations": observations_table(cond).to_dict("records"),
                         "method": "importance weights, log-normal observation errors "
                                   "(docs/ensemble.md, Conditioning)"}}
    return EnsembleResult(
        scenario=state.scenario.name, mode=state.scenario.mode, seed=seed, years=state.years,
        zone_ids=list(model.zone_ids), stages=list(model.stages),
        cost_per_place={s: float(getattr(st, "cost_per_place", 0) or 0)
                        for s, st in model.stages.items()},
        inputs=inputs_table(drawn, steps), demand=sums.demand, shortfall=sums.shortfall,
        out_of_reach=sums.out_of_reach, places=sums.places,
        deterministic={"demand": det.demand[0], "shortfall": det.shortfall[0],
                       "out_of_reach": det.out_of_reach[0]},
        zones=zones, report_year=state.report_year if year is None else int(year),
        manifest=manifest, conditioning=cond)


def draw_of(scenario: Scenario | str | Path, index: int, seed: int = 0) -> Scenario:
    """Draw ``index`` of ``seed`` as a plain scenario: ``capacity.run(draw_of(...))`` re-runs
    that draw alone through the whole chain (``capacity ensemble --only-draw``)."""
    check_options("ensemble", {"--only-draw": index, "--seed": seed})
    chain = Chain(resolve_scenario(scenario), post=())
    state = chain.start()
    spec = checked_uncertainty(state.scenario, state.model)
    draw = make_draw(index, seed, spec, state.model, state.years[1:])
    return draw_scenario(draw, state.scenario, state.model, state.years[1:])


def run_draw(scenario: Scenario | str | Path, index: int, seed: int = 0) -> Result:
    """The whole chain (scenario mode, no criticality) for draw ``index`` alone."""
    drawn = draw_of(scenario, index, seed)
    return Chain(drawn, modes=(drawn.mode,), post=()).run()
