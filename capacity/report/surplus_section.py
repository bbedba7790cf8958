"""The run report's section on surplus places (the conversion question): per stage, places
beside demand at the horizon, the schools and zones with a lasting surplus and the places
they could free, from surplus.csv and surplus_zones.csv (:mod:`capacity.surplus`)."""
from __future__ import annotations

import html

import pandas as pd

from . import labels as L
from .catchment import names_of
from .modes_section import number


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _t(key: str, lang: str, **fields) -> str:
    return L.text("surplus", key, lang, **fields)


def surplus_rows(result) -> pd.DataFrame:
    """Per stage at the horizon: stage, year, places, demand, places_minus_demand,
    schools (school-stages with a lasting surplus), freeable_places (their sum), zones
    (zone-stages with a lasting surplus) and top_zones (zone ids, most spare first)."""
    zones, schools = result.tables.get("surplus_zones"), result.tables.get("surplus")
    if zones is None or zones.empty:
        return pd.DataFrame()
    last = int(zones["year"].max())
    z = zones[zones["year"] == last]
    out = []
    for stage, g in z.groupby("stage", sort=False):
        s = schools[(schools["stage"] == stage) & (schools["year"] == last)] \
            if schools is not None and len(schools) else pd.DataFrame(columns=["school_id"])
        lasting = g[g["first_year_lasting"].notna()].sort_values("spare_places",
                                                                 ascending=False)
        out.append({"stage": stage, "year": last, "places": int(g["places"].sum()),
                    "demand": int(g["demand"].sum()),
                    "places_minus_demand": int(g["places_minus_demand"].sum()),
                    "schools": int(s["school_id"].nunique()),
                    "freeable_places": int(s["freeable_places"].sum()) if len(s) else 0,
                    "zones": len(lasting), "top_zones": list(lasting["zone_id"].head(3))})
    return pd.DataFrame(out)


def surplus_section(p) -> str:
    """The conversion question: "which places exceed demand by the horizon, for good?"."""
    rows = surplus_rows(p.result)
    if rows.empty:
        return ""
    lang = p.lang
    rule = p.result.manifest.get("surplus") or {}
    share, years = rule.get("share", 0.2), rule.get("years", 3)
    names = names_of(p.result, "zone", lang)
    order = {s: i for i, s in enumerate(p.stages)}
    rows = rows.assign(_o=rows["stage"].map(order).fillna(len(order)).astype(float)) \
        .sort_values("_o")
    lead = [_t("exceeds", lang, stage=_e(L.stage_label(str(r.stage), lang)), year=r.year,
               n=number(r.places_minus_demand), schools=number(r.schools),
               freeable=number(r.freeable_places))
            for r in rows.itertuples() if r.places_minus_demand > 0]
    cols = ["th_places", "th_demand", "th_balance", "th_schools", "th_freeable", "th_zones"]
    head = (f"<tr><th>{p.t('th_stage')}</th>"
            + "".join(f"<th class='n'>{_e(_t(c, lang, year=int(rows['year'].iloc[0])))}</th>"
                      for c in cols) + f"<th>{_e(_t('th_top_zones', lang))}</th></tr>")
    body = "".join(
        f"<tr><td>{_e(L.stage_label(str(r.stage), lang))}</td>"
        + "".join(f"<td class='n'>{number(v)}</td>" for v in (
            r.places, r.demand, r.places_minus_demand, r.schools, r.freeable_places, r.zones))
        + f"<td>{_e(', '.join(names.get(str(z), str(z)) for z in r.top_zones))}</td></tr>"
        for r in rows.itertuples())
    return (f"<h2 id='surplus'>{_e(_t('heading', lang))}</h2>"
            + "".join(f"<p>{x}</p>" for x in lead)
            + f"<div class='scroll'><table>{head}{body}</table></div>"
            + f"<p class='note'>{_t('note', lang, share=number(100 * share), years=years)}</p>")
