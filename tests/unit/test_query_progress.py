"""The one progress display of long operations (PSI, intersection-sum, imports, fetches)."""

import io
import re

from tongdao.progress import Progress

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # anything but tab and newline


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_line_shows_label_stage_count_and_share():
    progress = Progress("PSI with 1,000 keys", stream=io.StringIO())
    assert progress.line().startswith("PSI with 1,000 keys")
    progress("blinding", 250, 1000)
    line = progress.line()
    assert "blinding" in line and "250/1,000" in line and "(25%)" in line
    progress("matching", 1000, 1000)
    assert "matching" in progress.line() and "(100%)" in progress.line()


def test_off_a_terminal_a_few_plain_lines_and_no_control_characters():
    log = io.StringIO()
    with Progress("PSI with 1,000 keys", stream=log) as progress:
        for done in range(0, 1001, 10):
            progress("blinding", done, 1000)
        for done in range(0, 1001, 5):
            progress("matching", done, 1000)
    text = log.getvalue()
    assert not CONTROL.search(text)
    lines = text.splitlines()
    # one line per tenth of each stage, not one per update (301 updates here)
    assert len(lines) == 22
    assert any("blinding 500/1,000 (50%)" in line for line in lines)
    assert lines[-1].startswith("PSI with 1,000 keys: matching 1,000/1,000 (100%)")


def test_off_a_terminal_a_job_that_stops_short_says_where():
    log = io.StringIO()
    with Progress("fetch 5,000 keys", stream=log) as progress:
        progress.update(1000, 5000)
        progress.update(1500, 5000)
    assert log.getvalue().splitlines()[-1].startswith("fetch 5,000 keys 1,500/5,000 (30%)")


def test_progress_goes_to_stderr_never_stdout(capsys):
    with Progress("checking entries.csv") as progress:
        progress.update(3, 10)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "checking entries.csv 3/10 (30%)" in captured.err


def test_on_a_terminal_a_short_job_leaves_no_trace(monkeypatch):
    monkeypatch.setenv("TERM", "xterm")
    screen = Terminal()
    with Progress("PSI with 10 keys", stream=screen) as progress:
        progress("blinding", 10, 10)
    assert screen.getvalue() == ""


def test_on_a_terminal_the_bar_is_drawn_in_place(monkeypatch):
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setattr(Progress, "SHOW_AFTER", 0.0)
    screen = Terminal()
    progress = Progress("PSI with 1,000 keys", stream=screen)
    progress.update(0, 1000)
    assert progress._timer is not None
    progress._timer.join(timeout=5)  # the bar is up
    progress("matching", 1000, 1000)
    progress.close()
    text = screen.getvalue()
    assert "\x1b[" in text  # redrawn with cursor controls
    assert "PSI with 1,000 keys: matching" in text and "1000/1000" in text


def test_a_terminal_that_cannot_redraw_is_written_to_like_a_log(monkeypatch):
    monkeypatch.setenv("TERM", "dumb")
    screen = Terminal()
    with Progress("PSI with 1,000 keys", stream=screen) as progress:
        progress("matching", 1000, 1000)
    text = screen.getvalue()
    assert not CONTROL.search(text) and "matching 1,000/1,000 (100%)" in text
