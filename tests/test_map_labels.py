"""Map labels never overprint (issue 23, capacity/report/map_labels.py): checked on Tongzhou's
dense urban core by the label boxes matplotlib's renderer measures after drawing the map."""
from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.text import Annotation, Text

from capacity.cli import main
from capacity.report.fonts import font_context
from capacity.report.map_labels import place_labels
from capacity.report.static_maps import static_map
from capacity.result import read_result

ROOT = Path(__file__).resolve().parents[1]


def drawn_boxes(fig: Figure) -> list:
    """(text, box) of every label of the map's axes, measured after a full draw."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    ax = fig.axes[0]
    return [(a.get_text(), Text.get_window_extent(a, renderer)) for a in ax.texts
            if isinstance(a, Annotation) and a.get_text() not in ("N", "北")], \
        ax.get_window_extent(renderer)


def overlaps(boxes: list) -> list[tuple[str, str]]:
    return [(a, b) for (a, p), (b, q) in itertools.combinations(boxes, 2) if p.overlaps(q)]


@pytest.fixture(scope="module")
def tongzhou(tmp_path_factory):
    out = tmp_path_factory.mktemp("labels")
    assert main(["run", str(ROOT / "scenarios" / "baseline.toml"), "-o", str(out),
                 "--no-maps", "--no-criticality"]) == 0
    return read_result(out / "baseline")


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("stage", ["primary", "junior"])
def test_no_two_labels_overlap_on_tongzhou(tongzhou, stage, lang):
    with font_context(lang):
        fig = static_map(tongzhou, stage, 2025, lang=lang)
        boxes, frame = drawn_boxes(fig)
    assert overlaps(boxes) == []
    assert all(frame.x0 <= b.x0 and b.x1 <= frame.x1 and frame.y0 <= b.y0 and b.y1 <= frame.y1
               for _, b in boxes)
    # every zone is named: on the map or in the list under the legend
    shown = {t for t, _ in boxes}
    listed = "\n".join(t.get_text() for t in fig.texts)
    names = tongzhou.names
    col = "name_zh" if lang == "zh" else "name"
    zones = names[names["kind"] == "zone"][col].fillna(names["name"]).astype(str)
    missing = [z for z in zones if z not in shown and z not in listed]
    assert missing == []
    assert len(set(zones) & shown) >= 0.8 * len(zones)       # most on the map itself


def test_labels_piled_on_one_point_are_spread_or_listed():
    fig = Figure(figsize=(4, 4))
    ax = fig.add_subplot()
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    anns = [ax.annotate(f"Zone number {i}", (5, 5), xytext=(0, 0), textcoords="offset points",
                        ha="center", va="center", fontsize=7) for i in range(40)]
    shown, left_out = place_labels(fig, ax, [(anns, 0, 13)])
    boxes, _ = drawn_boxes(fig)
    assert overlaps(boxes) == []
    assert len(shown) + len(left_out) == 40 and len(boxes) == len(shown) >= 8
    assert sorted({t for t, _ in boxes} | set(left_out)) == sorted(f"Zone number {i}"
                                                                  for i in range(40))
