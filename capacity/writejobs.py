"""Writing a run folder as independent jobs on every core, the longest first.

A writer of :meth:`capacity.Result.write` is a callable ``f(result, folder)``. A writer that
can be split — the report (one job per static map, the interactive map, the page), the
tables (one job per table) — is a :class:`SplitWriter`: ``jobs(result)`` lists its pieces,
each with an estimated cost, and ``finish(result, folder, values)`` puts them together in
the calling process (and ``prepare(result)`` what all of them need, once, before).
:func:`run_writers` runs the jobs of every writer side by side on
forked workers (:func:`capacity.parallel.pmap`), the most expensive first, so that the
longest job starts at once and the cores finish together (greedy longest-processing-time
scheduling). Called as a plain writer, a split writer runs its jobs one after another and
then ``finish``: the same files.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .parallel import pmap


@dataclass(frozen=True)
class Job:
    """One piece of a writer: ``run(result, folder)`` writes files and may return a value
    for its writer's ``finish``. ``cost``: estimated seconds (only their order matters)."""

    name: str
    run: Callable[[Any, Path], Any]
    cost: float = 1.0


class SplitWriter:
    """A writer made of independent jobs plus a final step in the calling process."""

    def jobs(self, result: Any) -> list[Job]:
        """The independent pieces, for ``result``."""
        raise NotImplementedError

    def prepare(self, result: Any) -> None:
        """Work every job needs, done once in the calling process before the jobs run (the
        forked workers inherit it instead of each doing it again)."""

    def finish(self, result: Any, folder: Path, values: list[Any]) -> Any:
        """Put the pieces together (``values``: each job's return value, in job order)."""
        return values

    def __call__(self, result: Any, folder: str | Path) -> Any:
        folder = Path(folder)
        self.prepare(result)
        return self.finish(result, folder, [job.run(result, folder) for job in self.jobs(result)])


def plain_job(writer: Callable[[Any, Path], Any], cost: float = 1.0) -> Job:
    """A writer that cannot be split, as one job named after it."""
    name = getattr(writer, "job_name", None) or getattr(writer, "__name__", "writer")
    return Job(name if name != "<lambda>" else "writer", writer, getattr(writer, "cost", cost))


def _timed(shared: tuple[Any, Path, list[Job]], i: int) -> tuple[Any, float, float]:
    result, folder, jobs = shared
    wall, cpu = time.perf_counter(), time.process_time()
    value = jobs[i].run(result, folder)
    return value, time.perf_counter() - wall, time.process_time() - cpu


def run_writers(result: Any, folder: Path, writers: list[Callable[[Any, Path], Any]],
                workers: int = 1, timings: dict[str, Any] | None = None) -> list[Any]:
    """Run every writer's jobs on ``workers`` processes, longest first, then each split
    writer's ``finish`` here; return each writer's value, in writer order. ``timings``
    receives ``{"write": {job: wall-clock s}, "write_cpu": {job: CPU s}}`` (a split
    writer's first and last steps as ``CLASS:prepare``, ``CLASS:finish``).
    """
    walls: dict[str, float] = {}
    cpus: dict[str, float] = {}

    def note(name: str, wall: float, cpu: float) -> None:
        while name in walls:                       # two writers of the same name
            name += "'"
        walls[name], cpus[name] = round(wall, 3), round(cpu, 3)

    def here(name: str, step: Callable[[], Any]) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        value = step()
        note(name, time.perf_counter() - wall, time.process_time() - cpu)
        return value

    plan: list[tuple[int, Job]] = []
    for i, writer in enumerate(writers):
        if isinstance(writer, SplitWriter):
            here(f"{type(writer).__name__}:prepare", lambda w=writer: w.prepare(result))
            plan += [(i, job) for job in writer.jobs(result)]
        else:
            plan.append((i, plain_job(writer)))
    order = sorted(range(len(plan)), key=lambda k: -plan[k][1].cost)   # stable on ties
    done = pmap(_timed, (result, folder, [plan[k][1] for k in order]),
                list(range(len(order))), workers, chunksize=1)
    values: list[Any] = [None] * len(plan)
    for k, (value, wall, cpu) in zip(order, done):
        values[k] = value
        note(plan[k][1].name, wall, cpu)
    out: list[Any] = []
    for i, writer in enumerate(writers):
        mine = [v for (w, _), v in zip(plan, values) if w == i]
        if isinstance(writer, SplitWriter):
            out.append(here(f"{type(writer).__name__}:finish",
                            lambda w=writer, v=mine: w.finish(result, folder, v)))
        else:
            out.append(mine[0])
    if timings is not None:
        timings.update(write=walls, write_cpu=cpus)
    return out


__all__ = ["Job", "SplitWriter", "plain_job", "run_writers"]
