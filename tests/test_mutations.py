"""Table-driven mutation suite (issue 11): each case breaks a copy of the tiny model (or its
scenario) in one way and states the exit code of ``capacity validate`` and where the message
points (``file:row:column:``). Every case: no traceback; a refused input writes nothing
(the cases marked ``run`` also go through ``capacity run`` with the same verdict and an
empty ``-o``); an accepted one may warn."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Callable

import pandas as pd
import pytest
from tiny_model import to_lonlat, write_tiny_model

from capacity.cli import main

HEAD = 'name = "s"\nmodel = "m"\nhorizon = 2025\n'   # the body starts at line 4


# ---- mutations -------------------------------------------------------------------------

def cell(file: str, line: int, col: str, value: str) -> Callable[[Path], None]:
    """Set one cell (``line`` as an editor shows it: header = 1)."""
    def mutate(m: Path) -> None:
        f = pd.read_csv(m / file, dtype=str, keep_default_na=False)
        if col not in f.columns:
            f[col] = ""
        f.loc[line - 2, col] = value
        f.to_csv(m / file, index=False)
    return mutate


def toml(old: str, new: str) -> Callable[[Path], None]:
    def mutate(m: Path) -> None:
        text = (m / "model.toml").read_text(encoding="utf-8")
        assert old in text, old
        (m / "model.toml").write_text(text.replace(old, new, 1), encoding="utf-8")
    return mutate


def scen(body: str, head: str = HEAD) -> Callable[[Path], None]:
    def mutate(m: Path) -> None:
        (m.parent / "s.toml").write_text(head + body, encoding="utf-8")
    return mutate


def both(*fs: Callable[[Path], None]) -> Callable[[Path], None]:
    def mutate(m: Path) -> None:
        for f in fs:
            f(m)
    return mutate


def zones_json(edit: Callable[[dict], None]) -> Callable[[Path], None]:
    def mutate(m: Path) -> None:
        data = json.loads((m / "zones.geojson").read_text())
        edit(data)
        (m / "zones.geojson").write_text(json.dumps(data))
    return mutate


def _empty_polygon(d: dict) -> None:
    d["features"][1]["geometry"] = {"type": "Polygon", "coordinates": []}


def _swap(d: dict) -> None:
    for f in d["features"]:
        f["geometry"]["coordinates"] = [[[y, x] for x, y in ring]
                                        for ring in f["geometry"]["coordinates"]]


def _declare_utm(d: dict) -> None:
    d["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32650"}}


def _bowtie(d: dict) -> None:
    ring = d["features"][0]["geometry"]["coordinates"][0]
    (a, b), (c, e) = ring[0], ring[2]
    d["features"][0]["geometry"]["coordinates"] = [[[a, b], [c, e], [c, b], [a, e], [a, b]]]


def _point(d: dict) -> None:
    d["features"][2]["geometry"] = {"type": "Point", "coordinates": [116.7, 39.9]}


def _dup_zone(d: dict) -> None:
    d["features"][1]["properties"]["zone_id"] = "a"


def _radius_scale(d: dict) -> None:
    d["features"][0]["properties"]["radius_scale"] = 100


def rising_lx(m: Path) -> None:
    f = pd.read_csv(m / "mortality.csv")
    f = f.rename(columns={"sx": "Lx"})
    f["Lx"] = 100000.0 - 1000.0 * f["age"]
    f.loc[(f["sex"] == "F") & (f["age"] == 10), "Lx"] = 150000.0   # line 12
    f.to_csv(m / "mortality.csv", index=False)


def no_units(m: Path) -> None:
    toml('units = "units.csv"\n', "")(m)


def outside_file(m: Path) -> None:
    shutil.copy(m / "population.csv", m.parent / "elsewhere.csv")
    toml('population = "population.csv"', 'population = "../elsewhere.csv"')(m)


def symlink_out(m: Path) -> None:
    shutil.move(m / "population.csv", m.parent / "elsewhere.csv")
    (m / "population.csv").symlink_to(m.parent / "elsewhere.csv")


def big_field(m: Path) -> None:
    cell("schools.csv", 2, "name", "x" * 200_000)(m)


def separator_in_field(m: Path) -> None:
    cell("schools.csv", 2, "name", "Kinder\u2028One\u0085Two")(m)


def multiline_then_bad(m: Path) -> None:
    cell("schools.csv", 2, "name", "Kinder\nOne")(m)    # row 2 spans lines 2-3
    cell("schools.csv", 3, "places", "-1")(m)           # the next row starts at line 4


def bom(file: str) -> Callable[[Path], None]:
    def mutate(m: Path) -> None:
        p = m / file if file == "model.toml" else m.parent / file
        p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes())
    return mutate


def not_utf8(m: Path) -> None:
    (m / "model.toml").write_bytes((m / "model.toml").read_bytes() + b"# \xff\n")


def dup_pop_row(m: Path) -> None:
    cell("population.csv", 3, "age", "0")(m)


def swapped_housing(m: Path) -> None:
    f = pd.read_csv(m / "housing.csv")
    f[["lon", "lat"]] = f[["lat", "lon"]].to_numpy()
    f.to_csv(m / "housing.csv", index=False)


def rename_col(file: str, old: str, new: str, value: str) -> Callable[[Path], None]:
    def mutate(m: Path) -> None:
        f = pd.read_csv(m / file, dtype=str).rename(columns={old: new})
        f.loc[0, new] = value
        f.to_csv(m / file, index=False)
    return mutate


def cycle(m: Path) -> None:
    (m.parent / "t.toml").write_text('extends = "s.toml"\n')
    scen('extends = "t.toml"\n')(m)


def header_only(m: Path) -> None:
    (m / "schools.csv").write_text("school_id,name,stage,lon,lat,places\n")


def empty_file(m: Path) -> None:
    (m / "population.csv").write_text("")


def garbage_zones(m: Path) -> None:
    (m / "zones.geojson").write_text("not json at all")


def extra_mortality_column(m: Path) -> None:
    f = pd.read_csv(m / "mortality.csv")
    f["qx"] = 0.01
    f.to_csv(m / "mortality.csv", index=False)


def short_row(m: Path) -> None:
    (m / "schools.csv").write_text((m / "schools.csv").read_text() + "x,y\n")


def folder_as_file(m: Path) -> None:
    (m / "population.csv").unlink()
    (m / "population.csv").mkdir()


LON, LAT = (round(float(v[0]), 6) for v in to_lonlat([478000.0], [4417000.0]))
NEW = (f'[[projects.add]]\nproject_id = "n1"\nname = "N"\nkind = "new"\nstage = "primary"\n'
       f'lon = {LON}\nlat = {LAT}\nopen_year = 2023\n')           # lines 4-11
REP = (f'[[repurposed]]\nsite_id = "r1"\nstage = "primary"\nlon = {LON}\nlat = {LAT}\n'
       'places = 100\nfrom_year = 2022\n')                          # lines 4-10
CB = '[[cross_boundary]]\nzone_id = "a"\nstage = "primary"\npupils = 10\n'   # lines 4-7

# (id, mutation, exit code, "file:row:column:" or None for accepted, run it too)
CASES: list[tuple[str, Callable[[Path], None], int, str | None, bool]] = [
    # population.csv
    ("pop-negative", cell("population.csv", 2, "count", "-1"), 2, "population.csv:2:count:", True),
    ("pop-1e9", cell("population.csv", 2, "count", "1e9"), 2, "population.csv:2:count:", True),
    ("pop-1e15", cell("population.csv", 5, "count", "1e15"), 2, "population.csv:5:count:", True),
    ("pop-nan", cell("population.csv", 2, "count", "nan"), 2, "population.csv:2:count:", False),
    ("pop-inf", cell("population.csv", 2, "count", "inf"), 2, "population.csv:2:count:", False),
    ("pop-text", cell("population.csv", 2, "count", "many"), 2, "population.csv:2:count:", False),
    ("pop-empty", cell("population.csv", 2, "count", ""), 2, "population.csv:2:count:", False),
    ("pop-age-fraction", cell("population.csv", 2, "age", "3.5"), 2, "population.csv:2:age:",
     False),
    ("pop-age-200", cell("population.csv", 2, "age", "200"), 2, "population.csv:2:age:", False),
    ("pop-sex", cell("population.csv", 2, "sex", "X"), 2, "population.csv:2:sex:", False),
    ("pop-zone", cell("population.csv", 2, "zone_id", "zz"), 2, "population.csv:2:zone_id:",
     False),
    ("pop-duplicate", dup_pop_row, 2, "population.csv:3:zone_id:", False),
    ("pop-1e6-warns", cell("population.csv", 2, "count", "1000000"), 0,
     "population.csv:2:count:", False),
    # fertility.csv, mortality.csv, migration.csv
    ("asfr-5", cell("fertility.csv", 2, "asfr", "5"), 2, "fertility.csv:2:asfr:", True),
    ("asfr-negative", cell("fertility.csv", 3, "asfr", "-0.1"), 2, "fertility.csv:3:asfr:",
     False),
    ("asfr-age-3", cell("fertility.csv", 2, "age", "3"), 2, "fertility.csv:2:age:", True),
    ("asfr-0.4-warns", cell("fertility.csv", 2, "asfr", "0.4"), 0, "fertility.csv:2:asfr:",
     False),
    ("sx-1.5", cell("mortality.csv", 2, "sx", "1.5"), 2, "mortality.csv:2:sx:", False),
    ("sx-0", cell("mortality.csv", 2, "sx", "0"), 2, "mortality.csv:2:sx:", False),
    ("qx-2", rename_col("mortality.csv", "sx", "qx", "2"), 2, "mortality.csv:2:qx:", False),
    ("lx-rising", rising_lx, 2, "mortality.csv:12:Lx:", True),
    ("mortality-age-missing", cell("mortality.csv", 3, "age", "0"), 2, "mortality.csv:3:sex:",
     False),
    ("migration-1e7", cell("migration.csv", 2, "net", "1e7"), 2, "migration.csv:2:net:", False),
    ("migration-zone", cell("migration.csv", 2, "zone_id", "q"), 2, "migration.csv:2:zone_id:",
     False),
    ("migration-age", cell("migration.csv", 2, "age", "-1"), 2, "migration.csv:2:age:", False),
    # housing.csv, units.csv
    ("housing-negative", cell("housing.csv", 2, "units", "-5"), 2, "housing.csv:2:units:", False),
    ("housing-1e9", cell("housing.csv", 2, "units", "1e9"), 2, "housing.csv:2:units:", True),
    ("housing-year", cell("housing.csv", 2, "completion_year", "99999"), 2,
     "housing.csv:2:completion_year:", True),
    ("housing-ppu-0", cell("housing.csv", 2, "persons_per_unit", "0"), 2,
     "housing.csv:2:persons_per_unit:", False),
    ("housing-ramp-0", cell("housing.csv", 2, "ramp_years", "0"), 2, "housing.csv:2:ramp_years:",
     False),
    ("housing-lon-999", cell("housing.csv", 2, "lon", "999"), 2, "housing.csv:2:lon:", False),
    ("housing-swapped", swapped_housing, 2, "housing.csv:2:lon:", False),
    ("unit-weight-2", cell("units.csv", 2, "weight", "2"), 2, "units.csv:2:weight:", False),
    ("unit-weight-negative", cell("units.csv", 2, "weight", "-1"), 2, "units.csv:2:weight:",
     False),
    ("unit-zone", cell("units.csv", 2, "zone_id", "zz"), 2, "units.csv:2:zone_id:", False),
    # schools.csv, projects.csv
    ("school-negative", cell("schools.csv", 2, "places", "-1"), 2, "schools.csv:2:places:",
     True),
    ("school-1e12", cell("schools.csv", 3, "places", "1e12"), 2, "schools.csv:3:places:", True),
    ("school-stage", cell("schools.csv", 2, "stage", "college"), 2, "schools.csv:2:stage:",
     False),
    ("school-lon-nan", cell("schools.csv", 2, "lon", "nan"), 2, "schools.csv:2:lon:", False),
    ("school-inclusive", cell("schools.csv", 2, "inclusive", "maybe"), 2,
     "schools.csv:2:inclusive:", False),
    ("school-30000-warns", cell("schools.csv", 3, "places", "30000"), 0,
     "schools.csv:3:places:", False),
    ("project-year", cell("projects.csv", 2, "open_year", "99999"), 2,
     "projects.csv:2:open_year:", True),
    ("project-kind", cell("projects.csv", 2, "kind", "rebuild"), 2, "projects.csv:2:kind:",
     False),
    ("project-classes", cell("projects.csv", 2, "classes", "-3"), 2, "projects.csv:2:classes:",
     False),
    ("project-expansion-school", cell("projects.csv", 3, "school_id", "zz"), 2,
     "projects.csv:3:school_id:", False),
    ("project-id-is-school", cell("projects.csv", 2, "project_id", "p1"), 2,
     "projects.csv:2:project_id:", False),
    ("project-cost", cell("projects.csv", 2, "cost", "1e15"), 2, "projects.csv:2:cost:", False),
    # model.toml
    ("base-year", toml("base_year = 2020", "base_year = 99999"), 2, "model.toml:2:base_year:",
     False),
    ("open-age-0", toml("open_age = 60", "open_age = 0"), 2,
     "model.toml:6:demography.open_age:", False),
    ("srb-5", toml("srb = 1.06", "srb = 5"), 2, "model.toml:7:demography.srb:", False),
    ("grid-0", both(no_units, toml("[stages.kindergarten]", "[units]\ngrid_m = 0\n\n"
                                   "[stages.kindergarten]")), 2, "model.toml:21:units.grid_m:",
     True),
    ("grid-negative", toml("[stages.kindergarten]", "[units]\ngrid_m = -5\n\n"
                           "[stages.kindergarten]"), 2, "model.toml:22:units.grid_m:", False),
    ("grid-tiny", both(no_units, toml("[stages.kindergarten]", "[units]\ngrid_m = 0.5\n\n"
                                      "[stages.kindergarten]")), 2, "model.toml::units.grid_m:",
     True),
    ("class-size-1e12", toml("class_size = 30", "class_size = 1000000000000"), 2,
     "model.toml:24:stages.kindergarten.class_size:", True),
    ("class-size-0", toml("class_size = 30", "class_size = 0"), 2,
     "model.toml:24:stages.kindergarten.class_size:", False),
    ("class-size-float", toml("class_size = 30", "class_size = 1e12"), 2,
     "model.toml:24:stages.kindergarten.class_size:", False),
    ("class-size-80-warns", toml("class_size = 30", "class_size = 80"), 0,
     "model.toml:24:stages.kindergarten.class_size:", False),
    ("radius-inf", toml("radius_m = 1500", "radius_m = inf"), 2,
     "model.toml:25:stages.kindergarten.radius_m:", True),
    ("radius-nan", toml("radius_m = 1500", "radius_m = nan"), 2,
     "model.toml:25:stages.kindergarten.radius_m:", False),
    ("enrolment-5", toml("enrolment = 0.9", "enrolment = 5"), 2,
     "model.toml:23:stages.kindergarten.enrolment:", False),
    ("cost-negative", toml("cost_per_place = 80000", "cost_per_place = -1"), 2,
     "model.toml:26:stages.kindergarten.cost_per_place:", False),
    ("target-5", toml("kindergarten_enrolment_rate = 0.90", "kindergarten_enrolment_rate = 5"),
     2, "model.toml:37:targets.kindergarten_enrolment_rate:", False),
    ("target-nearby", toml("nearby_enrolment_rate = 0.99", "nearby_enrolment_rate = 1.2"), 2,
     "model.toml:39:targets.nearby_enrolment_rate:", False),
    ("stage-name-escape", toml("[stages.primary]", '[stages."../../x"]'), 2,
     "model.toml:28:stages.../../x:", True),
    ("stage-name-space", toml("[stages.primary]", '[stages."primary school"]'), 2,
     "model.toml:28:stages.primary school:", False),
    ("ages-reversed", toml("ages = [3, 5]", "ages = [5, 3]"), 2,
     "model.toml:22:stages.kindergarten.ages:", False),
    ("ages-overlap", toml("ages = [6, 11]", "ages = [5, 11]"), 2,
     "model.toml:29:stages.primary.ages:", False),
    ("crs-geographic", toml('crs = "EPSG:32650"', 'crs = "EPSG:4326"'), 2, "model.toml:3:crs:",
     False),
    ("crs-unknown", toml('crs = "EPSG:32650"', 'crs = "EPSG:99999999"'), 2,
     "model.toml:3:crs:", False),
    ("file-outside", outside_file, 2, "model.toml:12:files.population:", True),
    ("file-symlink-outside", symlink_out, 2, "model.toml:12:files.population:", False),
    ("file-vsicurl", toml('zones = "zones.geojson"',
                          'zones = "/vsicurl/http://example.invalid/z.geojson"'), 2,
     "model.toml:11:files.zones:", True),
    ("file-vrt", toml('zones = "zones.geojson"', 'zones = "zones.vrt"'), 2,
     "model.toml:11:files.zones:", False),
    ("file-url", toml('zones = "zones.geojson"', 'zones = "https://example.invalid/z.json"'),
     2, "model.toml:11:files.zones:", False),
    ("file-missing", toml('population = "population.csv"', 'population = "nope.csv"'), 2,
     "model.toml:12:files.population:", False),
    ("file-absolute", toml('population = "population.csv"', 'population = "/etc/passwd"'), 2,
     "model.toml:12:files.population:", False),
    ("unknown-key", toml("[demography]", "colour = 1\n[demography]"), 2, "model.toml:5:colour:",
     False),
    ("toml-syntax", toml("[demography]", "[demography"), 2, "model.toml:5:", False),
    ("toml-not-utf8", not_utf8, 2, "model.toml::", False),
    # zones.geojson
    ("zone-empty-polygon", zones_json(_empty_polygon), 2, "zones.geojson:2:geometry:", True),
    ("zone-swapped", zones_json(_swap), 2, "zones.geojson:1:geometry:", True),
    ("zone-wrong-crs", zones_json(_declare_utm), 2, "zones.geojson::geometry:", False),
    ("zone-point", zones_json(_point), 2, "zones.geojson:3:geometry:", False),
    ("zone-duplicate", zones_json(_dup_zone), 2, "zones.geojson:2:zone_id:", False),
    ("zone-radius-scale", zones_json(_radius_scale), 2, "zones.geojson:1:radius_scale:", False),
    ("zone-bowtie-warns", zones_json(_bowtie), 0, "zones.geojson:1:geometry:", False),
    # valid inputs that must be accepted
    ("csv-field-200k", big_field, 0, None, False),
    ("csv-line-separators", separator_in_field, 0, None, False),
    ("csv-multiline-row", multiline_then_bad, 2, "schools.csv:4:places:", False),
    ("bom-model-toml", bom("model.toml"), 0, None, False),
    ("bom-scenario", both(scen(""), bom("s.toml")), 0, None, False),
    ("no-units", no_units, 0, None, True),
    # scenario files
    ("name-empty", scen("", 'name = ""\nmodel = "m"\nhorizon = 2025\n'), 2, "s.toml:1:name:",
     True),
    ("name-dot", scen("", 'name = "."\nmodel = "m"\nhorizon = 2025\n'), 2, "s.toml:1:name:",
     False),
    ("name-slash", scen("", 'name = "a/b"\nmodel = "m"\nhorizon = 2025\n'), 2,
     "s.toml:1:name:", True),
    ("name-escape", scen("", 'name = "/../../../../srv/other"\nmodel = "m"\nhorizon = 2025\n'),
     2, "s.toml:1:name:", True),
    ("name-300", scen("", f'name = "{"x" * 300}"\nmodel = "m"\nhorizon = 2025\n'), 2,
     "s.toml:1:name:", False),
    ("name-multiline", scen("", 'name = "a\\nb"\nmodel = "m"\nhorizon = 2025\n'), 2,
     "s.toml:1:name:", False),
    ("name-trailing-newline", scen("", 'name = "a\\n"\nmodel = "m"\nhorizon = 2025\n'), 2,
     "s.toml:1:name:", False),
    ("horizon-before-base", scen("", 'name = "s"\nmodel = "m"\nhorizon = 2010\n'), 2,
     "s.toml:3:horizon:", True),
    ("horizon-99999", scen("", 'name = "s"\nmodel = "m"\nhorizon = 99999\n'), 2,
     "s.toml:3:horizon:", False),
    ("model-missing", scen("", 'name = "s"\nmodel = "nowhere"\nhorizon = 2025\n'), 2,
     "s.toml:2:model:", False),
    ("tfr-nan", scen("[fertility]\ntfr = { 2025 = nan }\n"), 2, "s.toml:5:fertility.tfr.2025:",
     True),
    ("tfr-50", scen("[fertility]\ntfr = { 2025 = 50 }\n"), 2, "s.toml:5:fertility.tfr.2025:",
     False),
    ("tfr-year", scen("[fertility]\ntfr = { 99999 = 1.2 }\n"), 2,
     "s.toml:5:fertility.tfr.99999:", False),
    ("tfr-6-warns", scen("[fertility]\ntfr = { 2025 = 6 }\n"), 0,
     "s.toml:5:fertility.tfr.2025:", False),
    ("migration-scale-negative", scen("[migration]\nscale = -1\n"), 2,
     "s.toml:5:migration.scale:", True),
    ("migration-scale-nan", scen("[migration]\nscale = nan\n"), 2, "s.toml:5:migration.scale:",
     False),
    ("migration-scale-1e300", scen("[migration]\nscale = 1e300\n"), 2,
     "s.toml:5:migration.scale:", True),
    ("housing-scale-1e300", scen("[housing]\nscale = 1e300\n"), 2, "s.toml:5:housing.scale:",
     True),
    ("housing-scale-negative", scen("[housing]\nscale = -0.5\n"), 2, "s.toml:5:housing.scale:",
     False),
    ("ramp-0", scen("[housing]\nramp_years = 0\n"), 2, "s.toml:5:housing.ramp_years:", True),
    ("ramp-negative", scen("[housing]\nramp_years = -2\n"), 2, "s.toml:5:housing.ramp_years:",
     False),
    ("housing-delay-1e17", scen("[housing]\ndelay_years = 100000000000000000\n"), 2,
     "s.toml:5:housing.delay_years:", True),
    ("project-delay-minus-1e17", scen("[projects]\ndelay_years = -100000000000000000\n"), 2,
     "s.toml:5:projects.delay_years:", True),
    ("project-delay-table", scen('[projects]\ndelay_years = { newp = 100000000000000000 }\n'), 2,
     "s.toml:5:projects.delay_years.newp:", False),
    ("project-drop-unknown", scen('[projects]\ndrop = ["nope"]\n'), 2,
     "s.toml:5:projects.drop:", False),
    ("stage-radius-inf", scen("[stages.primary]\nradius_m = inf\n"), 2,
     "s.toml:5:stages.primary.radius_m:", True),
    ("stage-class-size-0", scen("[stages.primary]\nclass_size = 0\n"), 2,
     "s.toml:5:stages.primary.class_size:", False),
    ("stage-ages", scen("[stages.primary]\nages = [4, 11]\n"), 2,
     "s.toml:5:stages.primary.ages:", False),
    ("stage-unknown", scen("[stages.college]\nclass_size = 30\n"), 2, "s.toml:4:stages.college:",
     False),
    ("mode-unknown", scen('[allocation]\nmode = "nearest"\n'), 2, "s.toml:5:allocation.mode:",
     False),
    ("report-year", scen("[report]\nyear = 99999\n"), 2, "s.toml:5:report.year:", False),
    ("extends-cycle", cycle, 2, "s.toml::extends:", False),
    ("add-ok", scen(NEW + "places = 90\n"), 0, None, True),
    ("add-unknown-school", scen('[[projects.add]]\nproject_id = "x1"\nname = "X"\n'
                                'kind = "expansion"\nstage = "primary"\nschool_id = "zz"\n'
                                'places = 90\nopen_year = 2023\n'), 2,
     "s.toml:9:projects.add[0].school_id:", True),
    ("add-places-negative", scen(NEW + "places = -5\n"), 2, "s.toml:12:projects.add[0].places:",
     True),
    ("add-places-nan", scen(NEW + "places = nan\n"), 2, "s.toml:12:projects.add[0].places:",
     False),
    ("add-places-1e12", scen(NEW + "places = 1e12\n"), 2, "s.toml:12:projects.add[0].places:",
     False),
    ("add-places-huge-warns", scen(NEW + "places = 50000\n"), 0,
     "s.toml:12:projects.add[0].places:", False),
    ("add-no-lon", scen(NEW.replace(f"lon = {LON}\n", "") + "places = 9\n"), 2,
     "s.toml:4:projects.add[0].lon:", False),
    ("add-lon-nan", scen(NEW.replace(f"lon = {LON}", "lon = nan") + "places = 9\n"), 2,
     "s.toml:9:projects.add[0].lon:", True),
    ("add-open-year", scen(NEW.replace("2023", "99999") + "places = 9\n"), 2,
     "s.toml:11:projects.add[0].open_year:", True),
    ("add-duplicate-id", scen(NEW.replace('"n1"', '"newp"') + "places = 9\n"), 2,
     "s.toml:5:projects.add[0].project_id:", False),
    ("add-id-is-school", scen(NEW.replace('"n1"', '"p1"') + "places = 9\n"), 2,
     "s.toml:5:projects.add[0].project_id:", False),
    ("add-stage", scen(NEW.replace('"primary"', '"college"') + "places = 9\n"), 2,
     "s.toml:8:projects.add[0].stage:", False),
    ("add-far", scen(NEW.replace(f"lon = {LON}", "lon = 118.5") + "places = 9\n"), 2,
     "s.toml:9:projects.add[0].lon:", False),
    ("add-second-block", scen(NEW + "places = 9\n" + NEW.replace('"n1"', '"n2"')
                              + "places = -1\n"), 2, "s.toml:21:projects.add[1].places:", False),
    ("rep-ok", scen(REP), 0, None, True),
    ("rep-years", scen(REP + "to_year = 2021\n"), 2, "s.toml:11:repurposed[0].to_year:", True),
    ("rep-site-is-school", scen(REP.replace('"r1"', '"p1"')), 2,
     "s.toml:5:repurposed[0].site_id:", True),
    ("rep-places-negative", scen(REP.replace("places = 100", "places = -1")), 2,
     "s.toml:9:repurposed[0].places:", False),
    ("rep-lat-nan", scen(REP.replace(f"lat = {LAT}", "lat = nan")), 2,
     "s.toml:8:repurposed[0].lat:", False),
    ("rep-stage", scen(REP.replace('"primary"', '"college"')), 2,
     "s.toml:6:repurposed[0].stage:", False),
    ("rep-from-99999", scen(REP.replace("2022", "99999")), 2,
     "s.toml:10:repurposed[0].from_year:", False),
    ("cb-ok", scen(CB), 0, None, True),
    ("cb-negative", scen(CB.replace("10", "-3")), 2, "s.toml:7:cross_boundary[0].pupils:", True),
    ("cb-zone", scen(CB.replace('"a"', '"zz"')), 2, "s.toml:5:cross_boundary[0].zone_id:",
     True),
    ("cb-zone-and-unit", scen(CB + 'unit_id = "a00"\n'), 2, "s.toml:4:cross_boundary[0]:",
     False),
    ("cb-unit", scen(CB.replace('zone_id = "a"', 'unit_id = "nope"')), 2,
     "s.toml:5:cross_boundary[0].unit_id:", False),
    ("cb-years", scen(CB + "from_year = 2024\nto_year = 2022\n"), 2,
     "s.toml:9:cross_boundary[0].to_year:", False),
    # more file-level and type cases
    ("schools-header-only", header_only, 2, "projects.csv:3:school_id:", False),
    ("population-empty-file", empty_file, 2, "population.csv::", False),
    ("zones-not-geojson", garbage_zones, 2, "zones.geojson::", False),
    ("zones-no-zone-id", zones_json(lambda d: [f["properties"].pop("zone_id")
                                               for f in d["features"]]), 2,
     "zones.geojson::zone_id:", False),
    ("mortality-two-kinds", extra_mortality_column, 2, "mortality.csv:1:", False),
    ("csv-short-row", short_row, 2, "schools.csv:5:", False),
    ("file-is-folder", folder_as_file, 2, "model.toml:12:files.population:", False),
    ("open-age-200", toml("open_age = 60", "open_age = 200"), 2,
     "model.toml:6:demography.open_age:", False),
    ("grid-1e308", both(no_units, toml("[stages.kindergarten]", "[units]\ngrid_m = 1e308\n\n"
                                       "[stages.kindergarten]")), 2,
     "model.toml:21:units.grid_m:", False),
    ("horizon-text", scen("", 'name = "s"\nmodel = "m"\nhorizon = "2030"\n'), 2,
     "s.toml:3:horizon:", False),
    ("stage-ages-floats", scen("[stages.primary]\nages = [6.5, 11]\n"), 2,
     "s.toml:5:stages.primary.ages:", False),
    ("stage-class-size-text", scen('[stages.primary]\nclass_size = "big"\n'), 2,
     "s.toml:5:stages.primary.class_size:", False),
    ("add-crs-unknown", scen(NEW + 'places = 9\ncrs = "EPSG:99999999"\n'), 2,
     "s.toml:13:projects.add[0].crs:", False),
    ("rep-places-1e300", scen(REP.replace("places = 100", "places = 1e300")), 2,
     "s.toml:9:repurposed[0].places:", False),
    ("cb-pupils-inf", scen(CB.replace("10", "inf")), 2, "s.toml:7:cross_boundary[0].pupils:",
     False),
    ("delay-fraction", scen("[projects]\ndelay_years = 1.5\n"), 2,
     "s.toml:5:projects.delay_years:", False),
    ("drop-not-list", scen('[projects]\ndrop = "newp"\n'), 2, "s.toml:5:projects.drop:", False),
    ("extends-missing", scen('extends = "nope.toml"\n'), 2, "s.toml:4:extends:", False),
    ("add-lon-text", scen(NEW.replace(f"lon = {LON}", 'lon = "east"') + "places = 9\n"), 2,
     "s.toml:9:projects.add[0].lon:", False),
    ("add-missing-name", scen(NEW.replace('name = "N"\n', "") + "places = 9\n"), 2,
     "s.toml:4:projects.add[0].name:", False),
    ("lang-unknown", scen('[report]\nlang = "fr"\n'), 2, "s.toml:5:report.lang:", False),
]


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return write_tiny_model(tmp_path_factory.mktemp("tiny") / "m")


def setup_case(template: Path, tmp_path: Path, mutate: Callable[[Path], None]) -> Path:
    model = tmp_path / "m"
    shutil.copytree(template, model)
    (tmp_path / "s.toml").write_text(HEAD, encoding="utf-8")
    mutate(model)
    return tmp_path / "s.toml"


def call_cli(capsys, argv: list[str]) -> tuple[int, str]:
    code = main(argv)
    return code, capsys.readouterr().err


@pytest.mark.parametrize("case,mutate,code,where,also_run", CASES, ids=[c[0] for c in CASES])
def test_mutation(template, tmp_path, capsys, case, mutate, code, where, also_run):
    scenario = setup_case(template, tmp_path, mutate)
    got, err = call_cli(capsys, ["validate", str(scenario)])
    assert "Traceback" not in err and "internal error" not in err, err
    assert got == code, f"{case}: exit {got}, expected {code}\n{err}"
    if where is not None:
        prefix = "error" if code == 2 else "warning"
        lines = [line.strip().removeprefix(f"{prefix}: ") for line in err.splitlines()]
        assert any(line.startswith(where) or f"/{where}" in line.split(" ")[0]
                   for line in lines), f"{case}: no {where!r} in\n{err}"
    if also_run:
        out = tmp_path / "out"
        ran, err = call_cli(capsys, ["run", str(scenario), "-o", str(out), "--no-maps",
                                  "--no-criticality", "--workers", "1"])
        assert "Traceback" not in err, err
        assert ran == code, f"{case}: run exit {ran}, validate {code}\n{err}"
        if code == 2:
            assert not out.exists() or not any(out.iterdir()), list(out.rglob("*"))
        else:
            assert (out / "s" / "manifest.json").is_file()


def test_suite_size():
    """The issue asks for at least 100 cases, refusals and acceptances both."""
    assert len(CASES) >= 100
    assert sum(c[2] == 0 for c in CASES) >= 10 and sum(c[2] == 2 for c in CASES) >= 90
