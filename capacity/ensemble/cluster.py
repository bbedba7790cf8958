"""Batches of draws on dask.distributed: a local cluster, or an existing one by address.

The shared :class:`~capacity.ensemble.run.Base` is scattered once to every worker; each
task is one batch of draws and returns its small per-zone summaries, which are written into
preallocated arrays as tasks finish (memory grows only with those summaries). A draw's
result depends on nothing but its own inputs, so any number of workers gives the same
arrays.
"""
from __future__ import annotations

import logging
import math
import os
import time
from typing import Callable

import numpy as np

from ..parallel import default_workers
from .draws import Draw
from .run import Base, BatchResult, run_batch

CONNECT_TIMEOUT = "30s"
MAX_BATCH = 16               # draws per task at most
REACH_TIMEOUT_S = 3.0        # seconds to open a connection to --scheduler before any work
SUMMARY_BYTES = 3 * 4        # demand, shortfall, out of reach: int32 per zone×stage×year
SUMMARY_BYTES_MAX = 2 * 2**30   # summaries of every draw held in memory at most

#: glibc's largest dynamic mmap threshold (64-bit): blocks below it come from the heap.
MMAP_THRESHOLD = 32 * 1024 * 1024


def local_config() -> dict[str, object]:
    """dask config for the local cluster's workers.

    - malloc: dask's nanny sets ``MALLOC_TRIM_THRESHOLD_=65536`` by default, which also
      freezes glibc's mmap threshold at 128 KiB: every solve's buffers are then mmapped and
      page-faulted anew, about 30 % more CPU per draw (measured). Unset it; when the
      environment already has it (set by the user, or left by an earlier dask cluster in
      this process), fix the mmap threshold at glibc's dynamic maximum instead.
    - no statistical profiler (it samples the task thread every 10 ms for the dashboard's
      profile page: about 2 % of a draw's CPU, measured).
    """
    key = "distributed.nanny.pre-spawn-environ"
    config: dict[str, object] = {f"{key}.MALLOC_TRIM_THRESHOLD_": None,
                                 "distributed.worker.profile.enabled": False}
    if "MALLOC_TRIM_THRESHOLD_" in os.environ and "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        config[f"{key}.MALLOC_MMAP_THRESHOLD_"] = MMAP_THRESHOLD
    return config


def trimming_workers(client) -> list[str]:
    """Workers whose malloc returns memory at every free (``MALLOC_TRIM_THRESHOLD_`` set
    without ``MALLOC_MMAP_THRESHOLD_``): draws run about 30 % slower there."""
    env = client.run(lambda: [os.environ.get(k) for k in ("MALLOC_TRIM_THRESHOLD_",
                                                          "MALLOC_MMAP_THRESHOLD_")])
    return sorted(w for w, (trim, mmap) in env.items() if trim is not None and mmap is None)


def batch_size(n_draws: int, workers: int) -> int:
    """Draws per task: at most 16, at least four tasks per worker, and tasks of equal size
    in whole rounds over the workers (no worker is left with one extra task at the end)."""
    w = max(workers, 1)
    per_worker = max(4, math.ceil(n_draws / (w * MAX_BATCH)))
    return max(1, math.ceil(n_draws / (w * per_worker)))


class Summaries:
    """Preallocated per-draw summaries, filled batch by batch."""

    def __init__(self, n: int, years: int, zones: int, stages: int) -> None:
        shape = (n, years, zones, stages)
        self.demand = np.zeros(shape, np.int32)
        self.shortfall = np.zeros(shape, np.int32)
        self.out_of_reach = np.zeros(shape, np.int32)
        self.places = np.zeros((n, years, stages), np.int64)
        self.stats = {"solves": 0, "cached": 0, "all_served": 0, "floored": 0}

    def add(self, r: BatchResult, position: dict[int, int]) -> None:
        rows = [position[int(i)] for i in r.draws]
        self.demand[rows], self.shortfall[rows] = r.demand, r.shortfall
        self.out_of_reach[rows], self.places[rows] = r.out_of_reach, r.places
        for k, v in r.stats.items():     # counts add up; a peak is the largest
            self.stats[k] = max(self.stats.get(k, 0), int(v)) if k.startswith("peak") \
                else self.stats.get(k, 0) + int(v)


