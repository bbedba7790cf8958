"""How `capacity plan` writes: its own folder OUT/<scenario>-plan/, built beside and swapped
in (a run's folder untouched; killed at any moment, the previous plan intact); plan.toml
always a valid scenario (strings escaped, coordinates in the model's datum, ids unique, names
within limits); identical reruns byte-identical but for manifest.json's timings."""
from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capacity.cli import main
from capacity.plan.decode import unique_ids
from capacity.plan.run import make_plan
from capacity.plan.write import plan_name, plan_toml, toml_key, toml_str, write_plan
from test_plan import scenario_text, site, write_plan_case, write_sites
from tiny_model import to_lonlat, write_tiny_model

ROOT = Path(__file__).resolve().parents[1]
#: Any text a CSV cell or TOML file can hold (no lone surrogates), control characters too.
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def case(tmp_path_factory) -> Path:
    return write_plan_case(tmp_path_factory.mktemp("plan-write"), plan=150000.0)


@pytest.fixture(scope="module")
def plan(case):
    return make_plan(case / "plan.toml", stages=["primary"], time_limit_s=60)


@given(TEXT)
def test_toml_strings_round_trip(s):
    assert tomllib.loads(f"a = {toml_str(s)}")["a"] == s
    assert tomllib.loads(f"{toml_key(s)} = 1") == {s: 1}


@settings(max_examples=200)
@given(st.lists(st.tuples(st.sampled_from(["s1", "s2", "temp-x-2021", "a b"]),
                          st.sampled_from(["primary", "junior"])), max_size=12),
       st.sets(st.sampled_from(["s1", "s2-primary", "s1-junior", "x"])))
def test_unique_ids_are_unique_and_new(rows, taken):
    frame = pd.DataFrame(rows, columns=["id", "stage"])
    out = unique_ids(frame, taken)["id"].tolist()
    assert len(set(out)) == len(out) and not set(out) & taken
    firsts = {}
    for (pid, _), new in zip(rows, out):          # a free id is kept, once
        if pid not in taken and pid not in firsts:
            firsts[pid] = new
            assert new == pid


def test_unique_ids_by_hand():
    frame = pd.DataFrame({"id": ["s", "s", "s", "t"], "stage": ["primary", "junior",
                                                                  "junior", "primary"]})
    assert unique_ids(frame, {"t"})["id"].tolist() == ["s", "s-junior", "s-junior-2",
                                                       "t-primary"]


@pytest.mark.parametrize("name, want", [("base", "base-plan"), ("x" * 100, "x" * 95 + "-plan"),
                                        ("基准情景", "基准情景-plan")])
def test_plan_name_stays_a_valid_name(name, want):
    from capacity.runfolder import is_safe_name

    assert plan_name(name) == want and is_safe_name(want)
    assert len(plan_name(name, "-planned")) <= 100


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(names=st.lists(TEXT.filter(lambda s: s.strip()), min_size=4, max_size=4),
       ids=st.lists(TEXT.filter(lambda s: s.strip()), min_size=4, max_size=4),
       scenario=st.from_regex(r"[a-z][a-z0-9_.\-]{0,99}", fullmatch=True)
       .filter(lambda s: ".." not in s))
def test_plan_toml_of_odd_names_parses_and_validates(plan, case, tmp_path_factory, names,
                                                     ids, scenario, capsys):
    p = copy.copy(plan)
    p.state = copy.copy(plan.state)
    p.state.scenario = copy.copy(plan.state.scenario)
    p.state.scenario.name = scenario
    rows = plan.plan.copy()
    sites = rows["kind"].isin(["new", "expansion", "temporary"]).to_numpy()
    assert set(rows.loc[sites, "kind"]) == {"new", "expansion", "temporary"}
    first = [int(np.flatnonzero(rows["kind"].to_numpy() == kind)[0])
             for kind in ("new", "expansion", "temporary")]      # odd text in every kind
    k = np.array(first + [i for i in np.flatnonzero(sites) if i not in first][:1])
    rows.loc[k, "name"] = names[:len(k)]
    rows.loc[k, "id"] = ids[:len(k)]
    p.plan = unique_ids(rows, set(plan.state.supply.sites["school_id"]))
    folder = case / "odd" / plan_name(scenario)       # beside the plans, as write_plan puts it
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "plan.toml").write_text(plan_toml(p, folder), encoding="utf-8")
    doc = tomllib.loads((folder / "plan.toml").read_text(encoding="utf-8"))
    assert doc["name"] == plan_name(scenario, "-planned")
    got = [r["name"] for r in doc.get("projects", {}).get("add", [])] + \
        [r["name"] for r in doc.get("repurposed", [])]
    assert sorted(got) == sorted(p.plan.loc[sites, "name"])
    ids_back = [r["project_id"] for r in doc.get("projects", {}).get("add", [])] + \
        [r["site_id"] for r in doc.get("repurposed", [])]
    assert sorted(ids_back) == sorted(p.plan.loc[sites, "id"])
    transport = [(r["stage"], r["unit_id"], r["from_year"], r["to_year"])
                 for r in doc.get("transport", [])]
    assert transport == [tuple(r) for r in plan.transport_units[
        ["stage", "unit_id", "from_year", "to_year"]].itertuples(index=False)]
    capsys.readouterr()
    assert main(["validate", str(folder / "plan.toml")]) == 0, capsys.readouterr().err


