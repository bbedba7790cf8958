"""Chinese throughout (issue 23): run + compare + plan + ensemble in Chinese on the Tongzhou
model, then every Chinese output a reader sees — HTML visible text, SVG figure texts, every
workbook cell, the consoles — scanned for Latin-script words outside the allow-list of
tests/zh_scan.py (ids in id columns, units, EPSG codes, quantile names, file and setting
names, command lines). About a minute: a small plan (kindergarten, 20 s) and 3 draws."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from capacity.cli import main

from zh_scan import scan, words

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"

pytestmark = pytest.mark.slow        # CI (`make test`) runs every test, slow ones too


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("zh-scan")


def _call(argv: list[str]) -> str:
    """Run the command in-process; what it printed (it must succeed)."""
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(argv)
    assert code == 0, (argv[0], buf.getvalue())
    return buf.getvalue()


COMMANDS = {   # command → (its arguments given OUT, the folder it writes, what it needs first)
    "run": (lambda o: ["run", str(SCENARIOS / "baseline.toml"),
                       str(SCENARIOS / "half-inflow.toml"), "-o", str(o / "run"), "--lang", "zh"],
            "run/baseline"),
    "compare": (lambda o: ["compare", str(o / "run" / "baseline"), str(o / "run" / "half-inflow"),
                           "-o", str(o / "compare"), "--lang", "zh"], "compare"),
    "plan": (lambda o: ["plan", str(SCENARIOS / "baseline.toml"), "-o", str(o / "plan"),
                        "--stage", "kindergarten", "--time-limit", "20", "--lang", "zh"],
             "plan/baseline-plan"),
    "ensemble": (lambda o: ["ensemble", str(SCENARIOS / "baseline.toml"), "-o",
                            str(o / "ensemble"), "--draws", "3", "--workers", "1", "--lang", "zh"],
                 "ensemble/baseline-ensemble"),
    "report": (lambda o: ["report", str(o / "run" / "baseline"), "--plan",
                          str(o / "plan" / "baseline-plan"), "--ensemble",
                          str(o / "ensemble" / "baseline-ensemble"), "-o", str(o / "dossier"),
                          "--lang", "zh"], "dossier"),
}


@pytest.fixture(scope="module")
def printed(out) -> dict[str, str]:
    """What each command printed, run once in order (compare reads the runs); a command
    that fails leaves its entry out, so only its own tests fail."""
    got: dict[str, str] = {}
    for name, (argv, _) in COMMANDS.items():
        try:
            got[name] = _call(argv(out))
        except (AssertionError, SystemExit) as exc:       # e.g. an option it lacks
            got[name] = exc
    return got


def _report(found: Counter) -> str:
    return "\n".join(f"{n:5} {where}: {word}" for (where, word), n in found.most_common(40))


@pytest.mark.parametrize("command", list(COMMANDS))
def test_no_latin_word_in_chinese_outputs(out, printed, command):
    assert isinstance(printed[command], str), f"{command} failed: {printed[command]!r}"
    path = out / COMMANDS[command][1]
    assert any(path.rglob("*.html")) or any(path.rglob("*.xlsx")), f"nothing written in {path}"
    found = scan([path])
    assert not found, f"{sum(found.values())} Latin words in {path.name}:\n{_report(found)}"


@pytest.mark.parametrize("command", list(COMMANDS))
def test_no_latin_word_in_chinese_consoles(out, printed, command):
    assert isinstance(printed[command], str), f"{command} failed: {printed[command]!r}"
    text = printed[command].replace(str(out), "out")       # the folders written: paths
    assert any("\u4e00" <= c <= "\u9fff" for c in text), text
    found = Counter(words(text))
    assert not found, f"{command} printed {sum(found.values())} Latin words {dict(found)}:\n{text}"


def test_the_scan_sees_latin_words():
    # the scanner itself: English prose is found, the allow-list's words are not
    assert words("已写入 budget.xlsx；EPSG:32650，5 km，P80，model.toml [stages.primary] "
                 "cost_per_place，capacity run") == []
    assert words("Synthetic primary school, Majuqiao 1临时学位") == \
        ["Synthetic", "primary", "school", "Majuqiao"]
    from zh_scan import html_words

    page = ("<html><head><style>p{color:red}</style><script>var a='English';</script></head>"
            "<body><table><tr><th>区域编号</th><th>区域</th></tr><tr><td>majuqiao</td>"
            "<td>Majuqiao Town</td></tr></table><p>学位 shortfall</p></body></html>")
    assert html_words(page) == ["Majuqiao", "Town", "shortfall"]


def _glossary() -> list[dict[str, str]]:
    rows = []
    for line in (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0] not in ("中文术语", "---"):
            rows.append(dict(zip(("zh", "en", "def_zh", "def_en", "avoid"), cells)))
    return rows


def test_glossary_terms_in_the_chinese_catalogue():
    # every avoided word is absent from zh.toml once the preferred terms are taken out
    zh = (ROOT / "capacity" / "report" / "text" / "zh.toml").read_text(encoding="utf-8")
    rows = _glossary()
    assert len(rows) >= 20
    for row in rows:
        avoid = row["avoid"].split(" (")[0].strip()
        if not avoid:
            continue
        rest = zh
        for term in row["zh"].split(" / "):
            rest = rest.replace(term, "")
        assert avoid not in rest, (row["zh"], avoid)
    # the bureau's words the catalogue must use
    for word in ("普通高中", "服务范围", "校车接送", "未达标", "学位·年", "学位缺口", "就近入学",
                 "普惠"):
        assert word in zh, word


def test_every_scenario_and_synthetic_school_is_named_in_chinese(tmp_path):
    import pandas as pd

    from capacity.scenario import load_scenario

    for path in sorted(SCENARIOS.glob("*.toml")):
        s = load_scenario(path)
        assert s.name_zh and s.description_zh, path.name
        assert not words(s.name_zh + s.description_zh), (path.name, s.name_zh)
    # name_zh and description_zh are each file's own: not inherited through extends
    child = tmp_path / "child.toml"
    child.write_text(f'name = "child"\nextends = "{SCENARIOS / "baseline.toml"}"\n'
                     'description = "only English"\n', encoding="utf-8")
    s = load_scenario(child)
    assert s.name_zh is None and s.description_zh is None
    schools = pd.read_csv(ROOT / "models" / "tongzhou" / "schools.csv")
    synthetic = schools[schools["school_id"].str.startswith("syn-")]
    assert synthetic["name_zh"].str.endswith("（示意）").all()
    assert not schools["name"].str.contains("Ethnicship").any()
    assert schools["name_zh"].notna().all()


def test_synthetic_names_from_the_builder(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))          # tools/ is beside capacity/
    from tools.build_tongzhou.schools import chinese_ordinal, synthetic_names

    assert [chinese_ordinal(k) for k in (1, 9, 10, 11, 20, 23)] == \
        ["第一", "第九", "第十", "第十一", "第二十", "第二十三"]
    assert synthetic_names("Yujiawu Hui Ethnic Township", "于家务回族乡", "n", 2) == \
        ("Synthetic nine-year school, Yujiawu 2", "于家务回族乡第二九年一贯制学校（示意）")
    assert synthetic_names("Majuqiao Town", "马驹桥镇", "p", 1) == \
        ("Synthetic primary school, Majuqiao 1", "马驹桥镇第一小学（示意）")
