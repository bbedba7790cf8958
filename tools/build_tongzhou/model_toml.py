"""model.toml: the model's parameters, each with its source in a comment."""
from __future__ import annotations

from pathlib import Path

from .common import Sources

_ENROLMENT_NOTE = {
    "kindergarten": "PLAN target (>90 % by 2025; >90 % already reported for 2020)",
    "primary": "derived: 2020-21 pupils 74,881 (S71) / census ages 6-11 {pop:,.0f} (S13, graduated)",
    "junior": "derived estimate: Beijing 2022 junior enrolled (S40) / Beijing census cohort "
              "({r_bj_j:.3f}) x Tongzhou/Beijing primary ratio ({adj:.3f})",
    "senior": "derived estimate: general senior high only; Beijing 2022 (S40) / census cohort "
              "({r_bj_s:.3f}) x {adj:.3f}",
}


#: Staffing standards (S82 schools, S83 kindergartens): the stage key and its comment.
STAFFING = {
    "kindergarten": ("teachers_per_class = 2", "full-day class: 2 teachers + 1 carer (S83)"),
    "primary": ("pupils_per_teacher = 19", "national staffing standard 1:19 (S82)"),
    "junior": ("pupils_per_teacher = 13.5", "national staffing standard 1:13.5 (S82)"),
    "senior": ("pupils_per_teacher = 12.5", "national staffing standard 1:12.5 (S82)"),
}


def _stage_block(st: str, p: dict, rate: float, rinfo: dict) -> str:
    note = _ENROLMENT_NOTE[st].format(**{**rinfo, "pop": rinfo["pop"][st]})
    enrol = f"{rate:.2f}" if st == "kindergarten" else f"{rate:.3f}"
    return (f"[stages.{st}]\n"
            f"ages = [{p['age_from']}, {p['age_to']}]\n"
            f"{'enrolment = ' + enrol:<29} # {note}\n"
            f"class_size = {p['class_size']}\n"
            f"radius_m = {p['radius_m']}\n"
            f"cost_per_place = {p['cost_per_place']}\n"
            f"{STAFFING[st][0]:<29} # {STAFFING[st][1]}\n")


