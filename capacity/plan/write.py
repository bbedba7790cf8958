"""Write a plan into its own folder ``OUT/<scenario>-plan/`` (atomically, as a run folder):
plan.csv, plan_by_year.csv, plan_summary.csv, candidates.csv, plan.xlsx, plan_map.png,
report.html (in the plan's language), manifest.json (the only file with timings) and
plan.toml — a scenario extending the input that adds the plan's schools
and expansions (``[[projects.add]]``), temporary places (``[[repurposed]]`` with ``to_year``)
and transport (``[[transport]]``: the units and years the plan transports)."""
from __future__ import annotations

import json
import math
import os
import re
from pathlib import Path

import pandas as pd

from ..geo import from_wgs84, model_lonlat
from ..runfolder import atomic_folder
from .run import Plan

#: Longest scenario or folder name (capacity.runfolder.is_safe_name).
MAX_NAME = 100
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n",
            "\f": "\\f", "\r": "\\r"}


def plan_name(scenario: str, suffix: str = "-plan") -> str:
    """``<scenario><suffix>``, the scenario's name cut so that the whole stays a valid name
    (at most 100 characters): the plan's folder (``-plan``) and the name of its plan.toml
    (``-planned``: run, it gets a folder of its own beside the plan's and the scenario's)."""
    return scenario[:MAX_NAME - len(suffix)] + suffix


def toml_str(s: str) -> str:
    """A TOML basic string: quotes, backslashes and every control character escaped."""
    return '"' + "".join(_ESCAPES.get(c) or (f"\\u{ord(c):04X}" if c < " " or c == "\x7f" else c)
                         for c in s) + '"'


def toml_key(k: str) -> str:
    """A TOML key: bare when it can be, else quoted."""
    return k if _BARE_KEY.fullmatch(k) else toml_str(k)


def toml_value(v) -> str:
    """A TOML literal for a string, bool, whole or real (finite) number."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"not a finite number: {v}")
        return str(int(v)) if v.is_integer() and abs(v) < 2 ** 53 else repr(v)
    return toml_str(str(v))


def _table(name: str, row: dict) -> list[str]:
    lines = [f"[[{name}]]"]
    for k, v in row.items():
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        lines.append(f"{toml_key(k)} = {toml_value(v.item() if hasattr(v, 'item') else v)}")
    return lines + [""]


def plan_toml(plan: Plan, folder: Path) -> str:
    """The plan as a scenario file in ``folder`` (the plan's final folder: paths are
    relative to it) extending the planned scenario; coordinates in the model's datum."""
    state = plan.state
    scen, model = state.scenario, state.model
    lines = [f"# Written by `capacity plan` from {scen.path.name if scen.path else 'scenario'}: "
             "the input scenario plus the plan's", "# new schools, temporary places and "
             "transport (docs/plan.md). `capacity run` it to see the shortfall after the plan.",
             f"name = {toml_value(plan_name(scen.name, '-planned'))}",
             f"description = {toml_value('Plan of ' + scen.name)}"]
    rel = (lambda p: toml_value(Path(os.path.relpath(p.resolve(), folder.resolve())).as_posix()))
    if scen.path:
        lines.append(f"extends = {rel(scen.path)}")
    else:
        lines += [f"model = {rel(model.path)}", f"horizon = {int(state.years[-1])}"]
    p = plan.plan
    radius = {st: dict(z) for st, z in scen.raw.get("radius_scale", {}).items()}
    for stage, zones in radius.items():
        lines += ["", f"[radius_scale.{toml_key(stage)}]"] + [
            f"{toml_str(str(z))} = {toml_value(float(f))}" for z, f in zones.items()]
    lines.append("")
    scale = {s: model.stages[s].class_size / model.base_class_size.get(s, model.stages[s].class_size)
             for s in model.stages}
    lon, lat = from_wgs84(p["lon"].to_numpy(float), p["lat"].to_numpy(float), model.datum)
    p = p.assign(lon=lon, lat=lat)            # plan.csv's WGS84 as the scenario reads it
    for row in scen.add:                        # arrays replace the parent's: keep them
        lines += _table("projects.add", row)
    for r in p[p["kind"] == "new"].itertuples():
        lines += _table("projects.add", {
            "project_id": r.id, "name": r.name, "kind": "new", "stage": r.stage,
            "lon": float(r.lon), "lat": float(r.lat),
            "places": math.ceil(r.places / scale[r.stage] - 1e-9), "open_year": int(r.open_year),
            "opening": plan.params.stages[r.stage].opening,
            "cost": float(r.cost_cny), "basis": f"capacity plan: {int(r.classes)} classes; {r.basis}"})
    for r in p[p["kind"] == "expansion"].itertuples():
        lines += _table("projects.add", {
            "project_id": r.id, "name": r.name, "kind": "expansion", "stage": r.stage,
            "school_id": r.school_id, "places": math.ceil(r.places / scale[r.stage] - 1e-9),
            "open_year": int(r.open_year), "cost": float(r.cost_cny),
            "basis": f"capacity plan: {int(r.classes)} classes added"})
    for row in scen.repurposed:
        lines += _table("repurposed", row)
    for r in p[p["kind"] == "temporary"].itertuples():
        lines += _table("repurposed", {
            "site_id": r.id, "name": r.name, "stage": r.stage, "lon": float(r.lon),
            "lat": float(r.lat), "places": math.ceil(r.places / scale[r.stage] - 1e-9),
            "from_year": int(r.first_year), "to_year": int(r.last_year),
            "cost": float(r.cost_cny)})
    for row in scen.raw.get("transport", []):   # arrays replace the parent's: keep them
        lines += _table("transport", row)
    for r in plan.transport_units.itertuples():
        lines += _table("transport", {
            "stage": r.stage, "unit_id": str(r.unit_id), "from_year": int(r.from_year),
            "to_year": int(r.to_year),
            "radius_scale": float(plan.params.stages[r.stage].transport_radius_scale)})
    return "\n".join(lines) + "\n"


