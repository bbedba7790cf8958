"""English and Chinese labels for people-facing tables (headers, stage names, sheet names).

Machine-readable outputs (CSV) keep the English snake_case column names; these labels are for
the Excel workbooks and printed tables only. Unknown names fall back to themselves, so a new
column still shows up (unlabelled) rather than failing.
"""
from __future__ import annotations

LANGS = ("en", "zh")

#: Stage names.
STAGES: dict[str, dict[str, str]] = {
    "kindergarten": {"en": "Kindergarten", "zh": "幼儿园"},
    "primary": {"en": "Primary", "zh": "小学"},
    "junior": {"en": "Junior secondary", "zh": "初中"},
    "senior": {"en": "Senior secondary", "zh": "高中"},
    "all": {"en": "All stages", "zh": "全部学段"},
}

#: Allocation modes.
MODES: dict[str, dict[str, str]] = {
    "optimal": {"en": "Optimal", "zh": "最优分配"},
    "catchment": {"en": "Catchment", "zh": "就近划片"},
}

#: Column headers, with units.
COLUMNS: dict[str, dict[str, str]] = {
    "zone_id": {"en": "Zone ID", "zh": "区域编号"},
    "zone_name": {"en": "Zone", "zh": "区域"},
    "stage": {"en": "Stage", "zh": "学段"},
    "year": {"en": "Year", "zh": "年份"},
    "scenario": {"en": "Scenario", "zh": "情景"},
    "mode": {"en": "Allocation mode", "zh": "分配方式"},
    "demand": {"en": "Demand (pupils)", "zh": "学位需求（人）"},
    "places": {"en": "Places", "zh": "学位（个）"},
    "served": {"en": "Served (pupils)", "zh": "已满足（人）"},
    "shortfall": {"en": "Shortfall (pupils)", "zh": "学位缺口（人）"},
    "out_of_reach": {"en": "Out of reach (pupils)", "zh": "服务半径外（人）"},
    "in_reach_unserved": {"en": "In reach, schools full (pupils)",
                          "zh": "半径内学位不足（人）"},
    "shortfall_rate": {"en": "Shortfall rate (%)", "zh": "缺口率（%）"},
    "peak_shortfall": {"en": "Peak shortfall (pupils)", "zh": "峰值缺口（人）"},
    "peak_year": {"en": "Peak year", "zh": "峰值年份"},
    "out_of_reach_in_peak_year": {"en": "Out of reach in peak year (pupils)",
                                  "zh": "峰值年服务半径外（人）"},
    "class_size": {"en": "Class size (pupils per class)", "zh": "班额（人/班）"},
    "classes_to_add": {"en": "Classes to add (classes)", "zh": "需增班级（个）"},
    "places_to_add": {"en": "Places to add (places)", "zh": "需增学位（个）"},
    "schools_to_build": {"en": "Standard schools to build (schools)",
                         "zh": "需建标准规模学校（所）"},
    "school_mix": {"en": "Standard school sizes (classes)", "zh": "标准学校规模（班）"},
    "standard_classes": {"en": "Classes in standard schools (classes)",
                         "zh": "标准学校班级数（个）"},
    "cost_per_place_cny": {"en": "Cost per place (CNY)", "zh": "每学位成本（元）"},
    "cost_cny": {"en": "Cost (CNY)", "zh": "建设成本（元）"},
    "cost_wan_cny": {"en": "Cost (10,000 CNY, 万元)", "zh": "建设成本（万元）"},
    "cost_yi_cny": {"en": "Cost (100 million CNY, 亿元)", "zh": "建设成本（亿元）"},
    "basis": {"en": "Basis", "zh": "依据"},
    "project_id": {"en": "Project ID", "zh": "项目编号"},
    "name": {"en": "Project", "zh": "项目名称"},
    "open_year": {"en": "Opening year", "zh": "开办年份"},
    "extra_shortfall_if_dropped": {"en": "Extra shortfall if dropped (pupil-years)",
                                   "zh": "取消后新增缺口（人·年）"},
    "extra_shortfall_if_dropped_peak": {"en": "Extra shortfall if dropped, peak year (pupils)",
                                        "zh": "取消后峰值年新增缺口（人）"},
    "latest_open_year_without_extra_shortfall": {
        "en": "Latest opening year without extra shortfall",
        "zh": "不增加缺口的最晚开办年份"},
    "indicator": {"en": "Indicator", "zh": "指标"},
    "value": {"en": "Value (%)", "zh": "数值（%）"},
    "target": {"en": "Target (%)", "zh": "目标（%）"},
    "met": {"en": "Target met", "zh": "是否达标"},
    "worst_year": {"en": "Worst year", "zh": "缺口最大年份"},
    "district_shortfall": {"en": "District shortfall in worst year (pupils)",
                           "zh": "最大缺口年全区缺口（人）"},
}

