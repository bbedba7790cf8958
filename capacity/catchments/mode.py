"""``[allocation] mode = "designed"``: the whole run under a catchment map
(docs/catchments.md). The map (``[allocation] catchments``, relative to the scenario file)
assigns each unit to the school whose polygon holds it; a unit in no polygon, or whose
school is not open that year, goes to its nearest open school (catchment mode's rule), a
unit whose school is beyond its radius is not served. Gaps and overlaps become warnings."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ..errors import InputError
from .current import CurrentMap, read_current, stage_map

if TYPE_CHECKING:
    from ..state import RunState

#: The run's table of the scenario's map: stage, unit_id, school_id (units in a polygon of
#: a school of the stage), written as designed_catchments.csv.
DESIGNED_TABLE = "designed_catchments"


def map_path(state: "RunState") -> Path:
    """The scenario's ``[allocation] catchments`` file; InputError when it has none."""
    name = state.scenario.raw.get("allocation", {}).get("catchments")
    if not name:
        raise InputError.single(state.label, 'mode = "designed" needs a catchment map',
                                column="allocation.catchments",
                                expected='catchments = "catchments.geojson" (polygons with '
                                         'a school_id column, relative to the scenario)')
    base = state.scenario.path.parent if state.scenario.path else Path.cwd()
    return (base / name).resolve()


def attach_maps(state: "RunState") -> None:
    """Read each stage's map (the file's polygons of the stage, or of every stage); each
    stage's arcs carry its unit → site map. A stage without a polygon keeps the nearest
    school (a warning says so)."""
    path = map_path(state)
    rows = []
    unit_ids = state.units["unit_id"].astype(str).to_numpy()
    for stage in state.stage_names:
        current = read_current(state, path, stage)
        ids = state.supply.sites.loc[state.site_mask(stage), "school_id"].astype(str)
        m = stage_map(current, ids.to_numpy())
        state.arcs[stage].cache["designed"] = m
        on = m >= 0
        if not on.any():
            state.warnings.append(f"catchment map: no polygon of a {stage} school; "
                                  f"{stage} pupils go to their nearest school")
        else:
            _warn_issues(state, stage, current)
        rows.append(pd.DataFrame({"stage": stage, "unit_id": unit_ids[on],
                                  "school_id": ids.to_numpy()[m[on]]}))
    # the map as read, per stage (the interactive map's designed layer; docs/outputs.md)
    state.tables[DESIGNED_TABLE] = pd.concat(rows, ignore_index=True)


def _warn_issues(state: "RunState", stage: str, current: CurrentMap) -> None:
    """A warning per kind of issue of a stage's map (gaps, overlaps), with five units."""
    for kind, n in current.issues["issue"].value_counts().items():
        units = current.issues.loc[current.issues["issue"] == kind, "unit_id"].head(5)
        state.warnings.append(
            f"catchment map ({stage}): {n} unit(s) in "
            f"{'no polygon' if kind == 'gap' else 'several'} (e.g. {', '.join(units)}); "
            + ("they go to their nearest school" if kind == "gap" else
               "each goes to the first polygon in the file"))
