"""HTML → PDF with headless Chromium (offline: no network, a throwaway profile), and the
page count of a PDF. The page size and margins come from the document's CSS ``@page``."""
from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import InputError

#: Where Chromium may be installed (first found wins).
CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")


def chromium() -> str:
    """The Chromium executable; InputError (exit 2) naming the fix when there is none."""
    for c in CANDIDATES:
        found = c if Path(c).is_file() else shutil.which(c)
        if found:
            return found
    raise InputError.single("chromium", "is not installed: the dossier's PDF is printed by "
                            "headless Chromium", expected="apt-get install chromium "
                            "(and fonts-wqy-zenhei for Chinese)")


def html_to_pdf(page: Path, out: Path, timeout_s: float = 300) -> Path:
    """Print ``page`` (an HTML file) to ``out`` as PDF; raise RuntimeError if it fails."""
    exe = chromium()
    with tempfile.TemporaryDirectory() as profile:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--disable-quic", "--no-pdf-header-footer",
               "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
               f"--user-data-dir={profile}", f"--print-to-pdf={Path(out).resolve()}",
               Path(page).resolve().as_uri()]
        done = subprocess.run(cmd, capture_output=True, timeout=timeout_s, text=True)
    if done.returncode != 0 or not Path(out).is_file() or Path(out).stat().st_size == 0:
        raise RuntimeError(f"chromium could not print {page}: {done.stderr[-2000:]}")
    return out


_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


def page_count(pdf: Path) -> int:
    """Pages of a PDF (its ``/Type /Page`` objects; Chromium writes no object streams)."""
    return len(_PAGE.findall(Path(pdf).read_bytes()))
