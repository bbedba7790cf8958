"""capacity plan on the tiny model: the MILP equals a brute-force solve over every choice of
sites, sizes and opening years (each an LP); the plan never exceeds capacity and uses only
arcs within the radius (walking) or the transport radius; plan.toml run through
`capacity run` serves exactly what the plan says, year by year; bad candidate sites are
precise errors (exit 2, nothing written)."""
from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse
from scipy.optimize import linprog

import capacity
from capacity.cli import main
from capacity.plan.candidates import read_sites, stage_candidates
from capacity.plan.data import stage_data
from capacity.plan.formulation import assemble
from capacity.plan.params import plan_params
from capacity.plan.run import make_plan
from capacity.plan.solve import solve
from capacity.plan.write import write_plan
from tiny_model import to_lonlat, write_tiny_model

SCENARIO = """\
name = "tiny-plan"
model = "model"
horizon = 2025

[plan]
start_year = 2021

[plan.stages.primary]
standard_classes = [12, 24]
lead_years = 2
construction_years = 2
max_cost_per_pupil_year = {penalty}
temporary_share = 0.1
temporary_max_years = {temporary_years}
expansion_max_share = {expansion}
"""


def scenario_text(penalty: float, temporary_years: int = 2, expansion: float = 0.5) -> str:
    return SCENARIO.format(penalty=penalty, temporary_years=temporary_years,
                           expansion=expansion)


def write_sites(folder: Path, rows: list[dict]) -> None:
    pd.DataFrame(rows).to_csv(folder / "sites.csv", index=False)
    toml = (folder / "model.toml").read_text()
    if "sites =" not in toml:
        toml = toml.replace('projects = "projects.csv"\n',
                            'projects = "projects.csv"\nsites = "sites.csv"\n')
    (folder / "model.toml").write_text(toml)


def site(site_id, x, y, zone, stages="primary", max_classes=24, **extra) -> dict:
    lon, lat = to_lonlat([x], [y])
    return {"site_id": site_id, "zone_id": zone, "lon": float(lon[0]), "lat": float(lat[0]),
            "stages": stages, "max_classes": max_classes, "basis": "test", **extra}


def write_plan_case(root: Path, **penalties: float | str) -> Path:
    """The tiny model with two candidate sites, and a plan scenario ``<name>.toml`` per
    penalty (CNY per pupil-year without a place) or scenario text given; returns ``root``."""
    model = write_tiny_model(root / "model")
    write_sites(model, [site("s-a", 471000.0, 4416000.0, "a"),
                        site("s-c", 479000.0, 4418000.0, "c", max_classes=12)])
    for name, penalty in penalties.items():
        (root / f"{name}.toml").write_text(penalty if isinstance(penalty, str)
                                           else scenario_text(penalty))
    return root


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    # "brute": no expansions and no binding temporary-years limit, so the only whole
    # decisions are the schools (site, size, opening year) the brute force enumerates
    return write_plan_case(tmp_path_factory.mktemp("plan"), plan=150000.0, strict=1e9,
                           brute=scenario_text(150000.0, temporary_years=10, expansion=0.0))


def brute_force(f) -> float:
    """Least cost over every choice of (size, opening year) or nothing per site: each an LP
    with the choices fixed (scipy's dual simplex); without the cost of the pupils no option
    reaches (the same in every plan)."""
    options = {j: [None] + list(g.index) for j, g in f.y.groupby("cand")}
    best = np.inf
    for pick in itertools.product(*options.values()):
        lo, hi = f.lo.copy(), f.hi.copy()
        yv = f.y["var"].to_numpy()
        hi[yv] = 0.0
        for idx in pick:
            if idx is not None:
                lo[f.y.at[idx, "var"]] = hi[f.y.at[idx, "var"]] = 1.0
        low, high = np.isfinite(f.row_lo), np.isfinite(f.row_hi)
        a_ub = scipy.sparse.vstack([f.A[high], -f.A[low]])
        b_ub = np.concatenate([f.row_hi[high], -f.row_lo[low]])
        res = linprog(f.c, A_ub=a_ub, b_ub=b_ub, bounds=list(zip(lo, hi)), method="highs-ds")
        if res.status == 0:
            best = min(best, res.fun)
    return best


def formulate(path: Path):
    chain = capacity.Chain(path, post=())
    state = chain.run_steps(chain.start())
    params = plan_params(state)
    cand = stage_candidates(state, params, "primary", read_sites(state, params))
    data = stage_data(state, params, "primary", cand)
    return state, data, assemble(data, params.stages["primary"], params)


@pytest.fixture(scope="module")
def formulation(tiny):
    return formulate(tiny / "brute.toml")


