"""The plan's money and time rules that the formulation and its modelling layer share:
discounting, a new school's places by year, its minimum-use window, discounted capital."""
from __future__ import annotations

import numpy as np

from ..supply import opening_places
from .params import PlanParams, StagePlan

MONEY = 1e4   # CNY per unit of the objective (万元)


def discount(years: np.ndarray, start: int, rate: float) -> np.ndarray:
    """Weights (1 + rate)^−(year − start) of costs in ``years``."""
    return (1.0 + rate) ** -(np.asarray(years, float) - start)


def school_places(classes: int, open_year: int, years: np.ndarray, sp: StagePlan) -> np.ndarray:
    """(T,) places of a new school of ``classes`` opening in ``open_year`` (grade by grade
    unless the stage opens schools full)."""
    return opening_places(classes * sp.class_size, open_year, years, sp.grades,
                          sp.opening == "grade_by_grade")


def use_window(open_year: int, years: np.ndarray, sp: StagePlan, params: PlanParams
               ) -> np.ndarray:
    """(T,) years in which a new school opening in ``open_year`` must reach the minimum use:
    from opening through its first ``min_use_years`` years of full operation."""
    full = open_year + (sp.grades - 1 if sp.opening == "grade_by_grade" else 0)
    end = full + params.min_use_years - 1
    return (years >= open_year) & (years <= end) if params.min_use_years > 0 \
        else np.zeros(len(years), bool)


def capital_cost(capital: float, open_year: int, build_years: int, params: PlanParams,
                 horizon: int) -> float:
    """Discounted capital of a building opening in ``open_year``: spread evenly over the
    ``build_years`` before it, less its residual value at the horizon (straight line over
    the building's life, discounted from the year after the horizon)."""
    spent = np.arange(open_year - build_years, open_year)
    paid = capital * discount(spent, params.start_year, params.discount_rate).mean()
    left = max(0.0, 1.0 - (horizon + 1 - open_year) / params.building_life_years)
    return paid - capital * left * discount([horizon + 1], params.start_year,
                                            params.discount_rate)[0]
