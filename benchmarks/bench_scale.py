"""Scale benchmark: the whole chain on Beijing-shaped models of 20k–100k demand units.

For each size, a model is generated (``benchmarks/scale_model.py``: 330 zones over a
100 km square, N units, 3 % of N schools per stage, one key project per 500 units, horizon
2035) and run in a **fresh subprocess** — so each size has its own peak memory
(``ru_maxrss``) — through ``Chain(scenario).run()`` (every step, both allocation modes,
criticality), then written with ``Result.write`` (tables, no maps) and again with the CLI's
writers without maps (adds the budget workbook).

Printed per size: each phase's compute time from the manifest's timings, the write times
(tables as Parquet, the format for large districts), peak RSS, the number of criticality
cases, the size of allocation.parquet, and — to show what the optimal mode costs against
the solver — the registered optimal rule re-timed on the first, middle and last year of
each stage interleaved with a bare OR-Tools min-cost-flow solve of the same stage-year on
all its arcs (rebuilt with ``Arcs.build``; graph build + solve + read flows, as
``bench_allocation.bare_mcf``; best of ``--repeat`` each), and their ratio (below 1 where
the rule prices a large network instead of solving all of it). The two
allocation modes are timed apart by passing the registered rules to the chain through thin
timing wrappers (same names, same calls, the rules' fast paths kept); the same wrappers
count the criticality re-solves. Then the targets, with PASS/FAIL: the 100k-unit model's
full run (compute + table write) under 5 minutes and 4 GB; the Tongzhou baseline with every
output (``capacity run scenarios/baseline.toml``, wall clock of the command, best of N)
under 5 s, printed with the command's CPU seconds (its worker processes included), its
split into start-up, compute and writing, and each write job's wall-clock and CPU seconds
(the manifest's ``timings``): timings on a shared machine are noisy, CPU seconds less so.
``--tongzhou-only`` times just that run (``--tongzhou-repeat N``, default 3).

Run: ``python benchmarks/bench_scale.py [--units 20000 50000 100000] [--workers K]
[--quick]``. ``--quick`` runs 5,000 units in well under a minute (the Tongzhou baseline
only with ``--tongzhou``, once). A size that runs longer than ``--timeout`` seconds
(default 900) is killed and reported with what it finished (its steps' timings, the
criticality solves done), and larger sizes are skipped, as they are after a size whose
full run takes over ``--skip-after`` seconds (default 600). ``--workers K`` is passed to
the chain (default: every core). The load average beside each size shows how busy the
machine was.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_allocation import bare_mcf  # noqa: E402
from scale_model import write_scale_case  # noqa: E402

MB = 1024.0 ** 2
PHASES = ("projection", "demand", "supply", "distances", "allocation", "tables",
          "criticality")
TARGET_UNITS, TARGET_S, TARGET_GB, TONGZHOU_S = 100_000, 300.0, 4.0, 5.0
QUICK_UNITS = 5_000
FORMAT = "parquet"      # the run folder's tables at Beijing scale (--format parquet)
BARE_YEARS = 3          # stage-years per stage re-solved bare (first, middle, last year)


# -- the child: one size, one process -------------------------------------------------------
def maxrss_bytes() -> int:
    """Peak resident set size of this process so far (Linux: KiB, macOS: bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def child(scenario: Path, out: Path, workers: int | None, repeat: int,
          partial: Path | None = None) -> dict:
    """Run, write and measure one scenario; return the figures (JSON-able).

    On SIGTERM (the parent's timeout) the figures so far are written to ``partial``:
    the finished steps' timings, the allocation calls made, the peak memory so far.
    """
    from capacity import allocate as alloc_mod
    from capacity.allocate import COST_RESOLUTION_M, Arcs
    from capacity.chain import Chain
    from capacity.cli import writers_for
    from capacity.distances import stage_radius
    from capacity.registry import ALLOCATORS

    t_start = time.perf_counter()
    phase = {"now": "allocation"}
    calls: dict[tuple[str, str], list[float]] = {}
    by_stage: dict[str, list[float]] = {}      # "phase/mode/stage" -> [calls, seconds]
    captured: dict[str, object] = {}

    def timed(name: str):
        rule = ALLOCATORS.get(name)

        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            out_ = rule(*args, **kwargs)
            dt = time.perf_counter() - t
            calls.setdefault((phase["now"], name), []).append(dt)
            stages = {id(a): st for st, a in captured["state"].arcs.items()}
            acc = by_stage.setdefault(f"{phase['now']}/{name}/{stages.get(id(args[0]), '?')}",
                                      [0, 0.0])
            acc[0] += 1
            acc[1] += dt
            return out_
        wrapper.__name__ = name
        wrapper.__dict__.update(rule.__dict__)   # the rule's fast paths (criticality's
        return wrapper                           # served count and re-routing)

    def allocation_step(state):
        captured["state"] = state
        phase["now"] = "allocation"
        alloc_mod.allocation(state)
        phase["now"] = "criticality"

    def say(msg: str) -> None:
        print(f"  [{time.perf_counter() - t_start:7.1f} s] {msg}", file=sys.stderr, flush=True)
        if msg.startswith("criticality"):
            captured["crit_start"] = time.perf_counter()

    def so_far() -> dict:
        """The figures available mid-run (after a timeout)."""
        state = captured.get("state")
        fig: dict = {"elapsed_s": time.perf_counter() - t_start, "rss_run": maxrss_bytes()}
        if state is None:
            return fig
        timings = dict(state.timings)
        if "crit_start" in captured:
            spent = time.perf_counter() - captured["crit_start"]
            timings["criticality_s"] = f"> {spent:.0f} (killed)"
        timings["total_s"] = f"> {fig['elapsed_s']:.0f} (killed)"
        years = np.asarray(state.years)
        projects = state.supply.projects
        if "crit_start" in captured:
            fig["crit_solves_s"] = sum(sum(v) for (ph, _), v in calls.items()
                                       if ph == "criticality")
        fig.update(timings=timings, units=int(state.units.shape[0]),
                   zones=int(len(state.model.zones)),
                   schools=int((state.supply.sites["kind"] == "existing").sum()),
                   projects=int(len(projects)),
                   arcs={k: int(len(a)) for k, a in state.arcs.items()},
                   optimal_alloc_s=total("allocation", "optimal"),
                   catchment_alloc_s=total("allocation", "catchment"),
                   optimal_solves=len(calls.get(("allocation", "optimal"), [])),
                   by_stage=by_stage, crit_expected=expected_by_stage(state),
                   crit_solves=state.solves.get("criticality", sum(
                       len(v) for (ph, _), v in calls.items() if ph == "criticality")),
                   crit_solves_derived=int(sum((years >= int(y)).sum()
                                               for y in projects["open_year"])))
        return fig

    def total(ph, mode):
        return float(sum(calls.get((ph, mode), [])))

    def expected_by_stage(state) -> dict[str, int]:
        """Criticality re-solves per stage: a project's years from its opening year."""
        years = np.asarray(state.years)
        p = state.supply.projects
        return {st: int(sum((years >= int(y)).sum()
                            for y in p.loc[p["stage"] == st, "open_year"]))
                for st in state.stage_names}

    if partial is not None:
        import signal

        def on_term(signum, frame):
            partial.write_text(json.dumps(so_far(), indent=1))
            os._exit(3)
        signal.signal(signal.SIGTERM, on_term)

    kwargs = {}
    fields = {f.name for f in dataclasses.fields(Chain)}
    if workers is not None and "workers" in fields:
        kwargs["workers"] = workers
    chain = Chain(scenario, modes=tuple(timed(m) for m in ALLOCATORS.names()),
                  steps={"allocation": allocation_step}, post=("criticality",),
                  progress=say, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = chain.run()
    rss_run = maxrss_bytes()
    t = time.perf_counter()
    folder = result.write(out / "tables", format=FORMAT)
    t_write = time.perf_counter() - t
    rss_write = maxrss_bytes()
    say("writing with the CLI's writers (no maps)")
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result.write(out / "cli", writers=writers_for(result, maps=False))
    t_write_cli = time.perf_counter() - t
    rss_cli = maxrss_bytes()
    alloc_file = folder / f"allocation.{FORMAT}"

    # bare OR-Tools on the same stage-years: arcs rebuilt with Arcs.build (untimed)
    say("bare OR-Tools min-cost flow on the same arcs")
    (out / "bare.started").touch()      # the parent's memory sampling ends here
    state = captured["state"]
    unit_xy = state.units[["x", "y"]].to_numpy()
    sites = state.supply.sites
    optimal = ALLOCATORS.get("optimal")
    t_bare, t_rule, arcs_n, solves = 0.0, 0.0, {}, 0
    for k, stage in enumerate(state.stage_names):
        sel = (sites["stage"] == stage).to_numpy()
        arcs = Arcs.build(unit_xy, sites.loc[sel, ["x", "y"]].to_numpy(),
                          stage_radius(state, stage))
        arcs_n[stage] = len(arcs)
        n_u = arcs.n_units
        places_all = state.supply.places[sel]
        for y in np.unique(np.linspace(0, len(state.years) - 1, BARE_YEARS).astype(int)):
            demand = state.unit_pupils[y, k].astype(np.int64)
            places = places_all[:, y].astype(np.int64)
            use = (demand[arcs.unit] > 0) & (places[arcs.school] > 0)
            u, s = arcs.unit[use], arcs.school[use]
            if not len(u):
                continue
            tails = u.astype(np.int32)
            heads = (n_u + s).astype(np.int32)
            caps = np.minimum(demand[u], places[s])
            costs = np.rint(arcs.distance[use] / COST_RESOLUTION_M).astype(np.int64)
            supplies = np.concatenate([demand, -places]).astype(np.int64)
            best, best_rule = np.inf, np.inf
            for _ in range(repeat):   # interleaved: the same load on both
                t = time.perf_counter()
                flow, _, _ = bare_mcf(tails, heads, caps, costs, supplies)
                best = min(best, time.perf_counter() - t)
                t = time.perf_counter()
                optimal(arcs, demand, places, open_mask=places > 0)
                best_rule = min(best_rule, time.perf_counter() - t)
            t_bare += best
            t_rule += best_rule
            solves += 1
            served = int(state.allocations[(stage, "optimal")][y].pupils.sum())
            assert flow == served, (stage, y, flow, served)

    timings = result.manifest["timings"]
    crit_solves = result.manifest.get("solves", {}).get("criticality", 0)
    n_proj = len(result.projects) if result.projects is not None else 0
    years = np.asarray(state.years)
    derived = int(sum((years >= int(y)).sum() for y in result.projects["open_year"])) \
        if n_proj else 0
    return {
        "units": int(state.units.shape[0]), "zones": int(len(state.model.zones)),
        "schools": int((sites["kind"] == "existing").sum()), "projects": n_proj,
        "years": int(len(years)),
        "population": float(result.population.query(f"year == {int(years[0])}")
                            ["population"].sum()),
        "arcs": arcs_n,
        "timings": timings,
        "optimal_alloc_s": total("allocation", "optimal"),
        "catchment_alloc_s": total("allocation", "catchment"),
        "optimal_solves": len(calls.get(("allocation", "optimal"), [])),
        "by_stage": by_stage, "crit_expected": expected_by_stage(state),
        "crit_solves": crit_solves, "crit_solves_derived": derived,
        "write_s": t_write, "write_cli_s": t_write_cli,
        "rss_run": rss_run, "rss_write": rss_write, "rss_cli": rss_cli,
        "alloc_bytes": alloc_file.stat().st_size, "format": FORMAT,
        "alloc_rows": int(len(result.allocation)),
        "bare_mcf_s": t_bare, "bare_solves": solves, "bare_repeat": repeat,
        "optimal_retimed_s": t_rule,
        "workers": kwargs.get("workers"), "workers_asked": workers,
    }


# -- the parent: generate, spawn, tabulate ---------------------------------------------------
class TreeMemory:
    """Peak memory of a process and all its descendants (its forked workers): the sum of
    their proportional set sizes (PSS: a page shared by k processes counts 1/k in each),
    sampled from /proc every ``every`` seconds — what the run needs of the machine's RAM —
    until the file ``stop`` appears (the benchmark's own re-solves start). Without /proc
    (not Linux) it stays 0."""

    def __init__(self, pid: int, every: float = 0.5, stop: Path | None = None) -> None:
        self.pid, self.every, self.peak, self.when, self.stop = pid, every, 0, 0.0, stop
        self.t0 = time.perf_counter()

    def _tree(self) -> list[int]:
        kids: dict[int, list[int]] = {}
        for d in Path("/proc").iterdir():
            if d.name.isdigit():
                try:
                    ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                kids.setdefault(ppid, []).append(int(d.name))
        out, todo = [], [self.pid]
        while todo:
            p = todo.pop()
            out.append(p)
            todo += kids.get(p, [])
        return out

    def sample(self) -> None:
        total = 0
        for p in self._tree():
            try:
                for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
            except OSError:
                continue
        if total > self.peak:
            self.peak, self.when = total, time.perf_counter() - self.t0

    def wait(self, proc: subprocess.Popen, timeout: float) -> int:
        """``proc.wait(timeout)``, sampling meanwhile."""
        end = time.perf_counter() + timeout
        while True:
            if Path("/proc").is_dir() and not (self.stop and self.stop.exists()):
                self.sample()
            try:
                return proc.wait(timeout=self.every)
            except subprocess.TimeoutExpired:
                if time.perf_counter() > end:
                    raise


def run_size(n_units: int, workers: int | None, timeout: float, repeat: int,
             keep: Path | None) -> dict:
    """Generate the model, run the child on it; the child's figures (or a failure)."""
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-scale-{n_units}-"))
    try:
        t = time.perf_counter()
        model, scenario = write_scale_case(tmp / "case", units=n_units)
        gen_s = time.perf_counter() - t
        print(f"{n_units:,} units: generated in {gen_s:.1f} s: {model.describe()}",
              file=sys.stderr, flush=True)
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(scenario),
               "--out", str(tmp / "out"), "--json", str(tmp / "figures.json"),
               "--partial", str(tmp / "partial.json"),
               "--repeat", str(repeat)]
        if workers is not None:
            cmd += ["--workers", str(workers)]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])}
        load0 = os.getloadavg()[0]
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env)
        peak = TreeMemory(proc.pid, stop=tmp / "out" / "bare.started")
        try:
            rc = peak.wait(proc, timeout)
        except subprocess.TimeoutExpired:
            proc.terminate()            # the child writes its figures so far, then exits
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            fig = {"units": n_units, "failed": f"killed after {timeout:.0f} s",
                   "wall_s": time.perf_counter() - t, "gen_s": gen_s,
                   "load": [load0, os.getloadavg()[0]]}
            if (tmp / "partial.json").is_file():
                fig["partial"] = json.loads((tmp / "partial.json").read_text())
            return fig
        wall = time.perf_counter() - t
        if rc != 0:
            return {"units": n_units, "failed": f"exit code {rc}", "wall_s": wall,
                    "gen_s": gen_s}
        fig = json.loads((tmp / "figures.json").read_text())
        fig.update(gen_s=gen_s, wall_s=wall, tree_pss=peak.peak, tree_pss_at=peak.when, model=model.describe(),
                   load=[load0, os.getloadavg()[0]],
                   places={k: int(v) for k, v in model.places.items()})
        return fig
    finally:
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            dest = keep / f"scale-{n_units}"
            shutil.rmtree(dest, ignore_errors=True)
            shutil.move(str(tmp), dest)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def tongzhou(repeat: int) -> dict:
    """``capacity run scenarios/baseline.toml`` (every output) in a subprocess, ``repeat``
    times: wall clock and CPU seconds (the command and its worker processes) of each run;
    of the fastest, the manifest's compute and write totals and each write job's wall-clock
    and CPU seconds (``manifest["timings"]["write"]``, ``["write_cpu"]``)."""
    runs = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="bench-tongzhou-") as out:
            cmd = [sys.executable, "-m", "capacity.cli", "run",
                   str(ROOT / "scenarios" / "baseline.toml"), "-o", out]
            env = {**os.environ, "PYTHONPATH": str(ROOT)}
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            load0 = os.getloadavg()[0]
            t = time.perf_counter()
            subprocess.run(cmd, check=True, env=env, capture_output=True)
            wall = time.perf_counter() - t
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            manifest = json.loads((Path(out) / "baseline" / "manifest.json").read_text())
            timings = manifest["timings"]
            runs.append({"wall_s": wall, "load": load0,
                         "cpu_s": (after.ru_utime - before.ru_utime
                                   + after.ru_stime - before.ru_stime),
                         "compute_s": timings["total_s"], "write_s": timings.get("write_s"),
                         "jobs": {k: [v, timings.get("write_cpu", {}).get(k)]
                                  for k, v in timings.get("write", {}).items()}})
    best = min(runs, key=lambda r: r["wall_s"])
    return {**best, "repeat": repeat, "walls": [r["wall_s"] for r in runs],
            "cpus": [r["cpu_s"] for r in runs], "workers": os.cpu_count()}


