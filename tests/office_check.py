"""LibreOffice (headless) checks of workbooks: pages when printed, values after recalculation.

Skipped without LibreOffice unless CI demands it (CAPACITY_REQUIRE_OFFICE, set by .ci/run,
which installs libreoffice-calc-nogui).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import openpyxl

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")


def require_office() -> None:
    """Skip the calling test without LibreOffice, unless CI demands it (fail instead)."""
    if SOFFICE is None:
        import pytest

        message = ("workbook print check needs LibreOffice (apt-get install "
                   "libreoffice-calc-nogui)")
        if os.environ.get("CAPACITY_REQUIRE_OFFICE"):
            pytest.fail(message + "; CAPACITY_REQUIRE_OFFICE is set")
        pytest.skip(message)


def convert(files: list[Path], fmt: str, out: Path) -> list[Path]:
    """Convert files with one headless LibreOffice (own profile, no network); return the
    converted paths. LibreOffice calculates formulas that have no cached result."""
    out.mkdir(parents=True, exist_ok=True)
    profile = out / "profile"
    subprocess.run([SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless",
                    "--norestore", "--convert-to", fmt, "--outdir", str(out),
                    *map(str, files)], check=True, capture_output=True, timeout=240)
    ext = fmt.split(":")[0]
    paths = [out / f"{Path(f).stem}.{ext}" for f in files]
    missing = [p for p in paths if not p.is_file()]
    assert not missing, f"LibreOffice did not write {missing}"
    return paths


def pdf_pages(path: Path) -> int:
    """Pages of a PDF (its /Type /Page objects)."""
    return len(re.findall(rb"/Type\s*/Page[^s]", path.read_bytes()))


def pages_per_sheet(workbook: Path, out: Path) -> dict[str, int]:
    """Printed pages of each sheet: one single-sheet copy per sheet, converted to PDF."""
    names = openpyxl.load_workbook(workbook).sheetnames
    out.mkdir(parents=True, exist_ok=True)
    copies = []
    for i, name in enumerate(names):
        wb = openpyxl.load_workbook(workbook)
        for other in wb.sheetnames:
            if other != name:
                del wb[other]
        copies.append(out / f"sheet{i}.xlsx")
        wb.save(copies[-1])
    pdfs = convert(copies, "pdf", out)
    return {name: pdf_pages(pdf) for name, pdf in zip(names, pdfs)}
