"""Fonts for figures in Chinese: find an installed CJK font for matplotlib, or warn.

Matplotlib's default DejaVu Sans has no Chinese glyphs (they render as boxes). For
``lang="zh"`` the figures are drawn inside :func:`font_context`, which puts the first CJK
font found first in ``font.sans-serif``. Installed fonts are looked up by family name,
then among the system's font files (a font installed after matplotlib built its cache);
without one, a warning says which Debian package to install (``fonts-noto-cjk`` or
``fonts-wqy-zenhei``) and the figures are drawn anyway.
"""
from __future__ import annotations

import contextlib
import functools
import logging
import re
import warnings
from collections.abc import Iterator

from matplotlib import font_manager, rc_context

#: CJK font families, in order of preference (Linux, macOS, Windows).
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Source Han Sans CN",
                "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "Droid Sans Fallback",
                "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "SimHei", "SimSun")
_FILES = re.compile(r"(NotoSans(Mono)?CJK|NotoSansSC|SourceHanSans|wqy-|DroidSansFallback|"
                    r"msyh|simhei|simsun|PingFang)", re.I)


@functools.cache
def cjk_font() -> str | None:
    """Family name of an installed CJK font matplotlib can use, or None."""
    known = {f.name for f in font_manager.fontManager.ttflist}
    for name in CJK_FAMILIES:
        if name in known:
            return name
    for path in font_manager.findSystemFonts():      # fonts newer than matplotlib's cache
        if _FILES.search(path):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                continue
    known = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FAMILIES if name in known), None)


@contextlib.contextmanager
def font_context(lang: str) -> Iterator[None]:
    """Draw and save figures inside this block for text in ``lang`` (zh: a CJK font)."""
    if lang != "zh":
        yield
        return
    font = cjk_font()
    if font is None:
        warnings.warn("no Chinese font found for the maps and charts: Chinese text will show "
                      "as boxes; install one (Debian/Ubuntu: apt-get install fonts-noto-cjk "
                      "or fonts-wqy-zenhei)", stacklevel=3)
        yield
        return
    quiet = logging.getLogger("matplotlib.font_manager")
    level = quiet.level
    quiet.setLevel(logging.ERROR)   # "now using 500": a medium-weight font stands in, fine
    try:
        with rc_context({"font.family": "sans-serif", "font.sans-serif": [font, "DejaVu Sans"],
                         "axes.unicode_minus": False}):
            yield
    finally:
        quiet.setLevel(level)
