"""Map labels that never overprint (issue 23: zone names piled up in the urban core).

Labels are placed greedily once the map is laid out, measured by the renderer: key projects
first (most important; from :data:`PROJECT_START` points away, not over their symbol), then
zone names, larger zones first (the small zones of a dense
core take what room is left). Each label tries its own spot, then spots on rings around it
(:data:`RINGS` points away, :data:`DIRECTIONS` directions each); from the second ring on a
thin leader line ties it to its point. A label that finds no free spot inside the map frame
is tried again smaller (:data:`SMALLER`), then left out and named under the map's legend
("not labelled (no room): …"), so no two labels ever overlap.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib import patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Annotation, Text
from matplotlib.transforms import Bbox

#: Distances (points) of the rings of candidate spots around a label's point.
RINGS = (0, 7, 13, 20, 28, 37, 47, 58, 70)
#: Directions tried on each ring (the first straight above, then around).
DIRECTIONS = 12
#: A leader line is drawn from this ring on (points).
LEADER_FROM = 13
#: Font sizes a label that finds no room is tried again at (relative).
SMALLER = (0.82, 0.7)
#: Nearest ring of a key project's label (its symbol is at the point) and of its leader.
PROJECT_START, PROJECT_LEADER = 13, 20
#: Room kept between two labels (pixels).
PAD = 1.0


def offsets() -> list[tuple[float, float]]:
    """Candidate offsets (points) in the order tried."""
    out = [(0.0, 0.0)]
    for r in RINGS[1:]:
        angles = np.pi / 2 + 2 * np.pi * np.arange(DIRECTIONS) / DIRECTIONS
        out += [(r * float(np.cos(a)), r * float(np.sin(a))) for a in angles]
    return out


def text_box(ann: Annotation, renderer: Any) -> Bbox:
    """The label's own box (pixels), without its leader line, padded by :data:`PAD`."""
    ann.update_positions(renderer)            # the text's place from its point and offset
    box = Text.get_window_extent(ann, renderer)
    return Bbox.from_extents(box.x0 - PAD, box.y0 - PAD, box.x1 + PAD, box.y1 + PAD)


def _fits(box: Bbox, frame: Bbox, placed: list[Bbox]) -> bool:
    inside = box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0 and \
        box.y1 <= frame.y1
    return inside and not any(box.overlaps(p) for p in placed)


def _leader(ann: Annotation) -> Annotation:
    """The same label with a thin grey leader line to its point."""
    ax = ann.axes
    new = ax.annotate(ann.get_text(), ann.xy, xytext=ann.xyann, textcoords="offset points",
                      ha="center", va="center", fontsize=ann.get_fontsize(),
                      color=ann.get_color(), zorder=ann.get_zorder(),
                      path_effects=ann.get_path_effects(),
                      arrowprops=dict(arrowstyle="-", color="#666666", lw=0.5,
                                      shrinkA=0, shrinkB=1))
    ann.remove()
    return new


def place(ann: Annotation, renderer: Any, frame: Bbox, placed: list[Bbox],
          start: float = 0.0, leader_from: float = LEADER_FROM) -> Annotation | None:
    """Move ``ann`` to the first free spot at least ``start`` points from its point
    (``placed``: boxes taken so far, extended with its box); None, and the label removed,
    when there is none even smaller."""
    size = ann.get_fontsize()
    spots = [(dx, dy) for dx, dy in offsets() if np.hypot(dx, dy) >= start - 1e-9]
    for scale in (1.0, *SMALLER):
        ann.set_fontsize(size * scale)
        for dx, dy in spots:
            ann.set_horizontalalignment("center")
            ann.set_verticalalignment("center")
            ann.xyann = (dx, dy)
            box = text_box(ann, renderer)
            if _fits(box, frame, placed):
                if np.hypot(dx, dy) >= leader_from - 1e-9:
                    ann = _leader(ann)
                placed.append(text_box(ann, renderer))
                return ann
    ann.remove()
    return None


def place_labels(fig: Any, ax: Any, groups: list[tuple[list[Annotation], float, float]]
                 ) -> tuple[list[Annotation], list[str]]:
    """Place every group's labels in order (module docstring): groups of (labels, nearest
    ring in points, ring of the first leader line); the labels shown and the texts left
    out. The figure must be laid out (its frame is final)."""
    renderer = FigureCanvasAgg(fig).get_renderer()
    ax.apply_aspect()
    frame = ax.get_window_extent(renderer)
    placed: list[Bbox] = []
    shown, left_out = [], []
    for group, start, leader_from in groups:
        for ann in group:
            text = ann.get_text()
            done = place(ann, renderer, frame, placed, start, leader_from)
            (shown.append(done) if done is not None else left_out.append(text))
    return shown, left_out


def halo(width: float = 2.0) -> list[Any]:
    """A white halo under a label."""
    return [patheffects.withStroke(linewidth=width, foreground="white")]
