"""The plan's section for people: ``plan.xlsx`` (summary, options, spending by year,
candidates) and ``plan_map.png`` (the chosen sites over the zones)."""
from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

KIND_STYLE = {"new": ("o", 60), "temporary": ("s", 18)}


def spending_table(by_year: pd.DataFrame) -> pd.DataFrame:
    """Year × (stage, kind) spending in 100 million CNY (亿元), with a total column."""
    if by_year.empty:
        return pd.DataFrame(columns=["year", "total_yi_cny"])
    wide = by_year.pivot_table(index="year", columns=["stage", "kind"], values="cost_cny",
                               aggfunc="sum", fill_value=0.0) / 1e8
    wide.columns = [f"{s}_{k}_yi_cny" for s, k in wide.columns]
    wide["total_yi_cny"] = wide.sum(axis=1)
    return wide.reset_index()


def write_plan_workbook(folder: Path, summary: pd.DataFrame, plan: pd.DataFrame,
                        by_year: pd.DataFrame, candidates: pd.DataFrame) -> Path:
    """plan.xlsx: one sheet per table (machine column names, as in the CSV files)."""
    path = folder / "plan.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        summary.to_excel(xl, sheet_name="summary", index=False)
        plan.to_excel(xl, sheet_name="plan", index=False)
        spending_table(by_year).to_excel(xl, sheet_name="spending_by_year", index=False)
        candidates.to_excel(xl, sheet_name="candidates", index=False)
    return path


def write_plan_map(folder: Path, zones: gpd.GeoDataFrame, plan: pd.DataFrame,
                   title: str) -> Path:
    """plan_map.png: zones, new schools (circles, by stage) and temporary places (squares)."""
    fig, ax = plt.subplots(figsize=(8, 8))
    zones.to_crs("EPSG:4326").boundary.plot(ax=ax, color="0.6", linewidth=0.6)
    colours = dict(zip(sorted(plan["stage"].unique()), plt.cm.tab10.colors))
    for (stage, kind), g in plan[plan["kind"].isin(list(KIND_STYLE))].groupby(
            ["stage", "kind"]):
        marker, size = KIND_STYLE[kind]
        ax.scatter(g["lon"], g["lat"], s=size, marker=marker, color=colours[stage],
                   edgecolor="black", linewidth=0.4, label=f"{stage}: {kind} ({len(g)})")
    ax.set_title(title)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    if len(plan):
        ax.legend(loc="lower left", fontsize=8)
    path = folder / "plan_map.png"
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path
