"""Write a plan: plan.csv, plan_by_year.csv, plan_summary.csv, candidates.csv, plan.xlsx,
plan_map.png, report.html (in the plan's language) and plan.toml —
a scenario extending the input that adds the plan's schools (``[[projects.add]]``),
temporary places (``[[repurposed]]`` with ``to_year``) and transport (``[radius_scale]``)."""
from __future__ import annotations

import math
import os
from pathlib import Path

import pandas as pd

from .run import Plan


def toml_value(v) -> str:
    """A TOML literal for a string, bool, whole or real number."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    s = str(v).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{s}"'


def _table(name: str, row: dict) -> list[str]:
    lines = [f"[[{name}]]"]
    for k, v in row.items():
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        lines.append(f"{k} = {toml_value(v.item() if hasattr(v, 'item') else v)}")
    return lines + [""]


def plan_toml(plan: Plan, folder: Path) -> str:
    """The plan as a scenario file in ``folder`` extending the planned scenario."""
    state = plan.state
    scen, model = state.scenario, state.model
    lines = [f"# Written by `capacity plan` from {scen.path.name if scen.path else 'scenario'}: "
             "the input scenario plus the plan's", "# new schools, temporary places and "
             "transport (docs/plan.md). `capacity run` it to see the shortfall after the plan.",
             f"name = {toml_value(scen.name + '-plan')}",
             f"description = {toml_value('Plan of ' + scen.name)}"]
    if scen.path:
        lines.append(f"extends = {toml_value(os.path.relpath(scen.path.resolve(), folder.resolve()))}")
    else:
        lines += [f"model = {toml_value(os.path.relpath(model.path.resolve(), folder.resolve()))}",
                  f"horizon = {int(state.years[-1])}"]
    radius = {st: dict(z) for st, z in scen.raw.get("radius_scale", {}).items()}
    p = plan.plan
    for r in p[p["kind"] == "transport"].itertuples():
        radius.setdefault(r.stage, {})[r.zone_id] = float(r.radius_scale) * float(
            radius.get(r.stage, {}).get(r.zone_id, 1.0))
    for stage, zones in radius.items():
        lines += ["", f"[radius_scale.{stage}]"] + [f"{toml_value(z)} = {toml_value(float(f))}"
                                                    for z, f in zones.items()]
    lines.append("")
    scale = {s: model.stages[s].class_size / model.base_class_size.get(s, model.stages[s].class_size)
             for s in model.stages}
    for row in scen.add:                        # arrays replace the parent's: keep them
        lines += _table("projects.add", row)
    for r in p[p["kind"] == "new"].itertuples():
        lines += _table("projects.add", {
            "project_id": r.id, "name": r.name, "kind": "new", "stage": r.stage,
            "lon": float(r.lon), "lat": float(r.lat),
            "places": math.ceil(r.places / scale[r.stage] - 1e-9), "open_year": int(r.open_year),
            "cost": float(r.cost_cny), "basis": f"capacity plan: {r.classes} classes; {r.basis}"})
    for row in scen.repurposed:
        lines += _table("repurposed", row)
    for r in p[p["kind"] == "temporary"].itertuples():
        lines += _table("repurposed", {
            "site_id": r.id, "name": r.name, "stage": r.stage, "lon": float(r.lon),
            "lat": float(r.lat), "places": math.ceil(r.places / scale[r.stage] - 1e-9),
            "from_year": int(r.first_year), "to_year": int(r.last_year),
            "cost": float(r.cost_cny)})
    return "\n".join(lines) + "\n"


def plan_lang(plan: Plan, lang: str | None = None) -> str:
    """The plan's language: ``lang`` (``--lang``), else the scenario's, else the model's
    ``[report] lang``, else English — as ``capacity run``."""
    return lang or plan.state.scenario.lang or plan.state.model.lang or "en"


def write_plan(plan: Plan, out: str | Path, lang: str | None = None) -> Path:
    """Write the plan's files into ``out/<scenario>/``; returns the folder."""
    from ..report.plan_html import write_plan_report
    from ..report.plan_section import t, write_plan_map, write_plan_workbook

    lang = plan_lang(plan, lang)
    folder = Path(out) / plan.state.scenario.name
    folder.mkdir(parents=True, exist_ok=True)
    plan.plan.to_csv(folder / "plan.csv", index=False)
    plan.by_year.to_csv(folder / "plan_by_year.csv", index=False)
    plan.summary.to_csv(folder / "plan_summary.csv", index=False)
    cands = [c.assign(sizes=c["sizes"].map(lambda s: " ".join(map(str, s))))
             for c in plan.candidates.values() if len(c)]
    cand = pd.concat(cands, ignore_index=True).drop(columns=["x", "y"]) if cands \
        else pd.DataFrame()
    if cands:
        cand.to_csv(folder / "candidates.csv", index=False)
    (folder / "plan.toml").write_text(plan_toml(plan, folder), encoding="utf-8")
    write_plan_workbook(folder, plan.summary, plan.plan, plan.by_year, cand, lang)
    write_plan_map(folder, plan.state.model.zones, plan.plan,
                   f"{plan.state.scenario.name}: {t('map_title', lang)}", lang)
    write_plan_report(plan, folder, lang)
    return folder
