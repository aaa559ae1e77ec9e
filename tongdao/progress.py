"""Progress of long operations (imports, PSI, intersection-sum, aggregates, fetches, benchmarks).

Always on standard error, so that standard output holds only the answer (``--json`` stays
parseable). On a terminal a live ``rich`` bar shows the stage, done/total, the share and the
time so far. Anywhere else (CI logs, pipes, files) nothing is redrawn and no control character is
written: one plain line per tenth of the work and per new stage, or nothing for a short job.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
import time
from types import TracebackType
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import Progress as _RichProgress


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM", "") != "dumb"


class Progress:
    """One progress display; use as a context manager, or call :meth:`close` at the end.

    Two ways to report, both safe from any thread:

    * ``update(done, total)`` — e.g. entries checked of entries in a file;
    * ``progress(stage, done, total)`` — the SDK's ``progress`` callback (``blinding``,
      ``matching``, ``proving``).

    Args:
        label: what is running, e.g. ``"PSI with 10,000 keys"``.
        stream: where to write (default: standard error at the time of the call).
    """

    SHOW_AFTER = 0.5
    """Seconds before the bar appears on a terminal."""

    def __init__(self, label: str, *, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.terminal = _is_terminal(self.stream)
        self.stage = ""
        self.done = 0
        self.total = 0
        self._start = time.monotonic()
        self._printed: tuple[str, int] | None = None  # (stage, tenth) of the last plain line
        self._last_line = ""
        self._closed = False
        self._console = Console(
            file=self.stream,
            force_terminal=self.terminal,
            force_interactive=self.terminal,
            highlight=False,
            soft_wrap=True,
        )
        self._lock = threading.Lock()
        self._bar: _RichProgress | None = None
        self._task: TaskID | None = None
        self._timer: threading.Timer | None = None
        if self.terminal:  # a job done within SHOW_AFTER seconds leaves no trace
            self._timer = threading.Timer(self.SHOW_AFTER, self._show)
            self._timer.daemon = True
            self._timer.start()

    # ------------------------------------------------------------------ reporting

    def __call__(self, stage: str, done: int, total: int) -> None:
        """The SDK's callback: ``stage`` of the protocol, ``done`` of ``total`` items."""
        self.stage = stage
        self.update(done, total)

    def update(self, done: int, total: int) -> None:
        """``done`` of ``total`` items so far (``total`` 0 when not known yet)."""
        if self._closed:
            return
        self.done, self.total = max(0, done), max(0, total)
        if self.terminal:
            with self._lock:
                if self._bar is not None and self._task is not None:
                    self._bar.update(
                        self._task,
                        description=self._description(),
                        completed=self.done,
                        total=self.total or None,
                    )
            return
        tenth = 10 * self.done // self.total if self.total else 0
        with self._lock:  # the SDK reports from its worker threads
            if self.total and self._printed != (self.stage, tenth):
                self._printed = (self.stage, tenth)
                self._plain(self.line())

    def line(self) -> str:
        """The state as one plain line (what a log shows)."""
        elapsed = time.monotonic() - self._start
        head = f"{self.label}: {self.stage}" if self.stage else self.label
        if not self.total:
            return f"{head} … {elapsed:.1f}s"
        share = 100 * min(self.done, self.total) // self.total
        return f"{head} {self.done:,}/{self.total:,} ({share}%) {elapsed:.1f}s"

    # ------------------------------------------------------------------ ending

    def close(self) -> None:
        """End the display: the bar stays on the terminal as its last state."""
        if self._closed:
            return
        with self._lock:
            self._closed = True
            if self._timer is not None:
                self._timer.cancel()
            if self._bar is not None:
                self._bar.stop()
                atexit.unregister(self.close)
                return
        if not self.terminal and self._printed is not None and self.done < self.total:
            self._plain(self.line())  # where it stopped, when short of the end

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ internals

    def _description(self) -> str:
        return f"{self.label}: {self.stage}" if self.stage else self.label

    def _show(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._bar = _RichProgress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TaskProgressColumn(),
                TimeElapsedColumn(),
                console=self._console,
                refresh_per_second=5,
            )
            self._task = self._bar.add_task(
                self._description(), total=self.total or None, completed=self.done
            )
            self._bar.start()
            atexit.register(self.close)  # the cursor comes back even if the caller fails

    def _plain(self, text: str) -> None:
        if text != self._last_line:
            self._last_line = text
            self._console.print(text, markup=False, highlight=False)
