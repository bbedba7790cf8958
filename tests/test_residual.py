"""Census cohort-residual migration (capacity.demography.residual, .census)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from capacity.demography.ccm import project
from capacity.demography.census import (AgeGroups, Census, census_frame, read_census,
                                        stationary)
from capacity.demography.lifetable import sx_from_mx
from capacity.demography.residual import (cohort_residual, residual_migration,
                                          spread_to_zones)
from capacity.demography.schedules import ROGERS_CASTRO_STANDARD, rogers_castro
from capacity.errors import InputError

A, N = 101, 10
AGES = np.arange(A)
ABRIDGED = [0, 1] + list(range(5, 86, 5))  # the census tabulation: 0, 1-4, 5-9, ..., 85+


def world():
    """Realistic synthetic district: sx, start population, asfr, true migration (2, A)."""
    mx = np.stack([4e-5 * np.exp(0.09 * AGES) + 0.002 * np.exp(-AGES),
                   6e-5 * np.exp(0.09 * AGES) + 0.0025 * np.exp(-AGES)])
    sx = sx_from_mx(mx)
    bulge = np.stack([8000 * np.exp(-((AGES - 30) / 8.0) ** 2),
                      9000 * np.exp(-((AGES - 29) / 8.0) ** 2)])
    pop1 = 20000 * stationary(sx) * np.exp(-0.01 * AGES) + bulge
    asfr = np.zeros(A)
    asfr[15:50] = 0.9 * np.exp(-((np.arange(15, 50) - 30) / 5.0) ** 2) / (5 * np.sqrt(np.pi))
    prof = rogers_castro(AGES, **ROGERS_CASTRO_STANDARD)
    m = np.stack([3000 * prof / prof.sum(), 3500 * prof / prof.sum()])
    return sx, pop1, asfr, m


def run(pop1, sx, asfr, m, timing="even", out_rates=None, n=N):
    return project(pop1[None], sx, np.broadcast_to(asfr, (n, 1, A)),
                   np.broadcast_to(m, (n, 1, 2, A)), srb=1.06, timing=timing,
                   out_rates=out_rates)


@pytest.mark.parametrize("timing", ["even", "end"])
@pytest.mark.parametrize("fert", ["asfr", "births"])
@pytest.mark.parametrize("rates", [False, True])
def test_single_ages_recovered_exactly(timing, fert, rates):
    sx, pop1, asfr, m = world()
    m = m.copy()
    m[:, 60:] -= 15.0  # net out-migration at older ages: mixed signs
    o = np.full((2, A), 0.03) if rates else None
    pr = run(pop1, sx, asfr, m, timing, o)
    kw = {"asfr": asfr} if fert == "asfr" else \
        {"births": {2011 + t: pr.births[t, 0].sum() for t in range(N)}}
    fit = cohort_residual(census_frame(pop1, year=2010), census_frame(pr.population[-1, 0],
                          year=2020), sx, timing=timing, out_rates=o, srb=1.06, **kw)
    assert fit.lam == 0.0 and fit.kind == ("inflow" if rates else "net")
    assert np.abs(fit.net - m).max() < 1e-9 * np.abs(m).max()
    # fed back into ccm.project, the schedule reproduces the second census
    back = run(pop1, sx, asfr, fit.net, timing, o)
    np.testing.assert_allclose(back.population[-1, 0], pr.population[-1, 0], rtol=1e-9)
    np.testing.assert_allclose(fit.projected, pr.population[-1, 0], rtol=1e-9)
    t = fit.table
    assert list(t.columns) == ["sex", "age", "net"] and len(t) == 2 * A
    np.testing.assert_array_equal(t["net"].to_numpy(), fit.net.reshape(-1))


@settings(max_examples=30, deadline=None)
@example(seed=1073741825, a=8, n=5, timing="end", by_births=False)   # floors: assumed away
@given(seed=st.integers(0, 2**32 - 1), a=st.integers(8, 30), n=st.integers(1, 6),
       timing=st.sampled_from(["even", "end"]), by_births=st.booleans())
def test_random_single_age_cases_recovered(seed, a, n, timing, by_births):
    rng = np.random.default_rng(seed)
    sx = rng.uniform(0.85, 0.999, (2, a))
    pop1 = rng.uniform(100, 1000, (2, a))
    asfr = np.zeros(a)
    asfr[3:a - 2] = rng.uniform(0, 0.2, a - 5)
    m = rng.uniform(-5, 20, (2, a))
    pr = project(pop1[None], sx, np.broadcast_to(asfr, (n, 1, a)),
                 np.broadcast_to(m, (n, 1, 2, a)), srb=1.05, timing=timing)
    assume(not pr.floored)     # recovery is exact only when no count was floored at 0
    kw = {"births": {2000 + t + 1: pr.births[t, 0].sum() for t in range(n)}} if by_births \
        else {"asfr": asfr}
    fit = cohort_residual(census_frame(pop1, year=2000),
                          census_frame(pr.population[-1, 0], year=2000 + n), sx, srb=1.05,
                          timing=timing, nonneg=False, **kw)
    np.testing.assert_allclose(fit.net, m, atol=1e-7 * max(1.0, np.abs(m).max()))


@pytest.mark.parametrize("timing", ["even", "end"])
def test_five_year_groups_approximately_and_non_negative(timing):
    sx, pop1, asfr, m = world()
    pr = run(pop1, sx, asfr, m, timing)
    c1 = read_census(census_frame(pop1, year=2010)).regroup(ABRIDGED)
    c2 = read_census(census_frame(pr.population[-1, 0], year=2020)).regroup(ABRIDGED)
    fit = cohort_residual(c1, c2, sx, asfr=asfr, timing=timing)
    assert fit.lam > 0 and fit.bounded.all()
    assert (fit.net >= 0).all()  # the true schedule is positive
    assert np.abs(fit.net - m).sum() / m.sum() < 0.08
    np.testing.assert_allclose(fit.net.sum(1), m.sum(1), rtol=0.03)
    Mg = c2.groups.matrix(A)
    err = np.abs(fit.net @ Mg.T - m @ Mg.T).sum() / m.sum()
    assert err < 0.07  # by 5-year group
    g = fit.groups
    assert (np.abs(g["fitted"] - g["observed"]) / g["observed"]).max() < 0.01
    np.testing.assert_allclose(g["residual"], g["observed"] - g["no_migration"])
    # the start population is the first census graduated, groups kept exactly
    np.testing.assert_allclose(c1.aggregate(fit.pop1), c1.counts, rtol=1e-12)


def test_groups_with_out_migration_keep_signs_where_counts_allow():
    sx, pop1, asfr, m = world()
    m = m - np.where(AGES >= 65, 40.0, 0.0)  # old-age net out-migration
    pr = run(pop1, sx, asfr, m)
    c1 = read_census(census_frame(pop1, year=2010)).regroup(ABRIDGED)
    c2 = read_census(census_frame(pr.population[-1, 0], year=2020)).regroup(ABRIDGED)
    fit = cohort_residual(c1, c2, sx, asfr=asfr)
    lost = fit.groups["residual"] < 0
    assert lost.any() and (fit.groups.loc[lost, "age_from"] >= 65).all()
    assert fit.bounded[:, :50].all() and not fit.bounded[:, 90:].any()
    assert (fit.net[fit.bounded] >= 0).all()
    assert fit.net[:, 75:].mean() < 0
    with pytest.raises(InputError, match="without negatives.*85\\+"):
        cohort_residual(c1, c2, sx, asfr=asfr, nonneg=True)
    free = cohort_residual(c1, c2, sx, asfr=asfr, nonneg=False)
    assert not free.bounded.any()


def test_exact_fit_of_groups_when_asked():
    sx, pop1, asfr, m = world()
    pr = run(pop1, sx, asfr, m)
    c1 = read_census(census_frame(pop1, year=2010)).regroup(ABRIDGED)
    c2 = read_census(census_frame(pr.population[-1, 0], year=2020)).regroup(ABRIDGED)
    fit = cohort_residual(c1, c2, sx, asfr=asfr, smooth=None)
    assert fit.lam == 0 and (fit.net >= 0).all()
    g = fit.groups
    np.testing.assert_allclose(g["fitted"], g["observed"], rtol=1e-8)


def test_matches_dataframe_forms_and_spreads_to_zones():
    sx, pop1, asfr, m = world()
    pr = run(pop1, sx, asfr, m)
    t = residual_migration(census_frame(pop1, year=2010),
                           census_frame(pr.population[-1, 0], year=2020), sx, asfr=asfr)
    z = spread_to_zones(t, {"a": 1.0, "b": 3.0})
    assert list(z.columns) == ["zone_id", "sex", "age", "net"] and len(z) == 4 * A
    by_zone = z.groupby("zone_id")["net"].sum()
    np.testing.assert_allclose(by_zone["b"], 3 * by_zone["a"])
    np.testing.assert_allclose(by_zone.sum(), t["net"].sum())
    z2 = spread_to_zones(t, pd.DataFrame({"zone_id": ["a", "b"], "share": [0.25, 0.75]}))
    pd.testing.assert_frame_equal(z, z2)
    for bad in ({"a": -1.0, "b": 2.0}, {"a": 0.0}, {}):
        with pytest.raises(InputError):
            spread_to_zones(t, bad)


# --------------------------------------------------------------------------------------
# census tables
# --------------------------------------------------------------------------------------
def test_three_age_forms_read_alike():
    labels = ["0", "1-4", "5-9", "10+"]
    counts = {"F": [10, 40, 50, 300], "M": [11, 42, 49, 280]}
    rows = [(s, lab, c) for s in "FM" for lab, c in zip(labels, counts[s])]
    by_label = pd.DataFrame(rows, columns=["sex", "age_group", "population"])
    by_range = pd.DataFrame({"sex": by_label["sex"],
                             "age_from": [0, 1, 5, 10] * 2,
                             "age_to": [0, 4, 9, None] * 2, "count": by_label["population"]})
    a, b = read_census(by_label, year=2020), read_census(by_range, year=2020)
    assert a.groups == b.groups == AgeGroups((0, 1, 5, 10))
    assert not a.groups.single and a.groups.labels == labels
    np.testing.assert_array_equal(a.counts, b.counts)
    single = read_census(pd.DataFrame({"sex": ["female"] * 3 + ["male"] * 3,
                                       "age": [0, 1, 2] * 2, "value": [1, 2, 3, 4, 5, 6],
                                       "year": 2010}))
    assert single.groups.single and single.groups.open_age == 2 and single.year == 2010


def test_graduation_keeps_groups_and_is_non_negative():
    sx, pop1, _, _ = world()
    c = read_census(census_frame(pop1)).regroup(ABRIDGED)
    single = c.to_single(sx)
    assert (single >= 0).all()
    np.testing.assert_allclose(c.aggregate(single), c.counts, rtol=1e-12)
    # a lumpy census (an empty group next to a full one) stays non-negative
    lumpy = Census(c.groups, np.where(np.arange(c.groups.n) % 3 == 0, 0.0, 1000.0)[None]
                   .repeat(2, 0))
    s2 = lumpy.to_single(sx)
    assert (s2 >= 0).all()
    np.testing.assert_allclose(lumpy.aggregate(s2), lumpy.counts, rtol=1e-12, atol=1e-9)
    # an open group above the model's open age is merged at ω
    wide = read_census(census_frame(np.ones((2, 111))))
    assert wide.conform(A).groups.open_age == 100
    assert wide.conform(A).counts[0, -1] == 11


@settings(max_examples=60, deadline=None)
@given(cuts=st.sets(st.integers(1, 99), max_size=25), seed=st.integers(0, 2**32 - 1),
       zeros=st.floats(0, 0.5))
def test_graduation_property(cuts, seed, zeros):
    """Any grouping, any non-negative counts (some zero): single ages ≥ 0, groups kept."""
    rng = np.random.default_rng(seed)
    groups = AgeGroups(tuple(sorted({0} | cuts)))
    counts = rng.uniform(0, 1e5, (2, groups.n)) * (rng.uniform(size=(2, groups.n)) > zeros)
    c = Census(groups, counts)
    single = c.to_single(world()[0])
    assert single.shape == (2, A) and (single >= 0).all()
    np.testing.assert_allclose(c.aggregate(single), counts, rtol=1e-10, atol=1e-6)


# --------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------
def _pair():
    sx, pop1, asfr, m = world()
    pr = run(pop1, sx, asfr, m)
    return sx, asfr, census_frame(pop1, year=2010), census_frame(pr.population[-1, 0],
                                                                   year=2020), pr


def test_different_groupings_are_an_error():
    sx, asfr, c1, c2, _ = _pair()
    c2g = census_frame(read_census(c2).regroup(ABRIDGED).counts, AgeGroups(tuple(ABRIDGED)),
                       year=2020)
    with pytest.raises(InputError, match="differ"):
        cohort_residual(c1, c2g, sx, asfr=asfr)


def test_missing_sex_is_an_error():
    sx, asfr, c1, c2, _ = _pair()
    with pytest.raises(InputError, match="sex M is missing") as e:
        cohort_residual(c1, c2[c2["sex"] == "F"], sx, asfr=asfr)
    assert e.value.problems[0].file == "census2" and e.value.problems[0].column == "sex"


def test_inconsistent_years_are_errors():
    sx, asfr, c1, c2, pr = _pair()
    with pytest.raises(InputError, match="not after"):
        cohort_residual(c2, c1, sx, asfr=asfr)
    with pytest.raises(InputError, match="census year 2010 in the table but 2011"):
        cohort_residual(c1, c2, sx, asfr=asfr, year1=2011)
    with pytest.raises(InputError, match="census year unknown"):
        cohort_residual(c1.drop(columns="year"), c2, sx, asfr=asfr)
    births = {2011 + t: pr.births[t, 0].sum() for t in range(N)}
    with pytest.raises(InputError, match="births for years") as e:
        cohort_residual(c1, c2, sx, births={y - 1: b for y, b in births.items()})
    assert e.value.problems[0].expected.startswith("one value for each of 2011..2020")
    with pytest.raises(InputError, match="for 10 steps"):
        cohort_residual(c1, c2, np.broadcast_to(sx, (9, 2, A)), asfr=asfr)
    with pytest.raises(InputError, match="exactly one of births and asfr"):
        cohort_residual(c1, c2, sx, asfr=asfr, births=births)


def test_bad_tables_are_errors():
    good = census_frame(np.ones((2, 5)), year=2010)
    with pytest.raises(InputError, match="not contiguous"):
        read_census(good.drop(index=2))  # F age 2 missing
    with pytest.raises(InputError, match="unknown sex"):
        read_census(good.assign(sex=["F"] * 5 + ["X"] * 5))
    with pytest.raises(InputError, match="missing or negative") as e:
        read_census(good.assign(population=[1.0] * 9 + [-1.0]))
    assert e.value.problems[0].row == 11
    with pytest.raises(InputError, match="bad age group"):
        read_census(pd.DataFrame({"sex": ["F", "M"], "age_group": ["0-x", "0+"],
                                  "population": [1, 1]}))
    with pytest.raises(InputError, match="different age groups"):
        read_census(pd.DataFrame({"sex": ["F", "F", "M"], "age_group": ["0", "1+", "0+"],
                                  "population": [1, 1, 1]}))
