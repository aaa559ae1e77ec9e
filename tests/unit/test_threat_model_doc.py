"""docs/privacy.md's threat model names a test for every row in which a party can cheat; every
test it names exists. Stated leakage is tested leakage."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "privacy.md").read_text(encoding="utf-8")
ALIASES = {"cheating": "tests/unit/node/test_cheating_parties.py"}


def _rows() -> list[list[str]]:
    section = DOC.split("## Threat model", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        if line.startswith("| ") and not line.startswith("| method") and "---" not in line:
            rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows


def _resolve(ref: str, current: Path | None) -> tuple[Path, str | None]:
    if "::" in ref:
        file, name = ref.split("::", 1)
        path = ROOT / ALIASES.get(file, file)
        if not path.exists():
            path = next(ROOT.glob(f"tests/unit/**/{file}"), path)
        return path, name
    if ref.startswith("…"):
        assert current is not None, f"{ref} has no file before it"
        return current, ref
    path = ROOT / ref
    return (path if path.exists() else next(ROOT.glob(f"tests/unit/**/{ref}"), path)), None


def test_every_named_test_exists_and_every_cheating_row_names_one():
    rows = _rows()
    assert len(rows) >= 12
    for method, party, _can, _learns, tests in rows:
        refs = re.findall(r"`([^`]+)`", tests)
        stated_later = "*stated with" in _can
        if not refs:
            # only a provider misreporting its own data, or rows stated with their construction
            assert stated_later or "**P**" in party, f"row {method} / {party} names no test"
            continue
        current = None
        for ref in refs:
            path, name = _resolve(ref, current)
            assert path.exists(), ref
            current = path
            if name is None:
                continue
            source = path.read_text(encoding="utf-8")
            if name.startswith("…"):
                fragment = name.lstrip("…").rstrip("…")
                assert re.search(rf"def test\w*{re.escape(fragment)}", source), ref
            else:
                assert f"def {name}(" in source, ref


def test_rows_for_the_intersection_sum_and_size_only_constructions_are_marked():
    assert "<!-- threat-model: intersection_sum rows" in DOC
    assert "<!-- threat-model: intersection_size" in DOC
