"""Run independent tasks on every core: a fork-based process pool over read-only state.

The shared object (e.g. a run's arcs and demand) is inherited by the forked workers, never
pickled; only the small task keys and their results cross process boundaries. Results come
back in task order, so a parallel run equals the serial one.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_JOB: tuple[Callable[[Any, Any], Any], Any] | None = None


def default_workers() -> int:
    """Every core this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _call(task: Any) -> Any:
    fn, shared = _JOB
    return fn(shared, task)


def pmap(fn: Callable[[Any, T], R], shared: Any, tasks: Sequence[T],
         workers: int = 1, chunksize: int | None = None) -> list[R]:
    """``[fn(shared, t) for t in tasks]``, on ``workers`` forked processes when > 1.

    ``chunksize`` tasks go to a worker at a time (default: about a quarter of each worker's
    share); 1 hands them out one by one, in order, to whichever worker is free.
    """
    global _JOB
    if workers <= 1 or len(tasks) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [fn(shared, t) for t in tasks]
    _JOB = (fn, shared)
    gc.freeze()   # the parent's objects out of the workers' collections: no copy-on-write
    try:
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(min(workers, len(tasks)), mp_context=ctx) as pool:
            chunk = chunksize or max(1, len(tasks) // (4 * workers))
            return list(pool.map(_call, tasks, chunksize=chunk))
    finally:
        _JOB = None
        gc.unfreeze()
