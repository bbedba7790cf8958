"""Probabilistic ensembles: N draws of a scenario's uncertain inputs through the chain, on
dask.distributed, summarised as quantiles, shortfall probabilities, fan charts and a budget
at P50/P80/P90 (docs/ensemble.md).

    >>> import capacity
    >>> ens = capacity.ensemble("scenarios/baseline.toml", draws=200, seed=1)  # doctest: +SKIP
    >>> ens.quantiles.query("zone_id == 'ALL' and measure == 'shortfall'")    # doctest: +SKIP
    >>> ens.write("out")                                 # out/baseline-ensemble/ # doctest: +SKIP
"""
from .api import EnsembleResult, draw_of, ensemble, run_draw
from .spec import Uncertainty, read_uncertainty

__all__ = ["EnsembleResult", "Uncertainty", "draw_of", "ensemble", "read_uncertainty",
           "run_draw"]
