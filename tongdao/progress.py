"""A small progress bar for long operations: redrawn in place on a terminal, sparse lines else."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Call :meth:`update` with (done, total); :meth:`close` ends the line.

    On a TTY the bar is redrawn at most 10 times a second; when the stream is not a terminal
    (CI logs, pipes) a plain line is written at every 10 % so logs stay short.
    """

    def __init__(self, label: str, *, stream: TextIO | None = None, width: int = 30) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.width = width
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last = 0.0
        self._last_decile = -1
        self._drawn = False

    def update(self, done: int, total: int) -> None:
        """Report progress."""
        if total <= 0:
            return
        fraction = min(1.0, done / total)
        if self.tty:
            now = time.monotonic()
            if now - self._last < 0.1 and done < total:
                return
            self._last = now
            filled = int(fraction * self.width)
            bar = "█" * filled + "·" * (self.width - filled)
            self.stream.write(f"\r{self.label} [{bar}] {done}/{total}")
            self.stream.flush()
            self._drawn = True
        else:
            decile = int(fraction * 10)
            if decile != self._last_decile:
                self._last_decile = decile
                self.stream.write(f"{self.label}: {done}/{total}\n")
                self.stream.flush()

    def close(self) -> None:
        """Finish the bar's line (TTY)."""
        if self.tty and self._drawn:
            self.stream.write("\n")
            self.stream.flush()