def plan_lang(plan: Plan, lang: str | None = None) -> str:
    """The plan's language: ``lang`` (``--lang``), else the scenario's, else the model's
    ``[report] lang``, else English — as ``capacity run``."""
    return lang or plan.state.scenario.lang or plan.state.model.lang or "en"


def plan_manifest(plan: Plan) -> dict:
    """manifest.json: the run's manifest (inputs, versions, warnings) with the plan's stages
    and the solver's seconds per stage in ``timings.plan_solve_s``."""
    from ..chain import manifest

    out = manifest(plan.state) | {"command": "plan", "plan_stages": list(plan.timings)}
    out["timings"]["plan_solve_s"] = dict(plan.timings)
    return out


def write_plan(plan: Plan, out: str | Path, lang: str | None = None) -> Path:
    """Write the plan's files into ``out/<scenario>-plan/`` (built beside it, swapped into
    place complete: capacity.runfolder.atomic_folder); returns the folder."""
    from ..report.plan_html import write_plan_report
    from ..names import in_lang
    from ..report.plan_map import unserved_points, write_plan_map
    from ..report.plan_section import plan_names, t, with_name_zh, write_plan_workbook

    lang = plan_lang(plan, lang)
    name = plan_name(plan.state.scenario.name)
    final = Path(out) / name
    with atomic_folder(out, name) as folder:
        with_name_zh(plan.plan, plan_names(plan.state, "zh")).to_csv(folder / "plan.csv",
                                                                     index=False)
        plan.by_year.to_csv(folder / "plan_by_year.csv", index=False)
        plan.summary.to_csv(folder / "plan_summary.csv", index=False)
        plan.unserved.to_csv(folder / "plan_unserved.csv", index=False)
        plan.use.to_csv(folder / "plan_use.csv", index=False)
        risk = [r.draws.assign(stage=s) for s, r in plan.results.items() if r.draws is not None]
        if risk:
            pd.concat(risk, ignore_index=True)[["stage", "year", "p_shortfall",
                                                "unserved_mean", "unserved_p80"]].to_csv(
                folder / "plan_risk.csv", index=False)
        cands = [c.assign(sizes=c["sizes"].map(lambda s: " ".join(map(str, s))))
                 for c in plan.candidates.values() if len(c)]
        cand = pd.concat(cands, ignore_index=True) if cands else pd.DataFrame()
        if cands:                  # WGS84 degrees, also for a site given in metres
            lon, lat = model_lonlat(cand["x"].to_numpy(float), cand["y"].to_numpy(float),
                                    plan.state.model.crs, "wgs84")
            cand = cand.assign(lon=lon, lat=lat).drop(columns=["x", "y"])
        if cands:
            cand.to_csv(folder / "candidates.csv", index=False)
        (folder / "plan.toml").write_text(plan_toml(plan, final), encoding="utf-8")
        write_plan_workbook(folder, plan.summary, plan.plan, plan.by_year, cand, lang,
                            names=plan_names(plan.state, lang))
        scenario = in_lang(plan.state.scenario.name, plan.state.scenario.name_zh, lang)
        write_plan_map(folder, plan.state.model.zones, plan.plan,
                       f"{scenario}: {t('map_title', lang)}", lang,
                       plan_names(plan.state, lang), unserved_points(plan))
        write_plan_report(plan, folder, lang)
        (folder / "manifest.json").write_text(json.dumps(
            plan_manifest(plan), indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    return final
