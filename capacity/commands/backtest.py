"""``capacity backtest``: project an earlier census to a later one with each stated migration
method and write the errors (backtest.csv) and a chart (backtest.png); docs/cli.md."""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from capacity.commands.inputs import read_life_table, read_targets
from capacity.commands.migration import read_census_pair
from capacity.demography.backtest_methods import METHODS, BacktestRun, run_backtest
from capacity.runfolder import atomic_files

__all__ = ["add_parser", "cmd_backtest", "plot_backtest", "DEFAULT_STAGES"]

DEFAULT_STAGES = {"kindergarten": (3, 5), "primary": (6, 11), "junior": (12, 14),
                  "senior": (15, 17)}


def add_parser(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser("backtest", help="project one census to the next and measure the error")
    b.add_argument("census1", help="earlier census CSV (the start)")
    b.add_argument("census2", help="later census CSV (observed; only its total is used by "
                   "the non-circular methods)")
    src = b.add_mutually_exclusive_group(required=True)
    src.add_argument("--model", help="model folder: survival, SRB, stages, migration.csv")
    src.add_argument("--life-table", help="CSV sex,age,sx (or mx/qx/Lx)")
    b.add_argument("--births", required=True, help="CSV year,births for each year between")
    b.add_argument("--totals", default=None,
                   help="CSV year,total: period totals for the 'profile' method (e.g. "
                        "year-end totals; years from the first census date)")
    b.add_argument("--method", action="append", choices=sorted(METHODS), default=None,
                   help="repeat for several (default: none, profile, residual, and schedule "
                        "with --model)")
    b.add_argument("--circular", action="append", choices=("schedule", "profile"),
                   default=[], help="flag a method as derived from the later census too "
                   "(e.g. schedule, when the model's migration.csv came from these censuses)")
    b.add_argument("-o", "--out", required=True, help="output folder")
    b.set_defaults(func=cmd_backtest)


def cmd_backtest(args: argparse.Namespace) -> int:
    files, c1, c2, births = read_census_pair(args, "backtest")
    years = {"year1": min(births) - 1, "year2": max(births)}
    totals = read_targets(args.totals, "backtest", "--totals", years)[0] if args.totals \
        else None
    schedule, ranges, srb = None, dict(DEFAULT_STAGES), 1.06
    if args.model:
        from capacity.commands.migration import model_arrays
        from capacity.model import load_model

        model = load_model(args.model)
        arr = model_arrays(model, model.base_year + 1)
        sx, srb = arr["sx"], model.srb
        pop = arr["pop0"].sum(axis=(1, 2))
        counts = arr["table_counts"].sum(axis=0)      # migration.csv only, no housing
        rates = None if arr["rates"] is None else \
            np.tensordot(pop / pop.sum(), arr["rates"], axes=1)  # population-weighted
        schedule = (counts, rates)
        ranges = {k: (st.ages[0], st.ages[1]) for k, st in model.stages.items()}
    else:
        sx = read_life_table(args.life_table)
    methods = args.method or (["none", "profile", "residual"] +
                              (["schedule"] if schedule is not None else []))
    if "profile" in methods and not totals and args.method is None:
        methods = [m for m in methods if m != "profile"]
        print("note: method 'profile' left out: it needs --totals (period totals)")
    run = run_backtest(c1, c2, sx, births, srb=srb, methods=methods, totals=totals,
                       schedule=schedule, ranges=ranges, files=files,
                       circular={"residual", *args.circular})
    out = Path(args.out)
    with atomic_files(out, "backtest") as tmp:       # both files, each renamed into place
        run.table.to_csv(tmp / "backtest.csv", index=False, lineterminator="\n")
        plot_backtest(run, tmp / "backtest.png")
    print(format_summary(run))
    print(f"wrote {out / 'backtest.csv'} and {out / 'backtest.png'}")
    return 0


def summary_table(run: BacktestRun) -> pd.DataFrame:
    """One row per method: MAPE over 5-year groups and over the stages (both sexes), error
    of each stage (%) and of the total."""
    t = run.table
    rows = []
    for m, g in t.groupby("method", sort=False):
        both = g[g["sex"] == "both"]
        row = {"method": m, "circular": bool(g["circular"].iloc[0]),
               "MAPE groups": both.loc[both["label"] == "groups", "abs_pct_error"].iloc[0]}
        rng = both[both["scope"] == "range"]
        if len(rng):
            row["MAPE stages"] = both.loc[both["label"] == "ranges", "abs_pct_error"].iloc[0]
            row.update({f"{r.label} %": r.pct_error for r in rng.itertuples()})
        row["total %"] = both.loc[both["scope"] == "total", "pct_error"].iloc[0]
        rows.append(row)
    return pd.DataFrame(rows)


def format_summary(run: BacktestRun) -> str:
    s = summary_table(run)
    lines = [s.to_string(index=False, float_format=lambda v: f"{v:+.1f}")]
    lines += [f"  {m}: {run.notes[m]}" for m in run.notes]
    return "\n".join(lines)


def plot_backtest(run: BacktestRun, path: Path) -> Path:
    """% error by 5-year group (both sexes) per method, and by stage."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = run.table[run.table["sex"] == "both"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5),
                                   gridspec_kw={"width_ratios": [3, 1.3]})
    methods = list(dict.fromkeys(t["method"]))
    for m in methods:
        g = t[(t["method"] == m) & (t["scope"] == "group")]
        style = ":" if g["circular"].any() else "-"
        ax1.plot(g["label"], g["pct_error"], style, marker="o", ms=3,
                 label=m + (" (circular)" if g["circular"].any() else ""))
    ax1.axhline(0, color="grey", lw=0.8)
    ax1.set_ylabel("projected − observed, % of observed")
    ax1.set_xlabel("age group")
    ax1.tick_params(axis="x", rotation=60)
    ax1.legend(fontsize=8)
    r = t[t["scope"] == "range"]
    if len(r):
        labels = list(dict.fromkeys(r["label"]))
        w = 0.8 / max(len(methods), 1)
        for k, m in enumerate(methods):
            v = r[r["method"] == m].set_index("label").reindex(labels)["pct_error"]
            ax2.bar(np.arange(len(labels)) + k * w, v.to_numpy(float), w, label=m)
        ax2.set_xticks(np.arange(len(labels)) + w * (len(methods) - 1) / 2, labels,
                       rotation=30)
        ax2.axhline(0, color="grey", lw=0.8)
        ax2.set_title("school-stage ages, %")
    years = f"{run.table.attrs.get('years', '')}"
    fig.suptitle(f"Backtest {years}: projected from the first census vs the second".strip())
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
    return path