@pytest.mark.parametrize("datum", ["wgs84", "gcj02"])
def test_site_in_metres_lands_where_it_is(tmp_path, datum, capsys):
    """A candidate site given in the model CRS (metres): the planned school opens at that
    point (capacity.csv of `capacity run plan.toml`, WGS84), in a model of either datum."""
    model = write_tiny_model(tmp_path / "model")
    x, y = 471000.0, 4416000.0
    write_sites(model, [{**site("s-m", x, y, "a"), "lon": x, "lat": y, "crs": "EPSG:32650"}])
    if datum != "wgs84":
        toml = (model / "model.toml").read_text()
        (model / "model.toml").write_text(toml.replace('crs = "EPSG:32650"\n',
                                                       f'crs = "EPSG:32650"\ndatum = "{datum}"\n'))
    (tmp_path / "plan.toml").write_text(scenario_text(1e9))
    out = tmp_path / "plans"
    assert main(["plan", str(tmp_path / "plan.toml"), "-o", str(out), "--stage", "primary"]) == 0
    toml = tomllib.loads((out / "tiny-plan-plan" / "plan.toml").read_text())
    added = [r for r in toml["projects"]["add"] if r["project_id"] == "s-m"]
    assert len(added) == 1
    lon, lat = to_lonlat([x], [y])                    # pyproj, independently of the code
    plan_csv = pd.read_csv(out / "tiny-plan-plan" / "plan.csv").set_index("id")
    assert plan_csv.loc["s-m", "lon"] == pytest.approx(lon[0], abs=1e-7)
    assert plan_csv.loc["s-m", "lat"] == pytest.approx(lat[0], abs=1e-7)
    cand = pd.read_csv(out / "tiny-plan-plan" / "candidates.csv").set_index("site_id")
    assert cand.loc["s-m", ["lon", "lat"]].tolist() == pytest.approx([lon[0], lat[0]], abs=1e-7)
    assert main(["run", str(out / "tiny-plan-plan" / "plan.toml"), "-o", str(tmp_path / "out"),
                 "--no-maps", "--no-criticality"]) == 0
    cap = pd.read_csv(tmp_path / "out" / "tiny-plan-planned" / "capacity.csv")
    school = cap[cap["school_id"] == "s-m"].iloc[0]
    metres_per_degree = 111_000.0
    assert abs(school["lon"] - lon[0]) * metres_per_degree * np.cos(np.radians(lat[0])) < 0.5
    assert abs(school["lat"] - lat[0]) * metres_per_degree < 0.5


def test_repeated_stage_is_planned_once(case, tmp_path):
    assert main(["plan", str(case / "plan.toml"), "-o", str(tmp_path), "--stage", "primary",
                 "--stage", "primary"]) == 0
    folder = tmp_path / "tiny-plan-plan"
    assert pd.read_csv(folder / "plan_summary.csv")["stage"].tolist() == ["primary"]
    plan = pd.read_csv(folder / "plan.csv")
    assert not plan["id"].duplicated().any()
    doc = tomllib.loads((folder / "plan.toml").read_text())
    ids = [r["project_id"] for r in doc["projects"]["add"]]
    assert len(ids) == len(set(ids)) == plan["kind"].isin(["new", "expansion"]).sum()


