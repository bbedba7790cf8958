"""Labels and prose are data: one file per language, with the same keys and template fields."""
from __future__ import annotations

import string
import tomllib
from importlib import resources

import pytest

from capacity.report import labels as L

FILES = {f.name.removesuffix(".toml"): f
         for f in resources.files("capacity.report").joinpath("text").iterdir()
         if f.name.endswith(".toml")}


def _flat(table: dict, prefix: str = "") -> dict[str, str]:
    out = {}
    for key, value in table.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _fields(template: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(template) if f}


TEXTS = {lang: _flat(tomllib.loads(f.read_text("utf-8"))) for lang, f in FILES.items()}


def test_english_and_chinese_files():
    assert set(FILES) == {"en", "zh"} and L.LANGS == ("en", "zh")


@pytest.mark.parametrize("lang", sorted(set(TEXTS) - {"en"}))
def test_every_label_key_exists_in_both_languages(lang):
    assert set(TEXTS[lang]) - set(TEXTS["en"]) == set(), "keys missing in en"
    assert set(TEXTS["en"]) - set(TEXTS[lang]) == set(), f"keys missing in {lang}"
    assert all(isinstance(v, str) and v.strip() for v in TEXTS[lang].values())


#: Fields the code fills in each [patterns] template (a language uses any of them).
PATTERN_FIELDS = {"stage_metric": {"stage", "metric", "metric_lower"},
                  "unknown_indicator": {"name", "name_words"},
                  "indicator_value": {"indicator"}, "indicator_target": {"indicator"},
                  "indicator_met": {"indicator"}, "the_target_of_year": {"year"},
                  "plan_targets_of_year": {"year"}}


@pytest.mark.parametrize("lang", sorted(TEXTS))
def test_templates_use_the_fields_the_code_fills(lang):
    for key, text in TEXTS[lang].items():
        section, name = key.split(".", 1)
        if section == "patterns":
            assert _fields(text) <= PATTERN_FIELDS.get(name, set()), key
        else:   # prose: the same fields in every language
            assert _fields(text) == _fields(TEXTS["en"][key]), key


def test_labels_compose_from_the_files():
    assert L.stage_label("junior", "zh") == "初中"
    assert L.column_label("nearby_enrolment_rate_target") == "Nearby enrolment rate target (%)"
    assert L.column_label("enrolment_rate_met", "zh") == "学位保障率达标"
    assert L.indicator_label("primary_enrolment_rate") == \
        "Primary place coverage (children with a place within reach)"
    assert L.indicator_label("primary_enrolment_rate", "zh") == "小学学位保障率"
    assert L.indicator_label("odd_one") == "Odd one"
    assert L.targets_phrase(2030) == "the 2030 target"
    assert L.targets_phrase(None, "zh", plan=True) == "目标"
    with pytest.raises(ValueError, match="lang must be one of"):
        L.stage_label("primary", "fr")


def test_every_indicator_of_a_run_has_a_definition_in_both_languages():
    """Issue 23: indicator names a superior reads correctly, each with a definition; a
    stage's ``<stage>_<metric>`` is defined by its metric."""
    names = ["primary_enrolment_rate", "junior_enrolment_rate", "senior_enrolment_rate",
             "kindergarten_enrolment_rate", "nearby_enrolment_rate",
             "primary_nearby_enrolment_rate", "inclusive_kindergarten_coverage"]
    for lang in L.LANGS:
        for name in names:
            assert L.indicator_definition(name, lang), (name, lang)
    assert "not out of school" in L.indicator_definition("primary_enrolment_rate")
    assert "并非失学" in L.indicator_definition("junior_enrolment_rate", "zh")
    assert L.indicator_definition("odd_one") is None
