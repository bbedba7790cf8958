"""The maps and the report of a run, as independent jobs (:mod:`capacity.writejobs`).

:data:`write_all` writes, in the run's language (``manifest["lang"]``), the static map of
every stage in the headline year and in its year of largest shortfall (PNG and SVG), the
interactive map (``maps/catchments.html``) and ``report.html``. Each static map is one job:
it draws the figure once and saves the PNG (which the report embeds) and the SVG;
the report's page is built by its own job with a marker in place of each map, and the
markers are replaced by the maps' PNGs at the end. On several cores the jobs run side by
side (``Result.write(..., workers=K)``); called directly, one after another, writing the
same files.
"""
from __future__ import annotations

import base64
import uuid
from functools import partial
from pathlib import Path
from typing import Any

from ..result import Result
from ..writejobs import Job, SplitWriter
from .catchment import map_geometry, result_lang, run_stages
from .flows import result_flows
from .fonts import font_context
from .html import map_years, report_html
from .interactive_map import write_interactive_map
from .static_maps import save_static_map, static_map

#: Estimated seconds per job (only their order matters: the longest start first).
COST = {"static_map": 1.0, "interactive_map": 0.6, "report": 0.4}


class ReportWriter(SplitWriter):
    """Static maps, interactive map and report (a writer of ``Result.write``)."""

    def __init__(self, map_dpi: int = 200) -> None:
        self.map_dpi = map_dpi

    def maps(self, result: Result) -> list[tuple[str, int]]:
        """(stage, year) of every static map: none when the run has no units."""
        if not len(result.tables.get("units", [])):
            return []
        return [(stage, y) for stage in run_stages(result)
                for y, _ in map_years(result, stage, result.headline_mode(stage))]

    def prepare(self, result: Result) -> None:
        """The projected geometry and the coded allocation table every map needs."""
        if self.maps(result):
            map_geometry(result)
            if len(result.tables.get("allocation", ())):
                result_flows(result)

    def jobs(self, result: Result) -> list[Job]:
        maps = self.maps(result)
        out = [Job(f"maps/{stage}_{year}", partial(self.static_map, stage, year),
                   COST["static_map"]) for stage, year in maps]
        if maps:
            out.append(Job("maps/catchments.html", self.interactive_map,
                           COST["interactive_map"]))
        markers = {key: f"capacity-map-{uuid.uuid4().hex}" for key in maps}
        out.append(Job("report.html", partial(self.page, markers), COST["report"]))
        return out

    def static_map(self, stage: str, year: int, result: Result, folder: Path
                   ) -> tuple[list[Path], str]:
        """Draw one map once: its PNG and SVG files; the report embeds that PNG (a data
        URI: the same 200 dpi image, sharp in print, drawn once)."""
        with font_context(result_lang(result)):
            fig = static_map(result, stage, year)     # the stage's headline rule
            paths = save_static_map(fig, folder, stage, year)
            return paths, "data:image/png;base64," + base64.b64encode(
                paths[0].read_bytes()).decode("ascii")

    def interactive_map(self, result: Result, folder: Path) -> Path:
        with font_context(result_lang(result)):
            return write_interactive_map(result, folder)

    def page(self, markers: dict[tuple[str, int], str], result: Result, folder: Path
             ) -> tuple[str, dict[tuple[str, int], str]]:
        """The report's HTML with a marker where each map's PNG goes."""
        with font_context(result_lang(result)):
            return report_html(result, map_dpi=self.map_dpi, images=markers), markers

    def finish(self, result: Result, folder: Path, values: list[Any]) -> list[Path]:
        """Put each map's PNG in place of its marker and write ``report.html``; return
        every path written (maps in order, the interactive map, the report)."""
        *maps, (page, markers) = values
        paths: list[Path] = []
        images = {}
        for key, value in zip(self.maps(result), maps):
            files, images[key] = value
            paths += files
        if maps[len(images):]:
            paths.append(maps[len(images)])
        for key, marker in markers.items():
            if page.count(marker) != 1:
                raise RuntimeError(f"the report has no single place for the map {key}")
            page = page.replace(marker, images[key])
        path = Path(folder) / "report.html"
        path.write_text(page, encoding="utf-8")
        return paths + [path]


#: Writer of ``Result.write``: static maps, interactive map and report.
write_all = ReportWriter()

__all__ = ["ReportWriter", "write_all", "COST"]
