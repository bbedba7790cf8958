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


def print_warnings(notes: list[str]) -> None:
    """The first ten warnings on stderr (the rest: manifest.json)."""
    for w in notes[:10]:
        print(f"warning: {w}", file=sys.stderr)
    if len(notes) > 10:
        print(f"warning: ... and {len(notes) - 10} more (see manifest.json)", file=sys.stderr)