def makespan(costs: list[float], workers: int) -> float:
    """Finish time of jobs handed out longest first to whichever of ``workers`` is free."""
    free = [0.0] * max(workers, 1)
    for c in sorted(costs, reverse=True):
        free[free.index(min(free))] += c
    return max(free)


def fmt_tongzhou(tz: dict) -> str:
    """The Tongzhou run's wall clock split into start-up, compute and writing, and each
    write job (longest CPU first), beside the target."""
    other = tz["wall_s"] - tz["compute_s"] - (tz["write_s"] or 0.0)
    lines = [f"Tongzhou baseline, every output (capacity run scenarios/baseline.toml, best of "
             f"{tz['repeat']} by wall clock; load average {tz['load']:.1f} at its start):",
             f"  wall clock {tz['wall_s']:.2f} s (target < {TONGZHOU_S:.0f} s; every run: "
             + ", ".join(f"{w:.2f}" for w in tz["walls"]) + ")",
             f"  CPU {tz['cpu_s']:.2f} s, command and workers (every run: "
             + ", ".join(f"{c:.2f}" for c in tz["cpus"]) + ")",
             f"  start-up, model and exit {other:.2f} s | compute {tz['compute_s']:.2f} s | "
             f"write {tz['write_s'] or 0.0:.2f} s (jobs side by side, longest first)"]
    jobs = sorted(tz["jobs"].items(), key=lambda kv: -(kv[1][1] or kv[1][0]))
    if jobs:
        width = max(len(k) for k, _ in jobs)
        lines.append(f"  {'write job'.ljust(width)}  wall s   CPU s")
        for name, (wall, cpu) in jobs:
            lines.append(f"  {name.ljust(width)}  {wall:6.2f}  {cpu if cpu is not None else float('nan'):6.2f}")
        groups: dict[str, list[float]] = {}
        for name, (wall, cpu) in jobs:
            key = ("static maps" if name.startswith("maps/") and name != "maps/catchments.html"
                   else "tables" if name.endswith((".csv", ".parquet", ".geojson"))
                   else name)
            groups.setdefault(key, []).append(cpu if cpu is not None else wall)
        cpu = {k: (c if c is not None else w) for k, (w, c) in tz["jobs"].items()}
        span = makespan([v for k, v in cpu.items() if ":" not in k], tz["workers"])
        serial = tz["cpu_s"] - sum(cpu.values()) + sum(v for k, v in cpu.items() if ":" in k)
        lines.append(f"  on {tz['workers']} idle cores (an estimate from CPU seconds): the rest "
                     f"of the command {serial:.2f} s, one after another, + the write jobs "
                     f"{span:.2f} s (longest first) = {serial + span:.2f} s")
        lines.append("  CPU s by output: " + ", ".join(
            f"{k} {sum(v):.2f}" + (f" ({len(v)})" if len(v) > 1 else "")
            for k, v in sorted(groups.items(), key=lambda kv: -sum(kv[1]))))
    return "\n".join(lines)


