"""Names of zones, schools and key projects in every language the model gives.

A run keeps one small table, ``names`` (kind, id, name, name_zh), so that reports in Chinese
can show the model's ``name_zh`` columns (zones.geojson, schools.csv, projects.csv) without
the contract tables changing. The name shown in a language is, in order: ``name_<lang>``
when given (``zh``), else ``name``, else the id (:func:`display_names`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from .model import Model
    from .supply import Supply

#: Columns of the ``names`` table.
COLUMNS = ["kind", "id", "name", "name_zh"]


def _part(kind: str, frame: pd.DataFrame | None, id_col: str) -> pd.DataFrame:
    if frame is None or not len(frame) or id_col not in frame.columns:
        return pd.DataFrame(columns=COLUMNS)
    return pd.DataFrame({
        "kind": kind, "id": frame[id_col].astype("string").to_numpy(),
        "name": (frame["name"] if "name" in frame.columns else frame[id_col])
        .astype("string").to_numpy(),
        "name_zh": (frame["name_zh"] if "name_zh" in frame.columns
                    else pd.Series(pd.NA, index=frame.index)).astype("string").to_numpy()})


def names_table(model: "Model", supply: "Supply | None") -> pd.DataFrame:
    """Zones, schools (existing and new sites) and key projects: kind, id, name, name_zh."""
    schools = model.schools
    if supply is not None and len(supply.sites):   # + new and repurposed sites (no name_zh)
        sites = supply.sites.drop_duplicates("school_id")
        zh = dict(zip(supply.projects["project_id"], supply.projects.get(
            "name_zh", pd.Series(pd.NA, index=supply.projects.index))))
        sites = sites.assign(name_zh=sites["school_id"].map(zh))
        schools = pd.concat([schools, sites[~sites["school_id"].isin(schools["school_id"])]])
    parts = [_part("zone", model.zones, "zone_id"), _part("school", schools, "school_id"),
             _part("project", supply.projects if supply is not None else model.projects,
                   "project_id")]
    out = pd.concat([p for p in parts if len(p)] or [parts[0]], ignore_index=True)
    return out.drop_duplicates(["kind", "id"]).reset_index(drop=True)


def display_names(names: pd.DataFrame, kind: str, lang: str = "en") -> dict[str, str]:
    """id → the name to show in ``lang``: ``name_<lang>``, else ``name``, else the id."""
    sub = names[names["kind"] == kind] if len(names) else names
    if not len(sub):
        return {}
    shown = sub["id"].astype("string")
    if "name" in sub:
        shown = sub["name"].astype("string").mask(lambda s: s.str.strip() == "").fillna(shown)
    own = f"name_{lang}"
    if lang != "en" and own in sub:
        shown = sub[own].astype("string").mask(lambda s: s.str.strip() == "").fillna(shown)
    return dict(zip(sub["id"].astype(str), shown.astype(str)))


def in_lang(text: str | None, text_zh: str | None, lang: str) -> str:
    """``text_zh`` in Chinese when given (not blank), else ``text`` (else "")."""
    if lang == "zh" and text_zh and str(text_zh).strip():
        return str(text_zh)
    return str(text or "")


def scenario_name(manifest: dict, lang: str) -> str:
    """A run's or ensemble's scenario name in ``lang`` (its ``name_zh`` in Chinese)."""
    return in_lang(manifest.get("scenario"), manifest.get("scenario_zh"), lang)


def model_name(manifest: dict, lang: str) -> str:
    """A run's model name in ``lang`` (model.toml ``name_zh`` in Chinese)."""
    return in_lang(manifest.get("model"), manifest.get("model_zh"), lang)
