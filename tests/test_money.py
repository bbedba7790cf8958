"""Money and large counts for people (capacity/report/money.py): 万元/亿元 in Chinese, never
元 or CNY; hand-computed cases and a property (the text reads back as the amount)."""
from __future__ import annotations

import re

from hypothesis import given, strategies as st

from capacity.report.money import money, people


def test_hand_computed():
    assert money(2_402_000_000, "zh") == "24.02 亿元"          # the plan's capital
    assert money(3_500_000, "zh") == "350 万元"
    assert money(150_000, "zh") == "15.0 万元"                   # a cost per place
    assert money(3_500, "zh") == "0.35 万元"
    assert money(0, "zh") == "0 万元"
    assert money(float("nan"), "zh") == ""
    assert money(2_402_000_000, "en") == "CNY 2.40 billion"
    assert money(3_500_000, "en") == "CNY 3.5 million"
    assert people(1_840_295, "zh") == "184.0 万人"
    assert people(99_999, "zh") == "99,999 人"
    assert people(1_840_295, "en") == "1,840,295"


@given(st.floats(min_value=1, max_value=1e12, allow_nan=False))
def test_chinese_amounts_read_back(cny):
    text = money(cny, "zh")
    assert "CNY" not in text and not text.endswith(" 元")
    number, unit = re.fullmatch(r"([\d,.]+) (万元|亿元)", text).groups()
    value = float(number.replace(",", "")) * (1e8 if unit == "亿元" else 1e4)
    decimals = len(number.split(".")[1]) if "." in number else 0
    step = (1e8 if unit == "亿元" else 1e4) * 10 ** -decimals
    assert abs(value - cny) <= step / 2 + 1e-6 * cny
    assert (unit == "亿元") == (cny >= 1e8)
