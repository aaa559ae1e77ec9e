"""The turns evidence script runs every mode at every thread count and reports per call."""

from pathlib import Path

from tongdao.benchmarks.turns_evidence import _prepare, main, measure
from tongdao.proto.turns import Turns


def test_each_mode_reports_cpu_and_switches_per_call(tmp_path: Path):
    path = tmp_path / "store.db"
    _prepare(path)
    for turns in (None, Turns()):
        cpu, switches = measure(path, 2, 40, turns)
        assert cpu > 0 and switches >= 0


def test_command_line_prints_a_line_per_thread_count_and_mode(capsys):
    assert main(["--calls", "40", "--threads", "1,2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line.split() for line in lines if line.strip()[:1].isdigit()]
    assert [(r[0], " ".join(r[1:-2])) for r in rows] == [
        ("1", "free"), ("1", "in turns"), ("1", "free"), ("1", "in turns"),
        ("2", "free"), ("2", "in turns"), ("2", "free"), ("2", "in turns"),
    ]  # fmt: skip
