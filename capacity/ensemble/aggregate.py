"""From per-draw summaries to the ensemble's tables (docs/ensemble.md#outputs).

Arrays are (draws, years, zones, stages); district totals are the sum over zones of each
draw (then summarised: a district quantile is not the sum of zone quantiles).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

QUANTILES = (5, 10, 25, 50, 75, 90, 95)
BUDGET_LEVELS = (50, 80, 90)
DISTRICT = "ALL"             # zone_id of district totals
SHORT_SHARE = 0.05           # probability.csv: P(shortfall > 5 % of demand)


def _long(values: dict[str, np.ndarray], years, zone_ids, stages) -> pd.DataFrame:
    """A long table from (Y, Z, K) arrays named by column."""
    Y, Z, K = len(years), len(zone_ids), len(stages)
    frame = pd.DataFrame({
        "zone_id": np.tile(np.repeat(np.asarray(zone_ids, object), K), Y),
        "stage": np.tile(np.asarray(stages, object), Y * Z),
        "year": np.repeat(np.asarray(years), Z * K)})
    for name, arr in values.items():
        frame[name] = np.asarray(arr).reshape(Y * Z * K)
    return frame


def zone_table(values: dict[str, np.ndarray], years, zone_ids, stages) -> pd.DataFrame:
    """A long table (zone_id, stage, year, one column per value) of (Y, Z, K) arrays, in the
    outputs' order."""
    return _order(_long(values, years, zone_ids, stages), stages)


def with_district(arr: np.ndarray) -> np.ndarray:
    """(..., Y, Z, K) → (..., Y, Z + 1, K): the zones, then their sum (the district)."""
    return np.concatenate([arr, arr.sum(axis=-2, keepdims=True)], axis=-2)


def quantiles(measures: dict[str, np.ndarray], deterministic: dict[str, np.ndarray],
              years, zone_ids, stages, weights: np.ndarray | None = None) -> pd.DataFrame:
    """quantiles.csv: zone_id, stage, year, measure, p5 … p95, mean, deterministic; with
    ``weights`` (N,) the weighted quantiles and mean (docs/ensemble.md, Conditioning)."""
    zones = [*zone_ids, DISTRICT]
    parts = []
    for name, arr in measures.items():
        full = with_district(arr.astype(np.int64))
        if weights is None:
            q = np.percentile(full, QUANTILES, axis=0)
            mean = full.mean(axis=0)
        else:
            q = weighted_quantile(full, weights, np.array(QUANTILES) / 100)
            mean = np.tensordot(weights, full, axes=1)
        cols = {f"p{p}": q[i] for i, p in enumerate(QUANTILES)}
        cols["mean"] = mean
        cols["deterministic"] = with_district(deterministic[name].astype(np.int64))
        frame = _long(cols, years, zones, stages)
        frame.insert(3, "measure", name)
        parts.append(frame)
    return _order(pd.concat(parts, ignore_index=True), stages)


def probability(demand: np.ndarray, shortfall: np.ndarray, years, zone_ids, stages,
                weights: np.ndarray | None = None) -> pd.DataFrame:
    """probability.csv: P(shortfall > 0) and P(shortfall > 5 % of demand) per zone (and the
    district), stage and year, over the draws (weighted by ``weights`` when given)."""
    dem, short = with_district(demand.astype(np.int64)), with_district(shortfall.astype(np.int64))
    def share(hit: np.ndarray) -> np.ndarray:
        return hit.mean(axis=0) if weights is None else \
            np.tensordot(np.asarray(weights, float), hit.astype(float), axes=1)

    frame = _long({"p_shortfall": share(short > 0),
                   "p_shortfall_5pct": share(short > SHORT_SHARE * dem)},
                  years, [*zone_ids, DISTRICT], stages)
    return _order(frame, stages)


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float | np.ndarray,
                      axis: int = 0) -> np.ndarray:
    """Quantile(s) ``q`` (0..1) of ``values`` along ``axis`` under ``weights`` (N,): the
    smallest value whose cumulative weight reaches q (``inverted_cdf``; equal weights give
    ``np.quantile(..., method="inverted_cdf")``)."""
    v = np.moveaxis(np.asarray(values, float), axis, 0)
    order = np.argsort(v, axis=0, kind="stable")
    sv = np.take_along_axis(v, order, axis=0)
    cw = np.cumsum(np.asarray(weights, float)[order], axis=0)
    cw /= cw[-1:]
    qs = np.atleast_1d(np.asarray(q, float))
    out = np.empty((len(qs),) + sv.shape[1:])
    for i, p in enumerate(qs):
        idx = (cw < p - 1e-12).sum(axis=0)
        idx = np.minimum(idx, len(sv) - 1)
        out[i] = np.take_along_axis(sv, idx[None], axis=0)[0]
    return out if np.ndim(q) else out[0]


