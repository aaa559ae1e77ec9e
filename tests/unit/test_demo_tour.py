"""The commands `tongdao demo --keep` prints, and the README's tour, are valid command lines —
and the same tour."""

from __future__ import annotations

import shlex
from pathlib import Path

from tongdao.cli import build_parser
from tongdao.commands._grammar import rewrite_deprecated
from tongdao.demo import Report, _tour

ROOT = Path(__file__).resolve().parents[1].parent
PLACEHOLDERS = {"REQUEST_ID": "r-1", "GRANT_ID": "g-1", "ID_NUMBER": "230102199001011234"}


def _printed() -> list[str]:
    lines: list[str] = []
    _tour(Report(lines.append), Path("/srv/demo"), "127.0.0.1:40000", 12)
    return [x.strip() for x in lines if x.strip().startswith("tongdao ")]


def _readme_tour() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("**Try it**", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    joined = block.replace("\\\n", " ")
    return [x.split("  #", 1)[0].strip() for x in joined.splitlines() if x.startswith("tongdao ")]


def _parses(command: str) -> tuple[str, ...]:
    words = shlex.split(command)[1:]
    words = [PLACEHOLDERS.get(w, w) for w in words]
    assert rewrite_deprecated(words) == words, f"an old spelling in: {command}"
    args = build_parser().parse_args(words)
    assert callable(args.handler)
    return tuple(w for w in words if not w.startswith("-"))[:2]


def test_every_printed_command_parses_and_names_the_kept_stack():
    printed = _printed()
    assert len(printed) >= 8
    for command in printed:
        _parses(command)
        if "--stop" not in command and command.split()[1] != "demo":
            assert "--broker 127.0.0.1:40000" in command and "--home /srv/demo/" in command
    assert printed[-1] == "tongdao demo --stop --dir /srv/demo"


def test_the_readme_tour_is_the_printed_tour():
    readme = _readme_tour()
    for command in readme:
        _parses(command)
    printed = _printed()
    assert readme[0] == "tongdao demo --keep"
    assert [c.split()[1:3] for c in readme[1:]] == [c.split()[1:3] for c in printed]
