"""Issue 11: every write of `capacity run` stays inside -o; workbook text never becomes a
formula; the standard-school mix does not grow with the class count."""
from __future__ import annotations

import builtins
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
from tiny_model import write_tiny_model

from capacity.cli import main
from capacity.report.sizes import standard_schools
from capacity.report.workbook import write_workbook


def _tree(root: Path, skip: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime for p in root.rglob("*")
            if skip not in p.parents and p != skip}


def test_run_writes_only_inside_out(tmp_path, monkeypatch):
    """A whole run (maps and workbook too) of a model without units.csv; then compare and
    map: nothing is written outside the folder each command is given."""
    model = write_tiny_model(tmp_path / "m")   # without units.csv: the default grid
    toml = model / "model.toml"
    toml.write_text(toml.read_text().replace('units = "units.csv"\n', ""))
    (model / "units.csv").unlink()
    (tmp_path / "s.toml").write_text('name = "s"\nmodel = "m"\nhorizon = 2024\n')
    out = tmp_path / "out"
    before = _tree(tmp_path, out)
    written: list[Path] = []
    real_open = builtins.open

    def spy(file, mode="r", *a, **k):
        if any(c in mode for c in "wax+") and isinstance(file, (str, Path)):
            written.append(Path(file).resolve())
        return real_open(file, mode, *a, **k)

    monkeypatch.setattr(builtins, "open", spy)
    assert main(["run", str(tmp_path / "s.toml"), "-o", str(out), "--no-criticality",
                 "--workers", "1"]) == 0
    assert _tree(tmp_path, out) == before           # nothing beside -o changed
    # openpyxl's own scratch files in the system temp folder are removed when it is done
    scratch = [p for p in written if p.name.startswith("openpyxl.")]
    assert not [p for p in scratch if p.exists()]
    outside = [p for p in written if out.resolve() not in p.parents and p not in scratch]
    assert written and not outside, outside
    assert (out / "s" / "budget.xlsx").is_file() and (out / "s" / "maps").is_dir()
    # compare -o and map write inside their own folders only
    cmp = tmp_path / "cmp"
    before = _tree(tmp_path, cmp)
    written.clear()
    assert main(["compare", str(out / "s"), "-o", str(cmp)]) == 0
    assert _tree(tmp_path, cmp) == before
    assert main(["map", str(out / "s"), "--stage", "primary", "--year", "2022"]) == 0
    assert main(["map", str(out / "s"), "--stage", "../../x", "--year", "2022"]) == 2
    run = (out / "s").resolve()            # map: RUN/maps, rebuilt in RUN/.maps.XXXX
    stray = [p for p in written if not p.name.startswith("openpyxl.")
             and cmp.resolve() not in p.parents and run not in p.parents]
    assert not stray, stray
    assert not (tmp_path / "x_2022.png").exists() and not (out / "x_2022.png").exists()


def test_workbook_text_is_never_a_formula(tmp_path):
    evil = ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "ok"]
    path = write_workbook(tmp_path / "w.xlsx",
                          {"zones": pd.DataFrame({"zone_name": evil, "n": range(6)})},
                          notes=[("=cmd", "+x")])
    wb = openpyxl.load_workbook(path)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert set(evil) <= texts and {"=cmd", "+x"} <= texts


def _reference(c: int, sizes: tuple[int, ...]) -> tuple[int, int]:
    """Fewest schools, then fewest classes, by a plain dynamic programme."""
    best = [(0, 0)] + [(10**9, 10**9)] * c
    for k in range(1, c + 1):
        best[k] = min((best[max(k - s, 0)][0] + 1, best[max(k - s, 0)][1] + s) for s in sizes)
    return best[c]


def test_standard_schools_matches_the_plain_programme():
    rng = np.random.default_rng(1)
    for sizes in [(24, 36), (12, 18, 30), (5, 7), (36,)]:
        classes = rng.integers(0, 1500, 40)
        n, built, _ = standard_schools(classes, sizes)
        assert [(int(a), int(b)) for a, b in zip(n, built)] == \
            [_reference(int(c), sizes) for c in classes]


def test_standard_schools_does_not_grow_with_the_count():
    n, built, mix = standard_schools(np.array([10**12 + 7]), (24, 36))
    assert n[0] == -(-(10**12 + 7) // 36) and built[0] >= 10**12 + 7
    counts = [int(part.split("×")[0]) * int(part.split("×")[1]) for part in mix[0].split(" + ")]
    assert sum(counts) == built[0]


def test_files_outside_the_model_need_the_option(tmp_path, capsys):
    model = write_tiny_model(tmp_path / "m")
    (model / "population.csv").rename(tmp_path / "shared-population.csv")
    toml = model / "model.toml"
    toml.write_text(toml.read_text().replace('population = "population.csv"',
                                             'population = "../shared-population.csv"'))
    assert main(["validate", str(model)]) == 2
    err = capsys.readouterr().err
    assert "model.toml:12:files.population:" in err and "--allow-outside-model" in err
    assert main(["validate", str(model), "--allow-outside-model"]) == 0
    (tmp_path / "s.toml").write_text('name = "s"\nmodel = "m"\nhorizon = 2022\n')
    out = tmp_path / "out"
    assert main(["project", str(tmp_path / "s.toml"), "-o", str(out)]) == 2
    assert not out.exists()
    assert main(["project", str(tmp_path / "s.toml"), "-o", str(out),
                 "--allow-outside-model"]) == 0
    assert (out / "s" / "population.csv").is_file()