def budget(shortfall: np.ndarray, cost_per_place: dict[str, float], zone_ids, stages,
           weights: np.ndarray | None = None) -> pd.DataFrame:
    """budget.csv: places (and their cost) that cover each zone's worst-year shortfall of
    a stage in 50, 80 and 90 % of the draws (by weight when ``weights`` are given) — the
    level's quantile (an actual draw's value, ``inverted_cdf``) of each draw's peak
    shortfall over the years. District rows sum the zones (places are built where the
    pupils live)."""
    peak = shortfall.astype(np.int64).max(axis=1)                       # (N, Z, K)
    w = np.ones(len(peak)) if weights is None else np.asarray(weights, float)
    rows = []
    for k, stage in enumerate(stages):
        price = float(cost_per_place.get(stage, 0.0))
        level = {p: weighted_quantile(peak[:, :, k], w, p / 100, axis=0).astype(np.int64)
                 for p in BUDGET_LEVELS}
        for z, zone in enumerate([*zone_ids, DISTRICT]):
            row = {"zone_id": zone, "stage": stage}
            for p in BUDGET_LEVELS:
                places = level[p].sum() if zone == DISTRICT else level[p][z]
                row[f"places_p{p}"] = int(places)
                row[f"cost_p{p}"] = float(places) * price
            rows.append(row)
    frame = pd.DataFrame(rows)
    return frame[[c for c in frame if c.startswith(("zone", "stage", "places"))]
                 + [c for c in frame if c.startswith("cost")]]


def worst_years(q: pd.DataFrame, stages) -> pd.DataFrame:
    """Per stage: the year of the largest median district shortfall (the first on ties;
    the last year when no draw is short) with its P10, P50 and P90."""
    d = q[(q["zone_id"] == DISTRICT) & (q["measure"] == "shortfall")]
    rows = []
    for stage in stages:
        s = d[d["stage"] == stage].sort_values("year")
        if s.empty:
            continue
        key = s["p50"].to_numpy() + 1e-9 * s["p90"].to_numpy()
        r = s.iloc[int(np.argmax(key))] if key.max() > 0 else s.iloc[-1]
        rows.append({"stage": stage, "year": int(r["year"]), "p10": r["p10"],
                     "p50": r["p50"], "p90": r["p90"], "deterministic": r["deterministic"]})
    return pd.DataFrame(rows)


def district_draws(draws: np.ndarray, demand, shortfall, out_of_reach, places, years,
                   stages) -> pd.DataFrame:
    """Per-draw district summaries: draw, year, stage, demand, places, shortfall,
    out_of_reach (draws.parquet)."""
    N, Y, _, K = demand.shape
    return pd.DataFrame({
        "draw": np.repeat(draws, Y * K), "year": np.tile(np.repeat(years, K), N),
        "stage": np.tile(np.asarray(stages, object), N * Y),
        "demand": demand.sum(axis=2).ravel().astype(np.int64),
        "places": places.ravel().astype(np.int64),
        "shortfall": shortfall.sum(axis=2).ravel().astype(np.int64),
        "out_of_reach": out_of_reach.sum(axis=2).ravel().astype(np.int64)})


def zone_draws(draws: np.ndarray, demand, shortfall, out_of_reach, years, zone_ids, stages
               ) -> pd.DataFrame:
    """Per-draw zone summaries: draw, zone_id, year, stage, demand, shortfall, out_of_reach
    (draws_zones.parquet)."""
    N, Y, Z, K = demand.shape
    return pd.DataFrame({
        "draw": np.repeat(draws, Y * Z * K),
        "zone_id": np.tile(np.repeat(np.asarray(zone_ids, object), K), N * Y),
        "year": np.tile(np.repeat(years, Z * K), N),
        "stage": np.tile(np.asarray(stages, object), N * Y * Z),
        "demand": demand.ravel().astype(np.int32), "shortfall": shortfall.ravel().astype(np.int32),
        "out_of_reach": out_of_reach.ravel().astype(np.int32)})


def _order(frame: pd.DataFrame, stages) -> pd.DataFrame:
    order = {s: i for i, s in enumerate(stages)}
    return frame.sort_values(["stage", "zone_id", "year"] + (["measure"] if "measure" in frame
                                                             else []),
                             key=lambda c: c.map(order) if c.name == "stage" else c,
                             kind="stable").reset_index(drop=True)
