"""Local dask workers of an ensemble do not inherit dask's malloc trimming (which costs
about 30 % more CPU per draw), and workers that do are detected."""
from __future__ import annotations

import logging
import os

import pytest

from capacity.ensemble.cluster import (MAX_BATCH, MMAP_THRESHOLD, batch_size, local_config,
                                      trimming_workers)


@pytest.fixture
def environ():
    """os.environ restored afterwards (a dask nanny writes its pre-spawn variables there)."""
    saved = dict(os.environ)
    yield os.environ
    os.environ.clear()
    os.environ.update(saved)


def test_local_config_unsets_dask_malloc_trimming(environ):
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    environ.pop("MALLOC_MMAP_THRESHOLD_", None)
    config = local_config()
    assert config["distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"] is None
    assert "distributed.nanny.pre-spawn-environ.MALLOC_MMAP_THRESHOLD_" not in config
    assert config["distributed.worker.profile.enabled"] is False
    environ["MALLOC_TRIM_THRESHOLD_"] = "65536"      # left by an earlier dask cluster
    assert local_config()["distributed.nanny.pre-spawn-environ.MALLOC_MMAP_THRESHOLD_"] \
        == MMAP_THRESHOLD


def test_local_workers_started_with_local_config_do_not_trim(environ):
    import dask
    from distributed import Client, LocalCluster

    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    environ.pop("MALLOC_MMAP_THRESHOLD_", None)
    kw = dict(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0",
              silence_logs=logging.ERROR)
    with LocalCluster(**kw) as cluster, Client(cluster) as client:   # dask's default
        assert len(trimming_workers(client)) == 1
    assert environ["MALLOC_TRIM_THRESHOLD_"] == "65536"              # poisoned by dask
    with dask.config.set(local_config()):
        cluster = LocalCluster(**kw)
    with cluster, Client(cluster) as client:
        assert trimming_workers(client) == []
        env = client.run(lambda: os.environ.get("MALLOC_MMAP_THRESHOLD_"))
        assert list(env.values()) == [str(MMAP_THRESHOLD)]


@pytest.mark.parametrize("n, workers", [(1, 1), (6, 1), (6, 2), (50, 2), (200, 1), (200, 2),
                                        (500, 2), (500, 3), (1000, 8)])
def test_batches_are_small_equal_and_balanced(n, workers):
    size = batch_size(n, workers)
    tasks = -(-n // size)
    assert 1 <= size <= MAX_BATCH
    assert size <= -(-n // (4 * workers))              # about four tasks per worker or more
    # the busiest worker does at most one batch more than an even share of the draws
    assert -(-tasks // workers) * size <= n / workers + size
