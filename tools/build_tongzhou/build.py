"""The build's flow: sources -> zones -> life tables -> population -> ... -> README."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .anchors import build_anchors, district_anchors, build_reported_enrolment, readme_section, write_anchors
from .backtest import backtest_inputs, run_tongzhou_backtest, write_backtest
from .common import OPEN_AGE, ROOT, SRC, Sources
from .exits import tfr_path, wpp_tfr
from .fertility import FERT_AGES, build_fertility, write_fertility, written_asfr
from .housing import build_housing, write_housing
from .migration import build_migration, targets_table, write_migration
from .model_toml import model_toml, write_model_toml
from .mortality import build_life_tables, srb_2020, write_mortality, written_sx
from .population import build_population, write_population
from .projects import build_projects, write_projects
from .readme import readme, write_readme
from .schools import build_schools, write_schools
from .stages import stage_rates
from .units import build_units, write_units
from .zones import build_zones, write_zones

DEFAULT_OUT = ROOT / "models" / "tongzhou"


def build(out: str | Path = DEFAULT_OUT) -> Path:
    """Build every file of the model into ``out`` (created if needed); returns ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    s = Sources()
    srb = srb_2020(s)
    zones, _ = build_zones(s)
    lts = build_life_tables(s)
    pop, _, _, zinfo = build_population(s, zones, lts)
    fert, asfr, finfo = build_fertility(s, pop, lts, srb)
    housing = build_housing(s, zones)
    # calibrated with the engine on the rates exactly as written to the model's files
    anchors, enrolment = build_anchors(), build_reported_enrolment(s)
    mig, minfo = build_migration(s, pop, written_sx(lts), written_asfr(fert, OPEN_AGE),
                                 housing, srb, anchors)
    anchors = pd.concat([anchors, district_anchors(minfo)], ignore_index=True)
    tfr = tfr_path(finfo["tfr"], minfo["factors"], wpp_tfr(SRC))
    minfo["tfr"] = tfr
    sx = written_sx(lts)
    bt_inputs = backtest_inputs(s, minfo["births"])
    bt = run_tongzhou_backtest(bt_inputs, sx, srb, (minfo["inflow"], minfo["rates"]),
                               {k: v["ages"] for k, v in s.stages().items()})
    units = build_units(s, zones)
    rates, rinfo = stage_rates(s, lts)
    schools, _ = build_schools(s, zones, pop, units, rates, rinfo)
    projects = build_projects(s, zones, schools)

    write_zones(s, zones, out)
    write_population(pop, out)
    write_fertility(fert, out)
    write_mortality(lts, out)
    write_migration(mig, targets_table(s), out)
    write_housing(housing, out)
    write_backtest(bt_inputs, out)
    write_units(units, out)
    write_schools(schools, out)
    write_projects(projects, out)
    write_anchors(anchors, enrolment, out)
    write_model_toml(model_toml(s, rates, rinfo, finfo, srb, tfr), out)
    write_readme(readme(s, zones, pop, zinfo, lts, minfo, housing, units, schools, rates, rinfo,
                        asfr, FERT_AGES, finfo, srb, bt)
                 + "\n" + readme_section(anchors, enrolment), out)
    return out
