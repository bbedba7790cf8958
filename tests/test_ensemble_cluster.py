"""Local dask workers of an ensemble do not inherit dask's malloc trimming (which costs
about 30 % more CPU per draw), and workers that do are detected."""
from __future__ import annotations

import logging
import os

import pytest

from capacity.ensemble.cluster import MMAP_THRESHOLD, trimming_workers, worker_environ


@pytest.fixture
def environ():
    """os.environ restored afterwards (a dask nanny writes its pre-spawn variables there)."""
    saved = dict(os.environ)
    yield os.environ
    os.environ.clear()
    os.environ.update(saved)


def test_worker_environ_unsets_dask_malloc_trimming(environ):
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    environ.pop("MALLOC_MMAP_THRESHOLD_", None)
    env = worker_environ()
    assert env == {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}
    environ["MALLOC_TRIM_THRESHOLD_"] = "65536"      # left by an earlier dask cluster
    assert worker_environ()["distributed.nanny.pre-spawn-environ.MALLOC_MMAP_THRESHOLD_"] \
        == MMAP_THRESHOLD


def test_local_workers_started_with_worker_environ_do_not_trim(environ):
    import dask
    from distributed import Client, LocalCluster

    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    environ.pop("MALLOC_MMAP_THRESHOLD_", None)
    kw = dict(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0",
              silence_logs=logging.ERROR)
    with LocalCluster(**kw) as cluster, Client(cluster) as client:   # dask's default
        assert len(trimming_workers(client)) == 1
    assert environ["MALLOC_TRIM_THRESHOLD_"] == "65536"              # poisoned by dask
    with dask.config.set(worker_environ()):
        cluster = LocalCluster(**kw)
    with cluster, Client(cluster) as client:
        assert trimming_workers(client) == []
        env = client.run(lambda: os.environ.get("MALLOC_MMAP_THRESHOLD_"))
        assert list(env.values()) == [str(MMAP_THRESHOLD)]
