"""The money views of the budget: the action list with its totals (``cost``), the cost by
year with its total row, their Excel formulas (``SUMIFS`` over the lines) and the words
their sheets show — all from the one costing (:func:`.recommend.costing`; docs/outputs.md,
"One costing")."""
from __future__ import annotations

import pandas as pd

from . import labels as L
from .recommend import DISTRICT_ID

TOTAL_ID = "TOTAL"
TOTAL_NAME = "District total"   # zone_name of the total rows in the CSV (labelled in sheets)


def cost_view(actions: pd.DataFrame, stages: list[str]) -> pd.DataFrame:
    """The action list (:func:`.recommend.costing`) with a district total per stage and
    for all stages (id ``TOTAL``, stage ``all``), and the cost also in 万元 and 亿元."""
    per_stage = actions.groupby("stage", sort=False, as_index=False)["cost_cny"].sum()
    order = [s for s in stages if s in set(per_stage["stage"])]
    per_stage = per_stage.set_index("stage").reindex(order).reset_index()
    grand = pd.DataFrame({"stage": ["all"], "cost_cny": [float(actions["cost_cny"].sum())]})
    totals = pd.concat([per_stage, grand], ignore_index=True).assign(
        id=TOTAL_ID, zone_name=TOTAL_NAME)
    c = pd.concat([actions, totals.reindex(columns=actions.columns)], ignore_index=True)
    c = c.astype({col: actions[col].dtype for col in actions.columns})
    c["cost_wan_cny"] = c["cost_cny"] / 1e4
    c["cost_yi_cny"] = c["cost_cny"] / 1e8
    return c[[*[x for x in c.columns if x != "basis"], "basis"]]


def with_total(by_year: pd.DataFrame) -> pd.DataFrame:
    """The cost-by-year table with a last row (stage ``all``) holding the total."""
    total = pd.DataFrame({"stage": ["all"], "cost_cny": [float(by_year["cost_cny"].sum())]})
    out = pd.concat([by_year, total.reindex(columns=by_year.columns)], ignore_index=True)
    return out.astype({c: by_year[c].dtype for c in by_year.columns if c != "year"})


def money_sheets(cost: pd.DataFrame, by_year: pd.DataFrame, rec: pd.DataFrame, lang: str
                 ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The cost, cost-by-year and recommendation sheets in ``lang``: the district-wide
    unit and the total rows named, the basis and the kinds of action as words."""
    def words(col: pd.Series) -> pd.Series:
        return col.map(lambda v: L.word(v, lang) if pd.notna(v) else v).astype("string")

    def district(frame: pd.DataFrame) -> pd.Series:
        return frame["zone_name"].mask(frame["zone_id"] == DISTRICT_ID,
                                       L.word("district_wide", lang))

    total = cost["id"] == TOTAL_ID
    cost = cost.assign(zone_name=district(cost).mask(total, L.word("district_total", lang)),
                       basis=words(cost["basis"]))
    kinds = rec["recommendation"].map(lambda v: " + ".join(
        L.word("no_action" if k == "none" else k, lang) for k in str(v).split(" + ")))
    return cost, by_year, rec.assign(zone_name=district(rec), recommendation=kinds)


def year_words(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``year_status`` (observed / estimated / projected) as words of ``lang``."""
    if "year_status" not in frame.columns:
        return frame
    return frame.assign(year_status=frame["year_status"].map(
        lambda v: L.word(v, lang) if pd.notna(v) else v).astype("string"))


def cost_formulas(cost: pd.DataFrame) -> pd.DataFrame:
    """Excel formula templates of the cost sheet (:mod:`.workbook`): each stage's total is
    the SUMIFS of its line items, the grand total the SUMIFS of the stage totals; 万元 and
    亿元 follow the CNY cost."""
    out = pd.DataFrame(None, index=cost.index, columns=["cost_cny", "cost_wan_cny",
                                                        "cost_yi_cny"], dtype=object)
    total = cost["id"] == TOTAL_ID
    out.loc[total & (cost["stage"] != "all"), "cost_cny"] = (
        '=SUMIFS({cost_cny:all},{stage:all},{stage},{id:all},"<>"&{id})')
    out.loc[total & (cost["stage"] == "all"), "cost_cny"] = (
        '=SUMIFS({cost_cny:all},{id:all},{id},{stage:all},"<>"&{stage})')
    out["cost_wan_cny"] = "={cost_cny}/10000"
    out["cost_yi_cny"] = "={cost_cny}/100000000"
    return out


def by_year_formulas(by_year: pd.DataFrame) -> pd.DataFrame:
    """Formula templates of the cost-by-year sheet: its total row (stage ``all``) is the
    SUMIFS of every other row."""
    out = pd.DataFrame(None, index=by_year.index, columns=["cost_cny"], dtype=object)
    out.loc[by_year["stage"] == "all", "cost_cny"] = (
        '=SUMIFS({cost_cny:all},{stage:all},"<>"&{stage})')
    return out
