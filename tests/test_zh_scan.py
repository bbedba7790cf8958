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
def zh_outputs(tmp_path_factory):
    """The output folders and what each command printed (``{command: stdout}``)."""
    out = tmp_path_factory.mktemp("zh-scan")
    printed: dict[str, str] = {}
    import contextlib
    import io

    def call(name: str, argv: list[str]) -> None:
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            code = main(argv)
        assert code == 0, (name, buf.getvalue())
        printed[name] = buf.getvalue()

    call("run", ["run", str(SCENARIOS / "baseline.toml"), str(SCENARIOS / "half-inflow.toml"),
                 "-o", str(out / "run"), "--lang", "zh"])
    call("compare", ["compare", str(out / "run" / "baseline"), str(out / "run" / "half-inflow"),
                     "-o", str(out / "compare"), "--lang", "zh"])
    call("plan", ["plan", str(SCENARIOS / "baseline.toml"), "-o", str(out / "plan"),
                  "--stage", "kindergarten", "--time-limit", "20", "--lang", "zh"])
    call("ensemble", ["ensemble", str(SCENARIOS / "baseline.toml"), "-o", str(out / "ensemble"),
                      "--draws", "3", "--workers", "1", "--lang", "zh"])
    return out, printed


def _report(found: Counter) -> str:
    return "\n".join(f"{n:5} {where}: {word}" for (where, word), n in found.most_common(40))


@pytest.mark.parametrize("folder", ["run/baseline", "compare", "plan/baseline-plan",
                                    "ensemble/baseline-ensemble"])
def test_no_latin_word_in_chinese_outputs(zh_outputs, folder):
    out, _ = zh_outputs
    path = out / folder
    assert any(path.rglob("*.html")) or any(path.rglob("*.xlsx")), f"nothing written in {path}"
    found = scan([path])
    assert not found, f"{sum(found.values())} Latin words in {folder}:\n{_report(found)}"


@pytest.mark.parametrize("command", ["run", "compare", "plan", "ensemble"])
def test_no_latin_word_in_chinese_consoles(zh_outputs, command):
    out, printed = zh_outputs
    text = printed[command].replace(str(out), "out")       # the folders written: paths
    assert any("\u4e00" <= c <= "\u9fff" for c in text), text
    found = Counter(words(text))
    assert not found, f"{command} printed Latin words {dict(found)}:\n{text}"


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