def model_toml(s: Sources, rates: dict, rinfo: dict, finfo: dict, srb: float,
               tfr: dict[int, float]) -> str:
    stages = "\n".join(_stage_block(st, p, rates[st], rinfo) for st, p in s.stages().items())
    return f'''# Tongzhou District (Beijing city sub-centre) - embedded default model.
# Built by `python -m tools.build_tongzhou` from models/tongzhou/sources/; see README.md for
# the provenance of every table (reported / derived / estimate) and the methods.
name = "Tongzhou District, Beijing"
name_zh = "北京市通州区"
base_year = 2020              # 7th census, reference date 2020-11-01 (S12, S13)
crs = "EPSG:32650"            # WGS 84 / UTM zone 50N, metres

[demography]
open_age = 100
srb = {srb:.4f}                  # Tongzhou 2020 census sex ratio at age 0, {srb * 100:.2f} (derived, S13)
migration_timing = "even"

# The model's fertility path (estimate; README.md, Fertility): 2021-2024 scaled so the model's
# births equal Beijing's resident crude birth rate (S22, S23, S24, S81) x the model's mean
# population x 1.0151 (Tongzhou's births per head / Beijing's, 2020 census age 0, S13);
# after 2024 the UN WPP 2024 China TFR path (medium) relative to its 2024 value (S80).
# scenarios/fertility-2020-held.toml keeps the 2020 rates instead.
[fertility]
tfr = {{ {", ".join(f"{y} = {v:.4f}" for y, v in sorted(tfr.items()))} }}

[files]
zones = "zones.geojson"       # 22 township-level units: APPROXIMATE Voronoi cells (estimate)
population = "population.csv" # 2020 census by sex x 5-year group, exact; zone split partly estimated
fertility = "fertility.csv"   # TFR {finfo['tfr']:.3f} (derived from S19, S13) with an estimated gamma age pattern
mortality = "mortality.csv"   # sx from estimated 2020 life tables (e0 80.3 M / 84.5 F, IMR 1.98 per 1000)
migration = "migration.csv"   # estimate: gross inflow (2010-20 census residual + exits) and exit rates by age, level fitted to S17/S16 totals
housing = "housing.csv"       # estimate: illustrative new-housing pipeline 2021-2030
units = "units.csv"           # estimate: 500 m grid, weights decaying from the zone seat
schools = "schools.csv"       # mostly SYNTHETIC inventory calibrated to district totals
projects = "projects.csv"     # every key project named in the 2021-2025 plan (sizes mostly estimates)
anchors = "anchors.csv"       # UN WPP 2024 China, Beijing births and birth rates: plausibility checks
reported_enrolment = "reported_enrolment.csv"  # reported pupils (S35, S36, S71): calibration.csv

# Service radii: the national walking norms (300 / 500 / 1000 m, GB 50180-93, S58) are for
# dense urban residential districts; most of Tongzhou's 906 km2 are towns and villages
# served by bus and car, and the zones are coarse.  The defaults below are planning choices
# (estimate) for the urban subdistricts; zones.geojson's radius_scale doubles them in the
# nine rural towns (estimate: village pupils are bussed or board), see README.md.
# Class sizes are the national standards (GB 50099-2011, S56; kindergarten 幼儿园工作规程, S57).
# cost_per_place: total investment per place, Beijing EDA 2024 approvals (derived, S62);
# kindergarten: estimate (S62 cost per m2, about CNY 9,810, x about 15 m2 of floor per child).
# Every stage parameter and its source: sources/stage_parameters.csv.

{stages}
# The plan's 2025 targets (district 2021-2025 education plan, 专栏 table; sources/
# plan_2021_2025_excerpt.txt): kindergarten enrolment > 90 %, inclusive (普惠) kindergarten
# coverage 90 %, nearby enrolment in compulsory education > 99 %.
[targets]
year = 2025
kindergarten_enrolment_rate = 0.90
inclusive_kindergarten_coverage = 0.90
nearby_enrolment_rate = 0.99

# Grades, teachers and shrinking schools (docs/outputs.md: grades, intake, teachers,
# staffing, shrinking). Beijing admits to grade 1 children who are 6 by 31 August (满6周岁);
# the census reference date is 1 November (S12). Staffing standards per stage above (S82:
# 教职工 posts of the 2014 national standard; S83: kindergarten teachers); Tongzhou's own
# 2014/2015 pupil-teacher ratios are a calibration (README.md). Attrition and the shrinking
# thresholds are ESTIMATES (planning choices, no source).
[school_year]
cutoff = "08-31"
reference_date = "11-01"

[staffing]
attrition = 0.04              # estimate: about 1/30 retiring a year plus moves

[shrinking]
intake_below_classes = 1      # estimate: fewer entrants than one full class
use_below = 0.6               # estimate: under 60 % of places used ...
years = 3                     # ... for 3 years or more

# Shown on the first page of report.html: which inputs are estimates or synthetic
# (README.md, "Read this first"); caveats_zh in Chinese reports.
[report]
caveats = [
  "Only the district totals are census facts (2020 census, S12/S13).",
  "Zones are approximate township cells (Voronoi around the seats), not official boundaries; 14 of 22 zone populations are estimates.",
  "The school inventory is SYNTHETIC, calibrated to the district totals (no per-school data were found).",
  "The housing pipeline, migration and the sizes of most key projects are estimates.",
  "Life tables are model tables fitted to estimated life expectancies.",
]
caveats_zh = [
  "只有全区总数是普查数据（2020 年第七次人口普查，S12/S13）。",
  "区域为按街道乡镇驻地划分的近似范围（泰森多边形），并非官方边界；22 个区域中 14 个的人口为估算。",
  "学校名录为合成数据，按全区总数校准（未找到逐校数据）。",
  "新建住宅、人口迁移及多数重点项目的规模为估算。",
  "生命表为按估算预期寿命拟合的模型生命表。",
]

# Site planning (`capacity plan`, docs/plan.md) and the budget's recommendation rule.
# Tongzhou has no public list of reserved education land: there is no sites.csv, so candidate
# sites are GENERATED from the demand (flagged `generated`; method in docs/plan.md).
# Temporary places (modular classrooms, repurposed rooms) and transport costs are ESTIMATES
# (planning choices, no source): about 5 % of a permanent place per year, and a school-bus
# seat for a school year. Service: compulsory stages must place 99 % of pupils each year
# where the options can (default service_level, the plan's nearby-enrolment target); every
# pupil-year without a place costs a quarter of a place (default max_cost_per_pupil_year).
# Lead times, construction years and standard sizes are the defaults (docs/plan.md).
[plan]
start_year = 2027             # a bureau plans from today (school year 2026/27 is under way)
discount_rate = 0.06          # estimate: social discount rate floor for long-lived projects
min_use = 0.6                 # estimate: no new school below 60 % use in its first years
transient_years = 4           # budget: shorter shortfalls (gone by the horizon) get temporary places
transport_max_pupils = 30     # budget: up to this many out-of-reach pupils are transported

[plan.stages.kindergarten]
temporary_cost_per_place_year = 8000    # estimate
transport_cost_per_pupil_year = 6000    # estimate

[plan.stages.primary]
temporary_cost_per_place_year = 14000   # estimate
transport_cost_per_pupil_year = 6000    # estimate

[plan.stages.junior]
temporary_cost_per_place_year = 19000   # estimate
transport_cost_per_pupil_year = 6000    # estimate

[plan.stages.senior]
temporary_cost_per_place_year = 19000   # estimate
transport_cost_per_pupil_year = 6000    # estimate
'''


def write_model_toml(text: str, out: Path) -> None:
    (out / "model.toml").write_text(text, encoding="utf-8")
