"""schools.csv: the 2020 school inventory — real schools plus a SYNTHETIC remainder.

No per-school data exist in the sources.  The real rows are sources/real_schools.csv; the
synthetic rows make up the counts of school x stage rows (stage_parameters.csv base_rows)
and the classes that the 2020 pupils need (targets below), spread over zones by the
stage-age population and sited by weighted k-means over the zone's demand units.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from .common import (TO_UTM, TO_WGS, Sources, fmt, lr_round, place_at_seat_offset,
                     point_in_zone, write_csv, zone_of)

FAMILY = {"k": 0, "n": 1, "p": 1, "c": 2, "s": 2, "j": 2}  # schools sited together
LABEL = {"c": "secondary school", "s": "senior high school", "n": "nine-year school",
         "j": "junior middle school", "p": "primary school", "k": "kindergarten"}
#: The same in Chinese; every synthetic name is marked （示意） (illustrative, not a real school).
LABEL_ZH = {"c": "中学", "s": "高级中学", "n": "九年一贯制学校", "j": "初级中学", "p": "小学",
            "k": "幼儿园"}
#: Suffixes dropped from a zone's English name in a synthetic school's name (longest first:
#: " Town" is a part of " Hui Ethnic Township").
ZONE_SUFFIXES = (" Hui Ethnic Township", " Subdistrict", " Town")


def chinese_ordinal(k: int) -> str:
    """1 → 第一, 10 → 第十, 12 → 第十二, 20 → 第二十, 23 → 第二十三 (k < 100)."""
    digits = "零一二三四五六七八九"
    tens, ones = divmod(k, 10)
    text = ("" if tens == 0 else ("十" if tens == 1 else digits[tens] + "十")) + \
        (digits[ones] if ones or not tens else "")
    return "第" + text


def synthetic_names(zone_en: str, zone_zh: str, code: str, k: int) -> tuple[str, str]:
    """A synthetic school's English and Chinese names, e.g. ("Synthetic primary school,
    Majuqiao 1", "马驹桥镇第一小学（示意）")."""
    zname = zone_en.split(" (")[0]
    for suffix in ZONE_SUFFIXES:
        zname = zname.replace(suffix, "")
    return (f"Synthetic {LABEL[code]}, {zname} {k}",
            f"{zone_zh}{chinese_ordinal(k)}{LABEL_ZH[code]}（示意）")