#: Indicator names (whole names as in indicators.csv, or the stage-less metric part).
INDICATORS: dict[str, dict[str, str]] = {
    "enrolment_rate": {"en": "Enrolment rate", "zh": "入学（园）率"},
    "inclusive_coverage": {"en": "Inclusive (普惠) coverage", "zh": "普惠覆盖率"},
    "nearby_enrolment_rate": {"en": "Nearby enrolment rate", "zh": "就近入学率"},
    "kindergarten_enrolment_rate": {"en": "Kindergarten enrolment rate", "zh": "学前三年毛入园率"},
    "inclusive_kindergarten_coverage": {"en": "Inclusive kindergarten coverage",
                                        "zh": "普惠性幼儿园覆盖率"},
}

#: Sheet names (Excel limits them to 31 characters).
SHEETS: dict[str, dict[str, str]] = {
    "readme": {"en": "README", "zh": "说明"},
    "summary": {"en": "Summary", "zh": "汇总"},
    "indicators": {"en": "Indicators", "zh": "指标"},
    "shortfall_by_zone": {"en": "Shortfall by zone", "zh": "分区学位缺口"},
    "places_to_add": {"en": "Places to add", "zh": "需增学位"},
    "cost": {"en": "Cost", "zh": "建设成本"},
    "criticality": {"en": "Project criticality", "zh": "重点项目关键性"},
    "shortfall": {"en": "Shortfall", "zh": "学位缺口"},
    "worst_year_zones": {"en": "Worst-year zones", "zh": "最大缺口年分区"},
}

#: Words used in totals and notes.
WORDS: dict[str, dict[str, str]] = {
    "district_total": {"en": "District total", "zh": "全区合计"},
    "target": {"en": "target", "zh": "目标"},
    "met": {"en": "met", "zh": "达标"},
    "item": {"en": "Item", "zh": "项目"},
    "description": {"en": "Description", "zh": "说明"},
    "yes": {"en": "yes", "zh": "是"},
    "no": {"en": "no", "zh": "否"},
}


def _pick(table: dict[str, dict[str, str]], key: str, lang: str) -> str | None:
    check_lang(lang)
    entry = table.get(key)
    return None if entry is None else entry[lang]


def check_lang(lang: str) -> None:
    """Raise ValueError unless ``lang`` is one of :data:`LANGS`."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, not {lang!r}")


def stage_label(stage: str, lang: str = "en") -> str:
    """``primary`` → ``Primary`` / ``小学``."""
    return _pick(STAGES, stage, lang) or stage


def mode_label(mode: str, lang: str = "en") -> str:
    """``optimal`` → ``Optimal`` / ``最优分配``."""
    return _pick(MODES, mode, lang) or mode


def word(key: str, lang: str = "en") -> str:
    """A word from :data:`WORDS`."""
    return _pick(WORDS, key, lang) or key


def sheet_label(view: str, lang: str = "en") -> str:
    """Sheet name for a view (at most 31 characters)."""
    return (_pick(SHEETS, view, lang) or view)[:31]


def indicator_label(name: str, lang: str = "en") -> str:
    """Indicator name, e.g. ``nearby_enrolment_rate`` → ``Nearby enrolment rate`` / ``就近入学率``.

    A ``<stage>_<metric>`` name not listed is labelled from its stage and metric.
    """
    found = _pick(INDICATORS, name, lang)
    if found:
        return found
    for stage in STAGES:
        if name.startswith(stage + "_") and name[len(stage) + 1:] in INDICATORS:
            sep = "" if lang == "zh" else " "
            metric = INDICATORS[name[len(stage) + 1:]][lang]
            return f"{stage_label(stage, lang)}{sep}{metric if lang == 'zh' else metric.lower()}"
    return name.replace("_", " ").capitalize() if lang == "en" else name


def column_label(column: str, lang: str = "en") -> str:
    """Header for a column, with its unit; indicator columns ``<metric>[_target|_met]`` too."""
    found = _pick(COLUMNS, column, lang)
    if found:
        return found
    for suffix in ("_target", "_met"):
        if column.endswith(suffix):
            base = column[: -len(suffix)]
            if base in INDICATORS:
                tail = word(suffix[1:], lang)
                if suffix == "_target":
                    return (f"{indicator_label(base, lang)}{tail}（%）" if lang == "zh"
                            else f"{indicator_label(base, lang)} {tail} (%)")
                return (f"{indicator_label(base, lang)}{tail}" if lang == "zh"
                        else f"{indicator_label(base, lang)} {tail}")
    if column in INDICATORS:
        return (f"{indicator_label(column, lang)}（%）" if lang == "zh"
                else f"{indicator_label(column, lang)} (%)")
    return column