def fmt_table(figs: list[dict]) -> str:
    """One column per size; a size killed at the timeout shows what it finished."""
    views = [{**f.get("partial", {}),
              **{k: f[k] for k in ("units", "gen_s", "wall_s", "load") if k in f}}
             if "failed" in f else f for f in figs]
    ok = [f for f in views if "arcs" in f]
    head = ["units"] + [f"{f['units']:,}" for f in figs]
    rows: list[list[str]] = []

    def row(label, fn, fmt="{:,.2f}"):
        cells = []
        for f in views:
            try:
                v = fn(f)
            except (KeyError, TypeError):
                v = None
            cells.append("-" if v is None else (fmt.format(v) if not isinstance(v, str) else v))
        rows.append([label] + cells)

    def solves(f):
        if "crit_solves_s" in f:   # killed during criticality
            return (f"{f['crit_solves']:,} of {f['crit_solves_derived']:,} in "
                    f"{f['crit_solves_s']:.0f} s")
        return f"{f['crit_solves']:,} of {f['crit_solves_derived']:,} project-years"

    row("zones / existing school rows", lambda f: f"{f['zones']} / {f['schools']:,}")
    row("key projects", lambda f: f["projects"], "{:,}")
    for st in (ok[0]["arcs"] if ok else {}):
        row(f"arcs {st}", lambda f, st=st: f["arcs"].get(st), "{:,}")
    row("model generation s (parent)", lambda f: f["gen_s"])
    for ph in PHASES:
        row(f"{ph} s", lambda f, ph=ph: f["timings"].get(f"{ph}_s"))
        if ph == "allocation":
            row("  of which optimal s (serial runs)", lambda f: f["optimal_alloc_s"] or None)
            row("  of which catchment s (serial runs)",
                lambda f: f["catchment_alloc_s"] or None)
    row("compute total s (manifest)", lambda f: f["timings"].get("total_s"))
    row("write tables s (Result.write)", lambda f: f["write_s"])
    row("write + workbook s (CLI, no maps)", lambda f: f["write_cli_s"])
    row("full run s (compute + write)", lambda f: f["timings"]["total_s"] + f["write_s"])
    row("subprocess wall s", lambda f: f["wall_s"])
    row(f"load average (1 min, {os.cpu_count()} cores) start/end",
        lambda f: f"{f['load'][0]:.1f} / {f['load'][1]:.1f}")
    row("peak RSS MB (run)", lambda f: f["rss_run"] / MB, "{:,.0f}")
    row("peak RSS MB (+ write)", lambda f: f["rss_write"] / MB, "{:,.0f}")
    row("peak RSS MB (+ workbook)", lambda f: f["rss_cli"] / MB, "{:,.0f}")
    row("peak memory MB, run + workers (PSS)", lambda f: f["tree_pss"] / MB, "{:,.0f}")
    row("criticality cases re-routed", solves)
    stages = list(ok[0]["arcs"]) if ok else []
    key = "/".join(s_[0].upper() for s_ in stages)

    def per_stage(phase, mode, what):
        def fn(f):
            got = [f["by_stage"].get(f"{phase}/{mode}/{st}", [0, 0.0]) for st in stages]
            return " / ".join(f"{g[what]:,.0f}" if what == 0 else f"{g[what]:,.1f}"
                              for g in got)
        return fn
    if any(f.get("optimal_solves") for f in views):     # the wrappers saw the solves
        row(f"  optimal s by stage ({key})", per_stage("allocation", "optimal", 1))

    def extrapolated(f):
        """Killed in criticality: the rest of each stage's solves at its mean so far."""
        if "crit_solves_s" not in f:
            return None
        est = 0.0
        for st in stages:
            n, sec = f["by_stage"].get(f"criticality/optimal/{st}", [0, 0.0])
            if not n and f["crit_expected"][st]:
                return None
            est += sec + (f["crit_expected"][st] - n) * (sec / n if n else 0.0)
        return f"~{est:,.0f} (extrapolated)"
    if any("crit_solves_s" in f for f in views):
        row("  criticality s if finished", extrapolated)
    row(f"allocation.{FORMAT} MB", lambda f: f["alloc_bytes"] / MB, "{:,.1f}")
    row("allocation rows", lambda f: f["alloc_rows"], "{:,}")
    row("optimal solves seen (serial runs)", lambda f: f["optimal_solves"] or None, "{:,}")
    row(f"bare OR-Tools MCF s ({BARE_YEARS} years per stage)", lambda f: f["bare_mcf_s"])
    row("optimal rule re-timed beside bare s", lambda f: f["optimal_retimed_s"])
    row("ratio optimal (re-timed) / bare MCF",
        lambda f: f["optimal_retimed_s"] / f["bare_mcf_s"] if f["bare_mcf_s"] else None)
    for f in figs:
        if "failed" in f:
            rows.append([f"{f['units']:,} units", f"FAILED: {f['failed']}"])
    width = [max(len(r[i]) for r in [head] + rows if i < len(r))
             for i in range(len(head))]
    lines = []
    for r in [head] + rows:
        if len(r) == len(head):
            lines.append("  ".join([r[0].ljust(width[0])]
                                   + [c.rjust(w) for c, w in zip(r[1:], width[1:])]))
        else:
            lines.append("  ".join(r))
    return "\n".join(lines)


