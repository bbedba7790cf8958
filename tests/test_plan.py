"""capacity plan on the tiny model: the MILP equals a brute-force solve over every choice of
sites, sizes and opening years (each an LP); the plan never exceeds capacity and uses only
arcs within the radius; plan.toml run through `capacity run` serves at least what the plan
says; bad candidate sites are precise errors (exit 2, nothing written)."""
from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

import capacity
from capacity.cli import main
from capacity.plan.candidates import read_sites, stage_candidates
from capacity.plan.formulation import formulate
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
first_year = 2021
build_years = 2

[plan.stages.primary]
standard_classes = [12, 24]
unserved_penalty_per_pupil_year = {penalty}
temporary_share = 0.1
temporary_years = 2
"""


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


def write_plan_case(root: Path, **penalties: float) -> Path:
    """The tiny model with two candidate sites, and a plan scenario ``<name>.toml`` per
    penalty given; returns ``root``."""
    model = write_tiny_model(root / "model")
    write_sites(model, [site("s-a", 471000.0, 4416000.0, "a"),
                        site("s-c", 479000.0, 4418000.0, "c", max_classes=12)])
    for name, penalty in penalties.items():
        (root / f"{name}.toml").write_text(SCENARIO.format(penalty=penalty))
    return root


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    return write_plan_case(tmp_path_factory.mktemp("plan"), plan=150000.0, strict=1e12)


def brute_force(f) -> float:
    """Least cost over every choice of (size, opening year) or nothing per site: each an LP
    with the choices fixed (scipy's dual simplex)."""
    options = {j: [None] + list(g.index) for j, g in f.y.groupby("cand")}
    best = np.inf
    for pick in itertools.product(*options.values()):
        lo, hi = f.lo.copy(), f.hi.copy()
        yv = f.y["var"].to_numpy()
        hi[yv] = 0.0
        for idx in pick:
            if idx is not None:
                lo[f.y.at[idx, "var"]] = hi[f.y.at[idx, "var"]] = 1.0
        finite = np.isfinite(f.row_lo)
        a_ub = __import__("scipy.sparse", fromlist=["vstack"]).vstack([f.A, -f.A[finite]])
        b_ub = np.concatenate([f.row_hi, -f.row_lo[finite]])
        res = linprog(f.c, A_ub=a_ub, b_ub=b_ub, bounds=list(zip(lo, hi)), method="highs-ds")
        if res.status == 0:
            best = min(best, res.fun)
    return best


@pytest.fixture(scope="module")
def formulation(tiny):
    chain = capacity.Chain(tiny / "plan.toml", post=())
    state = chain.run_steps(chain.start())
    params = plan_params(state)
    cand = stage_candidates(state, params, "primary", read_sites(state, params))
    return state, formulate(state, params, "primary", cand)


def test_plan_equals_brute_force(formulation):
    _, f = formulation
    assert f.integer.sum() == 2 + 1          # s-a: 12 or 24 classes; s-c: 12
    best = brute_force(f)
    sol = solve(f, mip_gap=0.0, time_limit_s=60, tie_break=False, restrict=False)
    assert sol.status == "optimal"
    assert sol.cost_cny / 1e4 == pytest.approx(best, rel=1e-7)
    assert sol.gap_basis == "milp" and sol.bound_cny / 1e4 <= best * (1 + 1e-9) + 1e-6
    # the fallback when the full MILP stops (candidates the linear relaxation opens, gap
    # against its bound): bound ≤ optimum ≤ cost
    fast = solve(f, mip_gap=0.0, time_limit_s=60, tie_break=False, full=False)
    assert fast.gap_basis == "lp" and fast.status == "time limit"
    assert fast.bound_cny / 1e4 <= best * (1 + 1e-9) + 1e-6
    assert fast.cost_cny / 1e4 >= best * (1 - 1e-9) - 1e-6
    assert fast.gap == pytest.approx((fast.cost_cny - fast.bound_cny) / fast.cost_cny, abs=1e-9)


def test_plan_within_capacity_and_radius(formulation):
    state, f = formulation
    v = solve(f, mip_gap=0.0, time_limit_s=60).values
    act = f.A @ v
    assert (act <= f.row_hi + 1e-6).all() and (act >= f.row_lo - 1e-6).all()
    assert (v >= f.lo - 1e-9).all() and (v <= f.hi + 1e-9).all()
    walk = ~f.x["transport"].to_numpy()
    from capacity.distances import stage_radius
    r = stage_radius(state, "primary")
    # the classes' arcs: every unit of a class lies within the radius of a walking arc's site
    zone_radius = pd.Series(r).groupby(state.units["zone"].to_numpy()).min()
    used = v[f.x["var"]] > 1e-6
    zones = f.classes["zone"].to_numpy()[f.x["cls"]]
    assert (f.x["distance_m"][walk & used] <= zone_radius.reindex(zones[walk & used]).to_numpy()
            * 1.0 + 1e-6).all()


@pytest.mark.parametrize("name", ["plan", "strict"])
def test_plan_toml_serves_what_the_plan_says(tiny, tmp_path, name):
    plan = make_plan(tiny / f"{name}.toml", stages=["primary"], time_limit_s=60)
    folder = write_plan(plan, tmp_path)
    assert (folder / "plan.csv").is_file() and (folder / "plan.toml").is_file()
    after = capacity.run(folder / "plan.toml", criticality=False)
    s = after.summary
    s = s[(s["stage"] == "primary") & (s["mode"] == "optimal") & (s["year"] >= 2021)]
    row = plan.summary.iloc[0]
    assert s["shortfall"].sum() <= row["unserved_after"] + 1e-6
    if name == "strict":     # every pupil any option reaches gets a place
        assert s["shortfall"].sum() == pytest.approx(row["unserved_after"], abs=1e-6)
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
    (tmp_path / "plan.toml").write_text(SCENARIO.format(penalty=1e5))
    out = tmp_path / "out"
    assert main(["plan", str(tmp_path / "plan.toml"), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"sites.csv:2:{column}:" in err
    assert not out.exists()
