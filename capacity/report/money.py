"""Money and large counts for people, the one home of their units: yuan in 万元 (10⁴) and
亿元 (10⁸) in Chinese, CNY with million/billion in English; pupils and residents in 万人
in Chinese once they reach :data:`WAN_PEOPLE_FROM`. Workbooks keep numbers (their number
formats show the unit: capacity/report/workbook.py); texts use :func:`money` and
:func:`people`, and tables in one unit (the dossier, the report's costing)
:func:`money_unit` and :func:`in_unit`."""
from __future__ import annotations

import math

#: 10,000 yuan (万元).
WAN = 1e4
#: 100 million yuan (亿元).
YI = 1e8
#: Counts of people from which Chinese texts write 万人.
WAN_PEOPLE_FROM = 100_000


def money(cny: float, lang: str = "en") -> str:
    """An amount of yuan: ``2_402_000_000`` → ``24.02 亿元`` / ``CNY 2.40 billion``;
    ``3_500_000`` → ``350 万元`` / ``CNY 3.5 million``; below 10,000 yuan ``0.35 万元`` /
    ``CNY 3,500``. Blank for a missing amount."""
    if cny is None or (isinstance(cny, float) and math.isnan(cny)):
        return ""
    v = float(cny)
    if v == 0:
        return "0 万元" if lang == "zh" else "CNY 0"
    if lang == "zh":
        if abs(v) >= YI:
            return f"{v / YI:,.2f} 亿元"
        digits = 0 if abs(v) >= 100 * WAN else (1 if abs(v) >= WAN else 2)
        return f"{v / WAN:,.{digits}f} 万元"
    if abs(v) >= 1e9:
        return f"CNY {v / 1e9:,.2f} billion"
    if abs(v) >= 1e6:
        return f"CNY {v / 1e6:,.1f} million"
    return f"CNY {v:,.0f}"


def people(n: float, lang: str = "en", unit: bool = True) -> str:
    """A count of people: ``123_456`` → ``12.3 万人`` in Chinese, ``123,456`` in English;
    below :data:`WAN_PEOPLE_FROM` ``12,345 人`` / ``12,345`` (``unit``: add 人)."""
    v = float(n)
    if lang == "zh" and abs(v) >= WAN_PEOPLE_FROM:
        return f"{v / WAN:,.1f} 万人" if unit else f"{v / WAN:,.1f} 万"
    return f"{v:,.0f}" + (" 人" if unit and lang == "zh" else "")


#: Money units of a table, largest first: (CNY per unit, label, decimals). A table takes
#: the largest unit its total reaches (亿元 for a district's request, 万元 for a small one).
UNITS = ((YI, "亿元", 2), (WAN, "万元", 1))


def money_unit(total: float) -> tuple[float, str, int]:
    """The unit of :data:`UNITS` for a table whose total is ``total`` CNY."""
    return next((u for u in UNITS if abs(total) >= u[0]), UNITS[-1])


def in_unit(cny: float, unit: tuple[float, str, int]) -> str:
    """CNY in ``unit`` with its decimals and thousands separators."""
    return f"{cny / unit[0]:,.{unit[2]}f}"
