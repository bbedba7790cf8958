"""Indicator values on a hand-built allocation (capacity.tables.build_indicators): each
number below is worked out by hand from the flows."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from capacity.allocate import Allocation
from capacity.tables import build_indicators

YEARS = np.array([2025])


def _alloc(school, pupils, nearest, unserved) -> Allocation:
    n = len(school)
    return Allocation(unit=np.zeros(n, np.int64), school=np.asarray(school, np.int64),
                      pupils=np.asarray(pupils, np.int64), distance=np.zeros(n),
                      unserved=np.asarray(unserved, np.int64),
                      out_of_reach=np.zeros(len(unserved), np.int64),
                      nearest=np.asarray(nearest, bool))


def _case(inclusive=(True, False), targets=None):
    stages = {"kindergarten": SimpleNamespace(enrolment=0.9, compulsory=None),
              "primary": SimpleNamespace(enrolment=1.0, compulsory=None),
              "junior": SimpleNamespace(enrolment=1.0, compulsory=None)}
    schools = pd.DataFrame({"school_id": ["k1", "k2", "p1", "p2", "j1"],
                            "stage": ["kindergarten", "kindergarten", "primary", "primary",
                                      "junior"]})
    if inclusive is not None:
        schools["inclusive"] = [*inclusive, None, None, None]
    sites = schools[["school_id", "stage"]].assign(kind="existing")
    model = SimpleNamespace(stages=stages, schools=schools, targets=targets or {
        "year": 2025, "kindergarten_enrolment_rate": 0.9, "nearby_enrolment_rate": 0.9,
        "inclusive_kindergarten_coverage": 0.5})
    supply = SimpleNamespace(sites=sites, projects=pd.DataFrame(
        {"project_id": pd.Series(dtype=str)}))
    out = {
        # 90 seek a kindergarten place (100 children × 0.9), every one is served:
        # 60 at inclusive k1, 30 at k2
        ("kindergarten", "optimal"): [_alloc([0, 1], [60, 30], [True, True], [0])],
        # 100 seek primary: 70 nearest at p1, 20 at p2 not nearest, 10 unserved
        ("primary", "optimal"): [_alloc([0, 1], [70, 20], [True, False], [10])],
        # 50 seek junior: 40 nearest, 10 unserved
        ("junior", "optimal"): [_alloc([0], [40], [True], [10])],
    }
    zpop = np.array([[[101, 100, 50]]], float)   # children: rounding differs from demand
    return build_indicators(model, "optimal", YEARS, zpop, out, supply) \
        .set_index("indicator")


def test_indicator_values_by_hand():
    ind = _case()
    v = ind["value"]
    assert v["kindergarten_enrolment_rate"] == pytest.approx(0.9)    # 90 ÷ (90 / 0.9)
    assert v["primary_enrolment_rate"] == pytest.approx(90 / 100)
    assert v["junior_enrolment_rate"] == pytest.approx(40 / 50)
    assert v["inclusive_kindergarten_coverage"] == pytest.approx(60 / 90)   # k1 only
    # nearby: nearest placements ÷ every pupil seeking a place (unserved included)
    assert v["nearby_enrolment_rate"] == pytest.approx((70 + 40) / (100 + 50))
    assert v["primary_nearby_enrolment_rate"] == pytest.approx(70 / 100)
    assert v["junior_nearby_enrolment_rate"] == pytest.approx(40 / 50)


def test_targets_and_met():
    ind = _case()
    # every kindergarten seeker served: the target equal to the enrolment share is met
    assert ind.loc["kindergarten_enrolment_rate", "met"]
    assert ind.loc["inclusive_kindergarten_coverage", "met"]            # 0.667 ≥ 0.5
    assert not ind.loc["nearby_enrolment_rate", "met"]                  # 0.733 < 0.9
    # per-stage nearby rates are held to the nearby target too
    assert ind.loc["primary_nearby_enrolment_rate", "target"] == 0.9
    assert not ind.loc["primary_nearby_enrolment_rate", "met"]
    assert pd.isna(ind.loc["primary_enrolment_rate", "met"])            # no target


def test_inclusive_coverage_not_given_without_the_column():
    ind = _case(inclusive=None)
    assert pd.isna(ind.loc["inclusive_kindergarten_coverage", "value"])
    assert pd.isna(ind.loc["inclusive_kindergarten_coverage", "met"])


def test_inclusive_coverage_counts_only_inclusive_schools():
    assert _case(inclusive=(False, False)).loc["inclusive_kindergarten_coverage",
                                               "value"] == 0
    assert _case(inclusive=(True, True)).loc["inclusive_kindergarten_coverage",
                                             "value"] == pytest.approx(1.0)
