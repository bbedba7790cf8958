"""capacity — school-place capacity planner.

Project school-age population per zone (cohort-component), assign it to existing and planned
schools within service radii, and report place shortfalls, costs and indicators.

    >>> import capacity
    >>> result = capacity.run("scenarios/baseline.toml")      # doctest: +SKIP
    >>> result.summary                                          # doctest: +SKIP
    >>> result.write("out")                                     # doctest: +SKIP
    >>> again = capacity.load_result("out/baseline")            # doctest: +SKIP

A run is a chain of named steps over one run state (:class:`capacity.chain.Chain`); the
distance rule, allocation modes and post-steps are registered in :mod:`capacity.registry`.
"""
__version__ = "0.1.0"

from .errors import InputError, Problem  # noqa: E402
from .model import Model, load_model  # noqa: E402
from .chain import Chain, project_population, run  # noqa: E402
from .result import Result, read_result as load_result  # noqa: E402
from .scenario import Scenario, load_scenario  # noqa: E402
from .state import RunState  # noqa: E402
from .ensemble import EnsembleResult, ensemble  # noqa: E402

__all__ = ["InputError", "Problem", "Model", "load_model", "Scenario", "load_scenario",
           "Chain", "RunState", "ensemble", "EnsembleResult", "project_population", "run", "Result", "load_result",
           "__version__"]
