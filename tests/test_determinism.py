"""Same inputs, same bytes: every output of two runs is identical except the manifest's
timings."""
from __future__ import annotations

import json
from pathlib import Path

from capacity.cli import main


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_reruns_are_byte_identical(tiny_scenario, tmp_path):
    outs = []
    for i in range(2):
        assert main(["run", str(tiny_scenario), "-o", str(tmp_path / f"r{i}"),
                     "--workers", "1"]) == 0
        outs.append(_files(tmp_path / f"r{i}" / "base"))
    a, b = outs
    assert a.keys() == b.keys()
    assert {"budget.xlsx", "report.html", "maps/catchments.html"} <= a.keys()
    assert any(k.endswith(".svg") for k in a)
    differ = [k for k in a if a[k] != b[k]]
    assert differ == ["manifest.json"] or differ == []
    ma, mb = (json.loads(x["manifest.json"]) for x in outs)
    ma.pop("timings"), mb.pop("timings")
    assert ma == mb