def test_reruns_are_byte_identical_but_the_manifest(case, tmp_path):
    outs = []
    for i in range(2):
        assert main(["plan", str(case / "plan.toml"), "-o", str(tmp_path / f"p{i}"),
                     "--stage", "primary"]) == 0
        outs.append(files(tmp_path / f"p{i}" / "tiny-plan-plan"))
    a, b = outs
    assert {"plan.csv", "plan_summary.csv", "plan_by_year.csv", "plan_unserved.csv",
            "plan_use.csv", "plan.xlsx", "plan_map.png", "report.html", "plan.toml",
            "manifest.json"} <= a.keys() == b.keys()
    assert "plan_risk.csv" not in a                  # only with --draws
    assert [k for k in a if a[k] != b[k]] in ([], ["manifest.json"])
    assert "seconds" not in pd.read_csv(tmp_path / "p0" / "tiny-plan-plan" /
                                        "plan_summary.csv").columns
    ma, mb = (json.loads(x["manifest.json"]) for x in outs)
    assert set(ma["timings"]["plan_solve_s"]) == {"primary"}
    ma.pop("timings"), mb.pop("timings")
    assert ma == mb


def test_plan_beside_a_run_leaves_it_alone(case, tmp_path):
    out = tmp_path / "out"
    assert main(["run", str(case / "plan.toml"), "-o", str(out), "--no-maps",
                 "--no-criticality"]) == 0
    run = files(out / "tiny-plan")
    assert main(["plan", str(case / "plan.toml"), "-o", str(out), "--stage", "primary"]) == 0
    assert files(out / "tiny-plan") == run
    plan = files(out / "tiny-plan-plan")
    # the plan's scenario, run into the same folder, gets a third folder; nothing replaced
    assert main(["run", str(out / "tiny-plan-plan" / "plan.toml"), "-o", str(out),
                 "--no-maps", "--no-criticality"]) == 0
    assert files(out / "tiny-plan") == run and files(out / "tiny-plan-plan") == plan
    assert (out / "tiny-plan-planned" / "summary.csv").is_file()
    assert sorted(p.name for p in out.iterdir()) == ["tiny-plan", "tiny-plan-plan",
                                                     "tiny-plan-planned"]


def test_symlinked_plan_folder_is_refused(case, tmp_path, capsys):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "keep.txt").write_text("mine")
    out = tmp_path / "out"
    out.mkdir()
    (out / "tiny-plan-plan").symlink_to(outside)
    assert main(["plan", str(case / "plan.toml"), "-o", str(out), "--stage", "primary"]) == 2
    err = capsys.readouterr().err
    assert "symbolic link" in err and "Traceback" not in err
    assert [p.name for p in outside.iterdir()] == ["keep.txt"]
    assert sorted(p.name for p in out.iterdir()) == ["tiny-plan-plan"]


#: `capacity plan` in a child process that says when it reaches a moment and then waits
#: there (in the solver; in the report, the last writer, with the other files already built
#: in the hidden folder), so that the kill lands at that moment.
PLAN_CMD = """
import sys, time
import capacity.plan.run as run, capacity.report.plan_html as html
moment = sys.argv.pop(1)

def pause(real):
    def wrapped(*a, **k):
        print(moment, flush=True)
        time.sleep(60)
        return real(*a, **k)
    return wrapped

if moment == "solving":
    run.plan_stage = pause(run.plan_stage)
if moment == "writing":
    html.write_plan_report = pause(html.write_plan_report)
from capacity.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("moment", ["starting", "solving", "writing"])
def test_killed_plan_leaves_the_previous_plan_intact(case, tmp_path, moment):
    """SIGKILL `capacity plan` while starting, in the solver, and while writing (its hidden
    build folder half full): the previous plan folder is the same byte for byte, and the
    next plan removes the killed one's build folder."""
    out = tmp_path / "plans"
    assert main(["plan", str(case / "plan.toml"), "-o", str(out), "--stage", "primary"]) == 0
    before = files(out / "tiny-plan-plan")
    proc = subprocess.Popen([sys.executable, "-c", PLAN_CMD, moment, "plan",
                             str(case / "plan.toml"), "-o", str(out), "--stage", "primary"],
                            env={**os.environ, "PYTHONPATH": str(ROOT)},
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    if moment == "starting":
        time.sleep(0.3)
    else:
        assert proc.stdout.readline().strip() == moment
    assert proc.poll() is None, "the plan ended before it was killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert files(out / "tiny-plan-plan") == before
    hidden = [p for p in out.iterdir() if p.name.startswith(".")]
    if moment == "writing":
        assert len(hidden) == 1 and (hidden[0] / "plan.csv").is_file()   # half written
    assert main(["plan", str(case / "plan.toml"), "-o", str(out), "--stage", "primary"]) == 0
    assert [p.name for p in out.iterdir()] == ["tiny-plan-plan"]
