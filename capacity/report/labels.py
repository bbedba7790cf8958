"""Labels and prose for people-facing tables, in every language of ``report/text/``.

The texts are data: one TOML file per language (``text/en.toml``, ``text/zh.toml``) with the
same sections and keys; this module only reads and composes them. Machine-readable outputs
(CSV) keep the English snake_case column names; these labels are for the Excel workbooks
and printed tables only. Unknown names fall back to themselves, so a new column still shows
up (unlabelled) rather than failing.
"""
from __future__ import annotations

import tomllib
from importlib import resources
from typing import Any


def _load() -> dict[str, dict[str, dict[str, str]]]:
    folder = resources.files("capacity.report").joinpath("text")
    return {f.name.removesuffix(".toml"): tomllib.loads(f.read_text("utf-8"))
            for f in sorted(folder.iterdir(), key=lambda f: f.name)
            if f.name.endswith(".toml")}


#: Every text, by language, section and key.
TEXTS = _load()
LANGS = tuple(TEXTS)


def _by_key(section: str) -> dict[str, dict[str, str]]:
    """One section as ``{key: {lang: text}}`` (keys in the English file's order)."""
    return {k: {lang: TEXTS[lang][section].get(k, k) for lang in LANGS}
            for k in TEXTS["en"][section]}


#: Stage names, in teaching order.
STAGES = _by_key("stages")
#: Allocation modes.
MODES = _by_key("modes")
#: Column headers, with units.
COLUMNS = _by_key("columns")
#: Indicator names (whole names as in indicators.csv, or the stage-less metric part).
INDICATORS = _by_key("indicators")
#: Sheet names (Excel limits them to 31 characters).
SHEETS = _by_key("sheets")
#: Words used in totals and notes.
WORDS = _by_key("words")


def check_lang(lang: str) -> None:
    """Raise ValueError unless ``lang`` is one of :data:`LANGS`."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, not {lang!r}")


def text(section: str, key: str, lang: str = "en", **fields: Any) -> str:
    """The text ``[section] key`` in ``lang``, its ``{field}`` templates filled in."""
    check_lang(lang)
    found = TEXTS[lang][section][key]
    return found.format(**fields) if fields else found


def _pick(section: str, key: str, lang: str) -> str | None:
    check_lang(lang)
    return TEXTS[lang][section].get(key)


def stage_label(stage: str, lang: str = "en") -> str:
    """``primary`` → ``Primary`` / ``小学``."""
    return _pick("stages", stage, lang) or stage


def mode_label(mode: str, lang: str = "en") -> str:
    """``optimal`` → ``Optimal`` / ``最优分配``."""
    return _pick("modes", mode, lang) or mode


def word(key: str, lang: str = "en") -> str:
    """A word from :data:`WORDS`."""
    return _pick("words", key, lang) or key


def sheet_label(view: str, lang: str = "en") -> str:
    """Sheet name for a view (at most 31 characters)."""
    return (_pick("sheets", view, lang) or view)[:31]


def targets_phrase(year: Any, lang: str = "en", *, plan: bool = False) -> str:
    """'the 2025 target' (``plan``: "the plan's 2025 targets"), or without a year when
    ``year`` is None."""
    key = "plan_targets" if plan else "the_target"
    if year is None:
        return text("patterns", key, lang)
    return text("patterns", f"{key}_of_year", lang, year=year)


def indicator_label(name: str, lang: str = "en") -> str:
    """Indicator name, e.g. ``nearby_enrolment_rate`` → ``Nearby enrolment rate`` / ``就近入学率``.

    A ``<stage>_<metric>`` name not listed is labelled from its stage and metric.
    """
    found = _pick("indicators", name, lang)
    if found:
        return found
    for stage in STAGES:
        metric = name[len(stage) + 1:]
        if name.startswith(stage + "_") and metric in INDICATORS:
            label = INDICATORS[metric][lang]
            return text("patterns", "stage_metric", lang, stage=stage_label(stage, lang),
                        metric=label, metric_lower=label.lower())
    return text("patterns", "unknown_indicator", lang, name=name,
                name_words=name.replace("_", " ").capitalize())


def column_label(column: str, lang: str = "en") -> str:
    """Header for a column, with its unit; indicator columns ``<metric>[_target|_met]`` too."""
    found = _pick("columns", column, lang)
    if found:
        return found
    for suffix in ("_target", "_met"):
        base = column.removesuffix(suffix)
        if base != column and base in INDICATORS:
            return text("patterns", f"indicator{suffix}", lang,
                        indicator=indicator_label(base, lang))
    if column in INDICATORS:
        return text("patterns", "indicator_value", lang,
                    indicator=indicator_label(column, lang))
    return column


def indicator_definition(name: str, lang: str = "en") -> str | None:
    """What an indicator of indicators.csv measures (text/<lang>.toml
    [indicator_definitions]; a ``<stage>_<metric>`` name by its metric), or None."""
    found = _pick("indicator_definitions", name, lang)
    if found:
        return found
    for stage in STAGES:
        if name.startswith(stage + "_"):
            return _pick("indicator_definitions", name[len(stage) + 1:], lang)
    return None
