"""Render an HTML file in headless Chromium and check the screenshot is not blank.

Usage: ``python tests/browser_check.py OUT/<scenario>/maps/catchments.html [shot.png]``
(also drives the map's controls and tooltips and prints what the page showed).
The pytest test using it lives in ``tests/test_maps.py`` (skipped without Chromium).
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

CHROMIUM = next((p for p in ("/usr/bin/chromium", shutil.which("chromium") or "",
                             shutil.which("chromium-browser") or "") if p and Path(p).exists()),
                None)


def screenshot(page: Path, out: Path, size: tuple[int, int] = (1200, 900),
               budget_ms: int = 5000) -> Path:
    """Screenshot ``page`` with headless Chromium (no network, throwaway profile)."""
    if CHROMIUM is None:
        raise RuntimeError("chromium is not installed")
    with tempfile.TemporaryDirectory() as profile:
        cmd = _chromium_args(profile, budget_ms) + [
            f"--screenshot={out}", f"--window-size={size[0]},{size[1]}",
            Path(page).resolve().as_uri()]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    return out


def require_chromium() -> None:
    """Skip the calling test without Chromium, unless CI demands it (fail instead)."""
    if CHROMIUM is None:
        import os

        import pytest

        message = "headless render check needs /usr/bin/chromium (apt-get install chromium)"
        if os.environ.get("CAPACITY_REQUIRE_BROWSER"):
            pytest.fail(message + "; CAPACITY_REQUIRE_BROWSER is set")
        pytest.skip(message)


def _chromium_args(profile: str, budget_ms: int) -> list[str]:
    return [CHROMIUM or "chromium", "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--hide-scrollbars",
            f"--user-data-dir={profile}", f"--virtual-time-budget={budget_ms}"]


def dump_dom(page: Path, budget_ms: int = 5000) -> str:
    """The page's DOM after its scripts ran (headless Chromium ``--dump-dom``)."""
    if CHROMIUM is None:
        raise RuntimeError("chromium is not installed")
    with tempfile.TemporaryDirectory() as profile:
        out = subprocess.run(_chromium_args(profile, budget_ms)
                             + ["--dump-dom", Path(page).resolve().as_uri()],
                             check=True, capture_output=True, timeout=120, text=True)
    return out.stdout


#: Drives the interactive map like a user: shortfall view, last year, other stage and mode,
#: zoom in, hover a zone and a school; records what the page shows in body[data-exercise].
EXERCISE = """
<script>
(function () {
  var out = {}, $ = function (id) { return document.getElementById(id); };
  function fire(el, type) { el.dispatchEvent(new Event(type, {bubbles: true})); }
  function hover(el) {
    var r = el.getBoundingClientRect();
    var opts = {bubbles: true, clientX: r.left + r.width / 2, clientY: r.top + r.height / 2};
    el.dispatchEvent(new PointerEvent("pointerover", opts));
    el.dispatchEvent(new PointerEvent("pointermove", opts));
    return $("tooltip").hidden ? "" : $("tooltip").textContent;
  }
  try {
    out.ready = document.body.getAttribute("data-ready");
    document.querySelector("input[name=view][value=shortfall]").checked = true;
    fire(document.querySelector("input[name=view][value=shortfall]"), "change");
    var s = $("year-slider"); s.value = s.max; fire(s, "input");
    out.year = $("year").value;
    var st = $("stage"); st.selectedIndex = st.options.length - 1; fire(st, "change");
    var md = $("mode"); md.selectedIndex = 0; fire(md, "change");
    $("rings").checked = true; fire($("rings"), "change");
    $("zoom-in").click();
    out.viewBox = $("map").getAttribute("viewBox");
    out.filledZones = document.querySelectorAll("#zones path.filled").length;
    out.zoneTip = hover(document.querySelector("#zones path"));
    var sc = document.querySelector("#schools circle");
    out.schoolTip = sc ? hover(sc) : "";
    out.schools = document.querySelectorAll("#schools circle").length;
    out.rings = document.querySelectorAll("#ringlayer circle").length;
    out.summary = $("summary").textContent;
  } catch (e) { out.error = String(e); }
  document.body.setAttribute("data-exercise", JSON.stringify(out));
})();
</script>
"""


def exercise(page: Path, tmp: Path) -> dict:
    """Run :data:`EXERCISE` on a copy of ``page``; return what it recorded."""
    import html as _html
    import json
    import re

    copy = tmp / f"exercise_{Path(page).name}"
    copy.write_text(Path(page).read_text(encoding="utf-8").replace("</body>", EXERCISE
                                                                  + "</body>"),
                    encoding="utf-8")
    dom = dump_dom(copy)
    m = re.search(r'data-exercise="([^"]*)"', dom)
    if not m:
        raise AssertionError("the exercise script did not run")
    return json.loads(_html.unescape(m.group(1)))


def blankness(png: Path) -> dict[str, float]:
    """Distinct colours and share of non-white pixels of a screenshot."""
    from PIL import Image

    img = np.asarray(Image.open(png).convert("RGB"))
    flat = img.reshape(-1, 3)
    colours = len(np.unique(flat[:: max(1, len(flat) // 200_000)], axis=0))
    nonwhite = float((flat.min(axis=1) < 245).mean())
    return {"colours": colours, "nonwhite": nonwhite}


def check(page: Path, out: Path, min_colours: int = 12, min_nonwhite: float = 0.05
          ) -> dict[str, float]:
    """Screenshot ``page`` into ``out``; raise AssertionError when it looks blank."""
    screenshot(page, out)
    stats = blankness(out)
    assert stats["colours"] >= min_colours, f"too few colours: {stats}"
    assert stats["nonwhite"] >= min_nonwhite, f"mostly white: {stats}"
    return stats


if __name__ == "__main__":
    target = Path(sys.argv[1])
    shot = Path(sys.argv[2]) if len(sys.argv) > 2 else target.with_suffix(".png")
    print(check(target, shot), shot)
    if "catchments" in target.name:
        with tempfile.TemporaryDirectory() as tmp:
            print(exercise(target, Path(tmp)))