def run_draws(base: Base, draws: list[Draw], workers: int | None = None,
              scheduler: str | None = None, batch: int | None = None,
              progress: Callable[[str], None] | None = None) -> tuple[Summaries, dict]:
    """Every draw on a dask cluster; the summaries and how the run went (workers, time)."""
    import dask
    from distributed import Client, LocalCluster, as_completed

    t0 = time.perf_counter()
    cluster = None
    if scheduler:
        client = Client(scheduler, timeout=CONNECT_TIMEOUT)
    else:
        with dask.config.set(local_config()):
            cluster = LocalCluster(n_workers=workers or default_workers(),
                                   threads_per_worker=1, processes=True,
                                   dashboard_address=":0", silence_logs=logging.ERROR)
        client = Client(cluster)
    try:
        n_workers = len(client.scheduler_info()["workers"]) or 1
        slow = trimming_workers(client)
        if slow and progress:
            progress(f"{len(slow)} of {n_workers} workers have MALLOC_TRIM_THRESHOLD_ set "
                     "without MALLOC_MMAP_THRESHOLD_: draws run about 30 % slower there "
                     f"(start them with MALLOC_MMAP_THRESHOLD_={MMAP_THRESHOLD})")
        size = batch or batch_size(len(draws), n_workers)
        out = Summaries(len(draws), len(base.years), len(base.model.zones), len(base.stages))
        position = {d.index: i for i, d in enumerate(draws)}
        shared = client.scatter(base, broadcast=True)
        futures = [client.submit(run_batch, shared, draws[i:i + size], pure=False)
                   for i in range(0, len(draws), size)]
        done, t_start = 0, time.perf_counter()
        for future in as_completed(futures):
            result = future.result()
            out.add(result, position)
            done += len(result.draws)
            future.release()
            if progress:
                rate = done / max(time.perf_counter() - t_start, 1e-9)
                left = (len(draws) - done) / rate if rate > 0 else float("nan")
                progress(f"draws {done}/{len(draws)} · {rate:.2f} draws/s · "
                         f"about {_duration(left)} left")
        info = {"workers": n_workers, "batch": size, "scheduler": scheduler or "local",
                "draws_s": round(time.perf_counter() - t_start, 3),
                "trimming_workers": len(slow),
                "cluster_s": round(t_start - t0, 3)}
        return out, info
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _duration(seconds: float) -> str:
    if seconds != seconds:
        return "?"
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def check_reachable(scheduler: str, timeout: float = REACH_TIMEOUT_S) -> None:
    """InputError (one line) unless a TCP connection to the scheduler's address opens within
    ``timeout`` seconds and a dask scheduler answers there (its ``identity``); checked
    before any work, instead of dask's 30 s wait, a hang or a crash on a foreign server."""
    import socket

    from ..errors import InputError
    from ..options import address, options

    try:
        host, port = address(scheduler)
    except ValueError as exc:
        raise InputError.single("--scheduler", str(exc),
                                expected=options()[("ensemble", "--scheduler", "")].why) \
            from None
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        why = "timed out" if isinstance(exc, socket.timeout) else (exc.strerror or str(exc))
        raise InputError.single("--scheduler", f"cannot reach {scheduler} ({why} within "
                                f"{timeout:g} s)", expected="the address of a running "
                                "dask scheduler (dask scheduler prints it), reachable from "
                                "this machine") from None
    try:     # something listens: is it a dask scheduler? (dask itself would hang or crash)
        info = _identity(scheduler, timeout)
    except Exception as exc:   # a timeout, a refused handshake, bytes that are not dask's
        info = {"error": type(exc).__name__}
    if not isinstance(info, dict) or info.get("type") != "Scheduler":
        why = info.get("error", "no dask identity") if isinstance(info, dict) else "no reply"
        raise InputError.single("--scheduler", f"{scheduler} answers, but not as a dask "
                                f"scheduler ({why} within {timeout:g} s)",
                                expected="the address a running `dask scheduler` prints")


def _identity(scheduler: str, timeout: float) -> object:
    """The reply to dask's ``identity`` request at ``scheduler``, within ``timeout`` s."""
    import asyncio

    from distributed.comm import connect

    async def ask() -> object:
        comm = await connect(scheduler, timeout=timeout)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    return asyncio.run(asyncio.wait_for(ask(), timeout))


def check_summaries(draws: int, years: int, zones: int, stages: int) -> None:
    """InputError on ``--draws`` when the draws' summaries would exceed
    :data:`SUMMARY_BYTES_MAX` (they all stay in memory until the end)."""
    per_draw = SUMMARY_BYTES * years * zones * stages
    if draws * per_draw > SUMMARY_BYTES_MAX:
        from ..errors import InputError

        most = SUMMARY_BYTES_MAX // per_draw
        raise InputError.single("--draws", f"{draws:,} draws of {zones} zones × {stages} "
                                f"stages × {years} years need {draws * per_draw / 2**30:.1f} "
                                "GiB of summaries in memory", expected=f"at most {most:,} "
                                f"draws of this model ({SUMMARY_BYTES_MAX / 2**30:g} GiB); "
                                "run several seeds for more")
