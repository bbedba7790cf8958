"""A run in Chinese end to end: `capacity run --lang zh --csv-bom` on the tiny model writes a
Chinese report, maps, workbook and console summary, with Chinese names where the model gives
them, and CSVs Excel on Chinese Windows opens correctly; the model's [report] defaults."""
from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import pandas as pd
import pytest

from capacity.cli import main
from capacity.report import fonts
from capacity.result import read_result

BOM = b"\xef\xbb\xbf"


@pytest.fixture(scope="module")
def zh_run(tiny_scenario, tmp_path_factory):
    root = tmp_path_factory.mktemp("zh")
    shutil.copytree(tiny_scenario.parent / "model", root / "model")
    zones = root / "model" / "zones.geojson"
    data = json.loads(zones.read_text(encoding="utf-8"))
    for f, zh in zip(data["features"], ["甲区", "乙区", None]):   # the third: no name_zh
        f["properties"]["name_zh"] = zh
    zones.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    (root / "s.toml").write_text('name = "zh"\nmodel = "model"\nhorizon = 2023\n')
    return root


def test_cli_run_in_chinese(zh_run, capsys):
    out = zh_run / "out"
    assert main(["run", str(zh_run / "s.toml"), "-o", str(out), "--lang", "zh", "--csv-bom",
                 "--no-criticality"]) == 0
    printed = capsys.readouterr().out
    assert "已写入" in printed and "缺口最大年份" in printed
    folder = out / "zh"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["lang"] == "zh" and manifest["datum"] == "wgs84"
    # every CSV starts with a BOM and reads back
    for csv in folder.glob("*.csv"):
        assert csv.read_bytes().startswith(BOM), csv.name
    back = read_result(folder).summary
    assert list(back.columns)[0] == "year"                      # not "\ufeffyear"
    pd.testing.assert_frame_equal(back, pd.read_csv(folder / "summary.csv",
                                                    encoding="utf-8-sig"), check_dtype=False)
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "学位缺口要点" in page and "Headline shortfalls" not in page
    names = pd.read_csv(folder / "names.csv", encoding="utf-8-sig")
    assert set(names["kind"]) >= {"zone", "school"}
    interactive = (folder / "maps" / "catchments.html").read_text(encoding="utf-8")
    assert "服务范围地图" in interactive and "{{T:" not in interactive
    assert '"甲区"' in interactive and '"乙区"' in interactive
    assert "<html lang=\"zh-CN\">" in interactive
    import openpyxl

    wb = openpyxl.load_workbook(folder / "budget.xlsx")
    assert wb.sheetnames[0] == "说明"
    zones = {c.value for c in wb["分区学位缺口"]["B"][1:]}
    english = json.loads((zh_run / "model" / "zones.geojson").read_text(encoding="utf-8"))[
        "features"][2]["properties"]["name"]
    assert zones == {"甲区", "乙区", english}           # name_zh → name → id


def test_model_sets_the_default_language(zh_run, tmp_path):
    toml = zh_run / "model" / "model.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text + '\n[report]\nlang = "zh"\ncsv_bom = true\n', encoding="utf-8")
    try:
        assert main(["run", str(zh_run / "s.toml"), "-o", str(tmp_path), "--no-maps",
                     "--no-criticality"]) == 0
        folder = tmp_path / "zh"
        assert json.loads((folder / "manifest.json").read_text())["lang"] == "zh"
        assert (folder / "summary.csv").read_bytes().startswith(BOM)
        # the scenario's [report] lang wins over the model's
        (zh_run / "en.toml").write_text('name = "en"\nmodel = "model"\nhorizon = 2023\n'
                                        '[report]\nlang = "en"\ncsv_bom = false\n')
        assert main(["run", str(zh_run / "en.toml"), "-o", str(tmp_path), "--no-maps",
                     "--no-criticality"]) == 0
        assert json.loads((tmp_path / "en" / "manifest.json").read_text())["lang"] == "en"
        assert not (tmp_path / "en" / "summary.csv").read_bytes().startswith(BOM)
    finally:
        toml.write_text(text, encoding="utf-8")


def test_chinese_map_has_every_glyph(tiny_result):
    import os

    from capacity.report.static_maps import static_map

    if fonts.cjk_font() is None:
        message = "no CJK font installed (apt-get install fonts-noto-cjk or fonts-wqy-zenhei)"
        if os.environ.get("CAPACITY_REQUIRE_OFFICE"):
            pytest.fail(message + "; .ci/run installs one")
        pytest.skip(message)
    import io

    with warnings.catch_warnings(record=True) as seen, fonts.font_context("zh"):
        warnings.simplefilter("always")
        fig = static_map(tiny_result, "primary", 2021, lang="zh")
        fig.savefig(io.BytesIO(), format="png")
    texts = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]
    assert any("小学" in t for t in texts)
    assert not [w for w in seen if "missing from" in str(w.message)], \
        [str(w.message) for w in seen]


def test_without_a_cjk_font_maps_warn_and_still_draw(monkeypatch):
    monkeypatch.setattr(fonts, "cjk_font", lambda: None)
    with pytest.warns(UserWarning, match="fonts-noto-cjk"):
        with fonts.font_context("zh"):
            pass
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with fonts.font_context("en"):      # English needs nothing
            pass


def test_stage_names_are_case_insensitive_on_the_command_line(tiny_result, tmp_path):
    folder = tiny_result.write(tmp_path)
    assert main(["map", str(folder), "--stage", "Primary", "--year", "2021"]) == 0
    assert (folder / "maps" / "primary_2021.png").is_file()


def test_run_given_a_model_folder_says_so(tiny_scenario, capsys):
    assert main(["run", str(tiny_scenario.parent / "model"), "-o", "/nonexistent"]) == 2
    err = capsys.readouterr().err
    assert "model folder" in err and "scenario" in err
