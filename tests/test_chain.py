"""The chain of named steps: swappable rules, one state, and the package's structure."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import capacity
from capacity.allocate import Arcs, allocate_optimal
from capacity.chain import STEPS, Chain
from capacity.registry import ALLOCATORS, DISTANCES, POST_STEPS, Registry

PACKAGE = Path(capacity.__file__).parent


def manhattan(unit_xy: np.ndarray, site_xy: np.ndarray, radius: np.ndarray) -> Arcs:
    """A toy distance rule: city-block metres, dense (fine for a tiny model)."""
    d = np.abs(unit_xy[:, None, :] - site_xy[None, :, :]).sum(-1)
    u, s = np.nonzero(d <= radius[:, None])
    return Arcs.from_pairs(u, s, d[u, s], unit_xy, site_xy, radius)


def test_toy_distance_provider_plugs_in_by_registration(tiny_scenario, tiny_result):
    DISTANCES.register("manhattan-test")(manhattan)
    result = Chain(tiny_scenario, distance="manhattan-test", post=()).run()
    a = result.allocation.dropna(subset=["school_id"])
    units = result.units.set_index("unit_id")
    cap = result.capacity.drop_duplicates(["school_id", "stage"]).set_index(
        ["school_id", "stage"])
    # every flow's distance is the city-block distance between unit and school (model CRS)
    from pyproj import Transformer

    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:32650", always_xy=True).transform
    ux, uy = to_utm(units.loc[a["unit_id"], "lon"].to_numpy(),
                    units.loc[a["unit_id"], "lat"].to_numpy())
    key = list(zip(a["school_id"], a["stage"]))
    sx, sy = to_utm(cap.loc[key, "lon"].to_numpy(), cap.loc[key, "lat"].to_numpy())
    assert np.allclose(a["distance_m"], np.abs(ux - sx) + np.abs(uy - sy), atol=0.01)
    radius = a["stage"].astype(str).map({k: v["radius_m"] for k, v in result.stages.items()})
    assert (a["distance_m"] <= radius + 1e-6).all()
    # city blocks are never shorter than straight lines: no more pupils served
    served = lambda r: r.summary.groupby("mode")["served"].sum()  # noqa: E731
    assert (served(result) <= served(tiny_result)).all()
    assert result.manifest["distance"] == "manhattan-test"


def test_euclidean_from_pairs_equals_build(tiny_result):
    rng = np.random.default_rng(1)
    uxy, sxy = rng.uniform(0, 5000, (300, 2)), rng.uniform(0, 5000, (20, 2))
    radius = rng.uniform(500, 2000, 300)
    built = Arcs.build(uxy, sxy, radius)
    d = np.hypot(*(uxy[:, None, :] - sxy[None, :, :]).transpose(2, 0, 1))
    u, s = np.nonzero(d <= radius[:, None])
    pairs = Arcs.from_pairs(u[::-1], s[::-1], d[u, s][::-1], uxy, sxy, radius)
    for f in ("unit", "school", "distance", "start"):
        assert np.array_equal(getattr(built, f), getattr(pairs, f)), f
    demand, places = rng.integers(0, 30, 300), rng.integers(0, 300, 20)
    for mode in ALLOCATORS.names():
        a, b = ALLOCATORS.get(mode)(built, demand, places), ALLOCATORS.get(mode)(pairs, demand,
                                                                                 places)
        assert np.array_equal(a.pupils, b.pupils) and np.array_equal(a.unserved, b.unserved)


def test_allocation_rule_and_post_step_plug_in(tiny_scenario, tmp_path):
    calls = []

    @POST_STEPS.register("count-flows-test")
    def count_flows(state) -> None:
        calls.append(sum(len(a.unit) for v in state.allocations.values() for a in v))
        state.tables["flow_counts"] = pd.DataFrame({"flows": [calls[-1]]})

    result = Chain(tiny_scenario, modes=("optimal", allocate_optimal),
                   post=("count-flows-test",)).run()
    assert calls and calls[0] == (result.allocation["school_id"].notna()).sum()
    assert set(result.summary["mode"]) == {"optimal", "allocate_optimal"}
    s = result.summary.pivot_table(index=["year", "stage"], columns="mode", values="served")
    assert (s["optimal"] == s["allocate_optimal"]).all()
    assert result.criticality is None and "criticality" not in result.tables
    # a post-step's own table is written and read back
    from capacity.result import read_result

    again = read_result(result.write(tmp_path))
    assert again.extras["flow_counts"]["flows"].tolist() == [calls[0]]


def test_a_step_is_replaced_by_any_callable(tiny_scenario, tiny_result):
    from capacity.demand import demand

    def double_demand(state) -> None:
        demand(state)
        state.unit_pupils = state.unit_pupils * 2
        state.zone_pupils = state.zone_pupils * 2

    result = Chain(tiny_scenario, steps={"demand": double_demand}, post=()).run()
    a = result.summary.set_index(["year", "stage", "mode"])["demand"]
    b = tiny_result.summary.set_index(["year", "stage", "mode"])["demand"]
    assert (a == 2 * b).all()
    with pytest.raises(ValueError, match="unknown step"):
        Chain(tiny_scenario, steps={"nonsense": double_demand})


def test_state_is_filled_step_by_step(tiny_scenario):
    chain = Chain(tiny_scenario)
    state = chain.start()
    assert state.projection is None and not state.arcs
    chain.run_steps(state, ("projection", "demand", "supply", "distances"))
    Y, Z, K = state.zone_pupils.shape
    assert (Y, Z, K) == (len(state.years), len(state.model.zones), len(state.model.stages))
    assert state.unit_pupils.shape == (Y, K, len(state.units))
    assert set(state.arcs) == set(state.model.stages) and not state.allocations
    assert list(STEPS) == ["projection", "demand", "supply", "distances", "allocation",
                           "tables"]


def test_registry_errors_name_the_registered_rules():
    reg: Registry = Registry("thing")
    reg.register("a")(len)
    assert reg.get("a") is len and reg.get(max) is max and "a" in reg
    with pytest.raises(ValueError, match=r"unknown thing 'b' \(registered: a\)"):
        reg.get("b")


# -- structure of the package ----------------------------------------------------------
def _modules() -> dict[str, ast.Module]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        out[name] = ast.parse(path.read_text(encoding="utf-8"))
    return out


def _imports(name: str, tree: ast.Module, is_pkg: bool):
    """(module imported, names imported) for every import of a package module."""
    base = name.split(".") if is_pkg else name.split(".")[:-1]
    typing_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                   and "TYPE_CHECKING" in ast.unparse(node.test)
                   for stmt in node.body for n in ast.walk(stmt)}
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                parts = base[: len(base) - node.level + 1]
                mod = ".".join(parts + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            yield mod, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, []


def test_no_module_over_450_lines():
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 450}
    assert not long


def test_no_private_names_imported_across_modules():
    mods = _modules()
    bad = []
    for name, tree in mods.items():
        is_pkg = (PACKAGE.parent / name.replace(".", "/") / "__init__.py").exists()
        for mod, names in _imports(name, tree, is_pkg):
            if mod.startswith("capacity") and mod != name:
                bad += [f"{name} imports {mod}.{n}" for n in names
                        if n.startswith("_") and not n.startswith("__")]
    assert not bad


def test_no_import_cycles_and_nothing_imports_a_pipeline():
    mods = _modules()
    graph: dict[str, set[str]] = {}
    for name, tree in mods.items():
        is_pkg = (PACKAGE.parent / name.replace(".", "/") / "__init__.py").exists()
        deps = set()
        for mod, names in _imports(name, tree, is_pkg):
            for cand in [f"{mod}.{n}" for n in names] + [mod]:
                if cand in mods and cand != name:
                    deps.add(cand)
                    break
        graph[name] = deps
    assert "capacity.pipeline" not in mods
    # cycles among modules (package __init__ re-exports are not counted as edges into it)
    edges = {m: {d for d in ds if d != "capacity" and not m.startswith(d + ".")}
             for m, ds in graph.items()}
    state: dict[str, int] = {}
    cycle: list[str] = []

    def visit(m: str, path: list[str]) -> bool:
        state[m] = 1
        for d in sorted(edges.get(m, ())):
            if state.get(d) == 1:
                cycle.extend(path[path.index(d):] + [d] if d in path else [m, d])
                return True
            if d not in state and visit(d, path + [d]):
                return True
        state[m] = 2
        return False

    for m in sorted(edges):
        if m not in state and visit(m, [m]):
            break
    assert not cycle, " -> ".join(cycle)


def test_docs_and_code_cite_no_design_document(repo_root):
    cited = "DESIGN " + "§"    # written apart so this file does not match itself
    out = subprocess.run(["git", "grep", "-n", cited], cwd=repo_root,
                         capture_output=True, text=True)
    assert out.stdout == ""


def test_importing_capacity_is_light():
    """``capacity`` and its command line import no plotting, spreadsheet, interpolation or
    optimisation library (a run that needs one imports it where used: start-up time)."""
    code = ("import sys, capacity, capacity.cli; heavy = [m for m in ('matplotlib', "
            "'openpyxl', 'scipy.interpolate', 'scipy.optimize') if m in sys.modules]; "
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stderr


def test_the_scenarios_mode_is_always_run(tiny_scenario):
    result = Chain(tiny_scenario, modes=("catchment",), post=("criticality",)).run()
    assert set(result.summary["mode"]) == {"catchment", result.mode}
    assert len(result.indicators) and len(result.criticality)