def test_plan_equals_brute_force(formulation):
    _, _, f = formulation
    # only schools are whole decisions: s-a 12 or 24 classes, s-c 12, each opening in
    # 2023 (start 2021 + lead 2), 2024 or 2025 — those whose minimum use some future meets
    assert f.integer.sum() == len(f.y) and len(f.z) == 0 and len(f.wv) == 0
    assert set(f.y["open_year"]) <= {2023, 2024, 2025} and len(f.y) >= 2
    assert set(f.y["classes"]) <= {12, 24}
    assert set(f.y.loc[f.y["cand"] == 1, "classes"]) <= {12}
    best = brute_force(f)
    sol = solve(f, mip_gap=0.0, time_limit_s=60, tie_break=False)
    assert sol.status == "optimal"
    # to CNY 100 (the objective is ~10¹² CNY: the service target's penalty dominates it,
    # and no slack relative to it may reach the plan's cost)
    assert (sol.cost_cny - f.constant_cny) / 1e4 == pytest.approx(best, abs=0.01)
    # the bound is a bound: bound ≤ optimum ≤ cost, the gap between them
    assert (sol.bound_cny - f.constant_cny) / 1e4 <= best * (1 + 1e-9) + 1e-6
    assert sol.gap == pytest.approx(max(sol.cost_cny - sol.bound_cny, 0) / sol.cost_cny,
                                    abs=1e-9)


def test_plan_within_capacity_and_radius(formulation):
    state, data, f = formulation
    v = solve(f, mip_gap=0.0, time_limit_s=60).values
    act = f.A @ v
    assert (act <= f.row_hi + 1e-6).all() and (act >= f.row_lo - 1e-6).all()
    assert (v >= f.lo - 1e-9).all() and (v <= f.hi + 1e-9).all()
    from capacity.distances import stage_radius
    r = stage_radius(state, "primary")
    # every unit of a class lies within the radius of its walking arcs' sites, within the
    # radius × transport_radius_scale of its transport arcs' sites (the arcs' lengths are
    # pupil-weighted means over the class's units)
    uc = data.unit_class
    class_radius = pd.Series(r[uc >= 0]).groupby(uc[uc >= 0]).max()
    used = v[f.x["var"]] > 1e-6
    walk = ~f.x["transport"].to_numpy(bool)
    limit = class_radius.reindex(f.x["cls"]).to_numpy() * np.where(
        walk, 1.0, f.sp.transport_radius_scale)
    assert (f.x["distance_m"].to_numpy()[used] <= limit[used] + 1e-6).all()
    # transport only in the years its class has no existing open school within walking reach
    tr = f.x[~walk & used]
    assert data.eligible[tr["cls"].to_numpy(int), tr["t"].to_numpy(int)].all()


@pytest.mark.parametrize("name", ["plan", "strict"])
def test_plan_toml_serves_what_the_plan_says(tiny, tmp_path, name):
    """`capacity run plan.toml` (optimal allocation) places exactly the plan's pupils in
    every planned year (plan_unserved.csv), and never more are short than before the plan."""
    plan = make_plan(tiny / f"{name}.toml", stages=["primary"], time_limit_s=60)
    folder = write_plan(plan, tmp_path)
    assert (folder / "plan.csv").is_file() and (folder / "plan.toml").is_file()
    after = capacity.run(folder / "plan.toml", criticality=False)
    s = after.summary
    s = s[(s["stage"] == "primary") & (s["mode"] == "optimal") & (s["year"] >= 2021)]
    s = s.set_index("year")
    claimed = pd.read_csv(folder / "plan_unserved.csv").set_index("year")
    assert list(claimed.index) == list(s.index) == list(range(2021, 2026))
    assert (s["shortfall"] == claimed["unserved"]).all(), (s, claimed)
    assert (claimed["unserved"] <= claimed["unserved_before"]).all()
    row = plan.summary.iloc[0]
    assert row["unserved_after"] == claimed["unserved"].sum()
    assert row["unserved_after"] <= row["unserved_before"]


@pytest.mark.parametrize("bad, column", [
    (site("x", 471000.0, 4416000.0, "nowhere"), "zone_id"),
    (site("x", 471000.0, 4416000.0, "c"), "lon"),                       # outside zone c
    (site("x", 471000.0, 4416000.0, "a", stages="primary college"), "stages"),
    (site("x", 471000.0, 4416000.0, "a", classes="12 30"), "classes"),
    (site("x", 471000.0, 4416000.0, "a", max_classes=6), "max_classes"),
])
def test_bad_sites_exit_2_nothing_written(tmp_path, capsys, bad, column):
    model = write_tiny_model(tmp_path / "model")
    write_sites(model, [bad])
    (tmp_path / "plan.toml").write_text(scenario_text(1e5))
    out = tmp_path / "out"
    assert main(["plan", str(tmp_path / "plan.toml"), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"sites.csv:2:{column}:" in err
    assert not out.exists()
