"""``capacity map``: the static and interactive maps of one stage and year of a run folder."""
from __future__ import annotations

import shutil
from pathlib import Path

from ..errors import InputError
from ..result import read_result, require_pipeline
from ..runfolder import SAFE_NAME, atomic_folder, check_out_dir, is_safe_name
from .catchment import run_modes, run_stages, run_years
from .interactive_map import write_interactive_map
from .static_maps import write_static_maps


def map_command(run_folder: str | Path, stage: str, year: int, mode: str | None = None,
                *, rings: bool = False, lang: str | None = None) -> list[Path]:
    """`capacity map`: write the static PNG/SVG and the HTML map into ``run_folder/maps``,
    atomically: the folder is rebuilt beside it (its other maps copied) and swapped into
    place; a ``maps`` that is a symbolic link is refused (InputError), never written
    through. ``lang``: of the maps (default: the run's)."""
    check_out_dir(run_folder, "RUN", names=["maps"])
    if not is_safe_name(stage):
        raise InputError.single("--stage", f"stage {stage!r} cannot be a file name",
                                column="stage", expected=SAFE_NAME)
    result = require_pipeline(read_result(run_folder))
    if lang:
        result.manifest["lang"] = lang         # the maps' writers follow the run's language
    stages, years = run_stages(result), run_years(result)
    stage = {s.lower(): s for s in stages}.get(str(stage).strip().lower(), stage)  # Primary
    if stage not in stages:
        raise InputError.single(run_folder, f"no stage {stage!r} in this run",
                                column="stage", expected=" or ".join(stages) or "a stage")
    if int(year) not in years:
        span = f"a year from {years[0]} to {years[-1]}" if years else "a year of the run"
        raise InputError.single(run_folder, f"no year {year} in this run", column="year",
                                expected=span)
    if mode is not None and mode not in run_modes(result):
        raise InputError.single(run_folder, f"no allocation mode {mode!r} in this run",
                                column="mode", expected=" or ".join(run_modes(result)))
    with atomic_folder(run_folder, "maps", keep=True) as tmp:
        scratch = tmp / ".new"             # the writers write <folder>/maps/<file>
        made = write_static_maps(result, scratch, stage, int(year), mode=mode, rings=rings)
        made.append(write_interactive_map(result, scratch))
        for f in made:
            f.replace(tmp / f.name)
        shutil.rmtree(scratch)
    return [Path(run_folder) / "maps" / f.name for f in made]