def weighted_kmeans(xy, w, k, seed, iters=100):
    """Lloyd's algorithm with weights and k-means++ seeding: (centres (k, 2), weight shares).

    Deterministic for a given seed; a cluster that empties keeps its previous centre.
    """
    rng = np.random.default_rng(seed)
    p = w / w.sum()
    centres = [xy[rng.choice(len(xy), p=p)]]
    for _ in range(1, k):
        d2 = np.min([np.sum((xy - c) ** 2, axis=1) for c in centres], axis=0) * w
        centres.append(xy[rng.choice(len(xy), p=d2 / d2.sum())] if d2.sum() > 0 else centres[-1])
    centres = np.array(centres, float)
    for _ in range(iters):
        lab = np.argmin(((xy[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)
        cw = np.bincount(lab, weights=w, minlength=k)
        new = centres.copy()
        for a in range(2):
            sums = np.bincount(lab, weights=w * xy[:, a], minlength=k)
            new[:, a] = np.where(cw > 0, sums / np.where(cw > 0, cw, 1), centres[:, a])
        if np.allclose(new, centres, atol=0.01):
            break
        centres = new
    return centres, cw / cw.sum()


def target_classes(s: Sources, stages: dict, rates: dict, rinfo: dict) -> dict:
    """Classes each stage needs in 2020: kindergarten places = share x census ages 3-5;
    primary = 2020-21 pupils (S71) x vacancy; junior, senior = enrolment x census age group
    x vacancy (assumptions.csv)."""
    vac, kg = s.param("vacancy"), s.param("kindergarten_places_share")
    cs = {st: p["class_size"] for st, p in stages.items()}
    return {
        "kindergarten": math.ceil(kg * rinfo["pop"]["kindergarten"] / cs["kindergarten"]),
        "primary": math.ceil(vac * rinfo["tz_prim"] / cs["primary"]),
        "junior": math.ceil(vac * rates["junior"] * rinfo["pop"]["junior"] / cs["junior"]),
        "senior": math.ceil(vac * rates["senior"] * rinfo["pop"]["senior"] / cs["senior"]),
    }


def _real_rows(s: Sources, zones, zone_ids, stages):
    rows = []
    real_classes = {st: np.zeros(len(zone_ids)) for st in stages}
    real_count = {st: 0 for st in stages}
    for r in s.real_schools.itertuples():
        if r.lon:
            lon, lat = float(r.lon), float(r.lat)
        else:
            lon, lat = place_at_seat_offset(zones, s.tw, r.site_zone, r.dx_km, r.dy_km)
        z = zone_of(zones, lon, lat)
        cl = int(r.classes)
        real_classes[r.stage][zone_ids.index(z)] += cl
        real_count[r.stage] += 1
        rows.append({"school_id": r.school_id, "name": r.name, "name_zh": r.name_zh,
                     "stage": r.stage, "lon": round(lon, 6), "lat": round(lat, 6),
                     "classes": cl, "zone_id": z,
                     "source": f"real school ({r.source}); coordinates {r.coord_basis}"})
    return rows, real_classes, real_count


def _entities(s, zones, zone_ids, syn, stages):
    """Group a zone's synthetic rows into schools: complete secondary (junior + senior)
    first, then nine-year (primary + junior) in towns first until their count is formed."""
    kind = zones.set_index("zone_id")["kind"]
    order = sorted(range(len(zone_ids)),
                   key=lambda i: (kind.iloc[i] == "subdistrict", zone_ids[i]))
    nine_left = int(s.param("nine_year_schools"))
    entities = []  # (zone index, type code, {stage: classes})
    for i in order:
        per = {st: (lr_round(np.ones(syn[st][0][i]), int(syn[st][1][i]))
                    if syn[st][0][i] > 0 else np.array([], int)) for st in stages}
        k, p, j, s_ = (list(per[x]) for x in ("kindergarten", "primary", "junior", "senior"))
        while s_ and j:
            entities.append((i, "c", {"junior": j.pop(0), "senior": s_.pop(0)}))
        entities.extend((i, "s", {"senior": v}) for v in s_)
        while nine_left > 0 and j and p and len(p) > 1:
            entities.append((i, "n", {"primary": p.pop(0), "junior": j.pop(0)}))
            nine_left -= 1
        entities.extend((i, "j", {"junior": v}) for v in j)
        entities.extend((i, "p", {"primary": v}) for v in p)
        entities.extend((i, "k", {"kindergarten": v}) for v in k)
    return entities


def build_schools(s: Sources, zones, pop, units, rates, rinfo):
    stages = s.stages()
    zone_ids = list(zones.zone_id)
    zg = zones.set_index("zone_id").geometry
    stage_pop = {}
    for st, v in stages.items():
        a0, a1 = v["ages"]
        stage_pop[st] = (pop[(pop.age >= a0) & (pop.age <= a1)].groupby("zone_id")["count"]
                         .sum().reindex(zone_ids).to_numpy(float))
    target = target_classes(s, stages, rates, rinfo)
    rows, real_classes, real_count = _real_rows(s, zones, zone_ids, stages)
    # synthetic rows: counts and classes by zone, proportional to the stage-age population
    syn = {}
    for st, p in stages.items():
        share = stage_pop[st] / stage_pop[st].sum()
        n_syn = p["base_rows"] - real_count[st]
        if st in ("kindergarten", "primary", "junior"):
            n = 1 + lr_round(share, n_syn - len(zone_ids))   # at least one per zone
        else:
            n = lr_round(share, n_syn)
        # synthetic classes = stage target minus the real schools' classes, spread over the
        # zones that have synthetic schools of the stage, by stage-age population
        syn_total = int(target[st] - real_classes[st].sum())
        cls = lr_round(np.where(n > 0, share, 0.0), syn_total)
        cls = np.maximum(cls, n * p["min_classes"]).astype(int)
        syn[st] = (n, np.where(n > 0, cls, 0))
    entities = _entities(s, zones, zone_ids, syn, stages)
    # sites and sizes: within a zone, the schools of one family (kindergartens; schools with
    # a primary section; secondary-only schools) sit at the centres of a weighted k-means
    # partition of the zone's demand units (weight = unit weight), so that they spread over
    # where children live; each school's classes of a stage are the zone's synthetic classes
    # of that stage split in proportion to the demand weight of its cluster.
    seed = int(s.param("schools_seed"))
    uz = {z: g for z, g in units.groupby("zone_id")}
    site_of, share_of = {}, {}
    for i, z in enumerate(zone_ids):
        u = uz[z]
        ux, uy = TO_UTM.transform(u.lon.to_numpy(), u.lat.to_numpy())
        xy, w = np.column_stack([ux, uy]), u.weight.to_numpy(float)
        for f in range(3):
            idx = [e for e, ent in enumerate(entities) if ent[0] == i and FAMILY[ent[1]] == f]
            if not idx:
                continue
            centres, cw = weighted_kmeans(xy, w, len(idx), seed=[seed, i, f])
            order = np.argsort(-cw, kind="stable")      # heaviest cluster first
            for e, c in zip(idx, order):
                lon, lat = TO_WGS.transform(*centres[c])
                if not point_in_zone(zg[z], lon, lat):   # concave zone: nearest unit instead
                    j = int(np.argmin(np.hypot(*(xy - centres[c]).T)))
                    lon, lat = u.lon.iloc[j], u.lat.iloc[j]
                site_of[e], share_of[e] = (round(lon, 6), round(lat, 6)), cw[c]
        for st, p in stages.items():
            idx = [e for e, ent in enumerate(entities) if ent[0] == i and st in ent[2]]
            if idx:
                # every school gets the stage's minimum, the rest goes by cluster weight
                # (keeps the zone's calibrated total)
                spare = max(int(syn[st][1][i]) - p["min_classes"] * len(idx), 0)
                cls = p["min_classes"] + lr_round(np.array([share_of[e] for e in idx]), spare)
                for e, c in zip(idx, cls):
                    entities[e][2][st] = int(c)
    every = int(s.param("kindergarten_noninclusive_every"))
    counters = {}
    kg_index = 0
    for e, (i, code, ent_stages) in enumerate(entities):
        z = zone_ids[i]
        counters[(z, code)] = counters.get((z, code), 0) + 1
        k = counters[(z, code)]
        lon, lat = site_of[e]
        name, name_zh = synthetic_names(s.tw.loc[z, "name_en"], s.tw.loc[z, "name_zh"], code, k)
        for st, cl in ent_stages.items():
            row = {"school_id": f"syn-{z}-{code}{k:02d}",
                   "name": name, "name_zh": name_zh,
                   "stage": st, "lon": lon, "lat": lat, "classes": int(cl), "zone_id": z,
                   "source": "synthetic: calibrated to S35/S73/S71 totals "
                             "(count, classes and site are estimates)"}
            if st == "kindergarten":
                kg_index += 1
                # every 9th kindergarten not inclusive: ~89 % of places inclusive
                # (PLAN: 普惠 coverage > 88 % in 2020, target 90 % in 2025)
                row["inclusive"] = "false" if kg_index % every == 0 else "true"
            rows.append(row)
    sch = pd.DataFrame(rows)
    stage_order = {st: n for n, st in enumerate(stages)}
    sch["_o"] = sch.stage.map(stage_order)
    sch = sch.sort_values(["school_id", "_o"]).drop(columns="_o").reset_index(drop=True)
    sch["inclusive"] = sch.get("inclusive", pd.Series(dtype=object))
    sch.loc[(sch.stage == "kindergarten") & sch.inclusive.isna(), "inclusive"] = "true"
    return sch, {"target_classes": target}


def write_schools(sch: pd.DataFrame, out: Path) -> None:
    sch = sch.copy()
    sch["lon"] = sch.lon.map(lambda v: fmt(v, 6))
    sch["lat"] = sch.lat.map(lambda v: fmt(v, 6))
    cols = ["school_id", "name", "stage", "lon", "lat", "classes", "inclusive", "zone_id",
            "name_zh", "source"]
    write_csv(sch[cols], out / "schools.csv")
