"""Demography engine: cohort-component projection, life tables, age schedules,
census cohort-residual migration, level calibration and backtests (docs/projection.md)."""
from capacity.demography.backtest import backtest, population_array
from capacity.demography.births_anchor import birth_factors
from capacity.demography.calibrate import LevelFit, calibrate_level, total_at
from capacity.demography.ccm import Projection, project
from capacity.demography.census import AgeGroups, Census, census_frame, read_census
from capacity.demography.lifetable import (
    LifeTable,
    life_expectancy,
    life_table,
    life_table_from_hazard,
    sx_from_life_table,
    sx_from_Lx,
    sx_from_mx,
    sx_from_qx,
)
from capacity.demography.residual import (
    ResidualFit,
    cohort_residual,
    residual_migration,
    spread_to_zones,
)
from capacity.demography.schedules import (
    ROGERS_CASTRO_EXITS,
    ROGERS_CASTRO_STANDARD,
    exit_profile,
    housing_inflow,
    rogers_castro,
    spread_total,
    tfr_factors,
    young_family_profile,
)

__all__ = [
    "Projection", "project", "LifeTable", "life_table", "life_table_from_hazard",
    "life_expectancy",
    "sx_from_life_table", "sx_from_Lx", "sx_from_mx", "sx_from_qx",
    "ROGERS_CASTRO_STANDARD", "ROGERS_CASTRO_EXITS", "exit_profile", "birth_factors",
    "housing_inflow", "rogers_castro", "spread_total",
    "tfr_factors", "young_family_profile",
    "AgeGroups", "Census", "census_frame", "read_census",
    "ResidualFit", "cohort_residual", "residual_migration", "spread_to_zones",
    "LevelFit", "calibrate_level", "total_at", "backtest", "population_array",
]
