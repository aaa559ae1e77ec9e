"""The CLI's progress line for long PSI / intersection-sum runs."""

from tongdao.commands.query import Progress


def test_progress_line_shows_stage_count_and_share():
    progress = Progress("PSI with 1,000 keys")
    assert "starting" in progress.line()
    progress("blinding", 250, 1000)
    line = progress.line()
    assert "blinding" in line and "250/1,000" in line and "25%" in line
    progress("matching", 1000, 1000)
    assert "100%" in progress.line() and "·" not in progress.line()


def test_progress_is_silent_when_not_on_a_terminal(capsys):
    with Progress("x") as progress:
        progress("blinding", 1, 2)
    assert capsys.readouterr().err == ""
