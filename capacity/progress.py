"""Progress messages: a live line on a terminal, silence otherwise; a run's warnings."""
from __future__ import annotations

import sys
import time


class Progress:
    """Callable that shows ``[elapsed] message`` on stderr when it is a terminal."""

    def __init__(self, enabled: bool | None = None) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.start = time.perf_counter()

    def __call__(self, message: str) -> None:
        if self.enabled:
            elapsed = time.perf_counter() - self.start
            sys.stderr.write(f"\r\033[K[{elapsed:6.1f}s] {message}")
            sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def print_warnings(notes: list[str], lang: str = "en") -> None:
    """The first ten warnings on stderr (the rest: manifest.json); a bilingual one
    ("English / 中文") in ``lang``."""
    from .report.labels import in_language, text

    for w in notes[:10]:
        print(text("cli", "warning", lang, text=in_language(w, lang)), file=sys.stderr)
    if len(notes) > 10:
        print(text("cli", "more_warnings", lang, n=len(notes) - 10), file=sys.stderr)