def targets(figs: list[dict], tz: dict | None, asked: list[int], scale: bool = True
            ) -> list[str]:
    """PASS/FAIL lines: the Tongzhou line first when ``scale`` is False."""
    if not scale:
        return targets(figs, tz, asked)[-1:]
    out = []
    big = next((f for f in figs if f["units"] == TARGET_UNITS), None)
    if big is None:
        why = "skipped: a smaller size was killed or took over --skip-after" \
            if TARGET_UNITS in asked else f"add --units {TARGET_UNITS}"
        out.append(f"target: {TARGET_UNITS:,}-unit full run < {TARGET_S:.0f} s and "
                   f"< {TARGET_GB:.0f} GB -> not measured ({why})")
    elif "failed" in big:
        out.append(f"target: {TARGET_UNITS:,}-unit full run < {TARGET_S:.0f} s -> FAIL "
                   f"({big['failed']})")
    else:
        full = big["timings"]["total_s"] + big["write_s"]
        gb = max(big["rss_cli"], big.get("tree_pss", 0)) / 1024 ** 3
        out.append(f"target: {TARGET_UNITS:,}-unit full run incl. criticality < "
                   f"{TARGET_S:.0f} s -> {full:,.1f} s {'PASS' if full < TARGET_S else 'FAIL'}")
        out.append(f"target: {TARGET_UNITS:,}-unit peak memory (the run's own RSS, or run "
                   f"+ workers PSS if larger) < {TARGET_GB:.0f} GB -> "
                   f"{gb:.2f} GB {'PASS' if gb < TARGET_GB else 'FAIL'}")
    if tz is None:
        out.append(f"target: Tongzhou baseline, every output < {TONGZHOU_S:.0f} s -> "
                   "not measured (--no-tongzhou, or --quick without --tongzhou)")
    else:
        out.append(f"target: Tongzhou baseline, every output (capacity run, wall clock, best "
                   f"of {tz['repeat']}) < {TONGZHOU_S:.0f} s -> {tz['wall_s']:.1f} s "
                   f"{'PASS' if tz['wall_s'] < TONGZHOU_S else 'FAIL'} (compute "
                   f"{tz['compute_s']:.1f} s of it)")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, nargs="+", default=[20_000, 50_000, 100_000])
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--quick", action="store_true",
                    help=f"{QUICK_UNITS:,} units only (no Tongzhou run unless --tongzhou)")
    ap.add_argument("--timeout", type=float, default=900.0,
                    help="seconds per size before the run is killed (default 900)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="bare min-cost flow: best of this many solves per stage-year")
    ap.add_argument("--skip-after", type=float, default=600.0,
                    help="skip larger sizes once a size's full run (compute + table "
                         "write) takes longer (default 600 s)")
    ap.add_argument("--tongzhou-repeat", type=int, default=3)
    ap.add_argument("--no-tongzhou", action="store_true")
    ap.add_argument("--tongzhou", action="store_true",
                    help="time the Tongzhou baseline in --quick mode too")
    ap.add_argument("--tongzhou-only", action="store_true",
                    help="time only the Tongzhou baseline (every output), no scale models")
    ap.add_argument("--keep", type=Path, default=None,
                    help="keep each size's model and run folders under this folder")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    ap.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--partial", type=Path, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child is not None:
        fig = child(args.child, args.out, args.workers, args.repeat, args.partial)
        args.json.write_text(json.dumps(fig, indent=1))
        return 0

    if args.tongzhou_only:
        tz = tongzhou(args.tongzhou_repeat)
        print(fmt_tongzhou(tz))
        print(targets([], tz, [], scale=False)[0])
        if args.json:
            args.json.write_text(json.dumps({"tongzhou": tz}, indent=1))
        return 0
    sizes = [QUICK_UNITS] if args.quick else sorted(args.units)
    tz_repeat = 1 if args.quick else args.tongzhou_repeat
    skip_tz = args.no_tongzhou or (args.quick and not args.tongzhou)
    from capacity.chain import Chain

    if args.workers is not None and "workers" not in {f.name for f in
                                                      dataclasses.fields(Chain)}:
        print(f"note: --workers {args.workers} ignored: capacity.chain.Chain has no "
              "workers option yet", file=sys.stderr, flush=True)
    figs = []
    for n in sizes:
        fig = run_size(n, args.workers, args.timeout, args.repeat, args.keep)
        figs.append(fig)
        if "failed" in fig:
            print(f"{n:,} units: {fig['failed']}; larger sizes skipped", file=sys.stderr)
            break
        full = fig["timings"]["total_s"] + fig["write_s"]
        if full > args.skip_after and n != sizes[-1]:
            print(f"{n:,} units: full run {full:.0f} s > {args.skip_after:.0f} s; "
                  "larger sizes skipped", file=sys.stderr)
            break
    tz = None if skip_tz else tongzhou(tz_repeat)
    sys.stderr.flush()
    print(flush=True)
    print("Beijing-shaped models: 330 zones over 100 km x 100 km, 3 % of units as schools "
          "per stage, 1 key project per 500 units, 2020-2035 (times in seconds)")
    print(fmt_table(figs))
    print()
    if tz is not None:
        print(fmt_tongzhou(tz))
        print()
    for line in targets(figs, tz, sizes):
        print(line)
    if args.json:
        args.json.write_text(json.dumps({"sizes": figs, "tongzhou": tz}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
