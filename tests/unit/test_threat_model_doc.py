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
        if file == "…":  # the file named before it
            assert current is not None, f"{ref} has no file before it"
            return current, name
        path = ROOT / ALIASES.get(file, file)
        if not path.exists():
            path = next(ROOT.glob(f"tests/unit/**/{file}"), path)
        return path, name
    if ref.startswith("…") or (ref.startswith("test_") and not ref.endswith(".py")):
        assert current is not None, f"{ref} has no file before it"
        return current, ref
    path = ROOT / ref
    return (path if path.exists() else next(ROOT.glob(f"tests/unit/**/{ref}"), path)), None


def _defines(path: Path, name: str) -> bool:
    source = path.read_text(encoding="utf-8")
    if name.startswith("…"):
        fragment = name.lstrip("…").rstrip("…")
        return re.search(rf"def test\w*{re.escape(fragment)}", source) is not None
    return f"def {name}(" in source


def _assert_named_tests_exist(refs: list[str], seen: list[Path] | None = None) -> list[Path]:
    """Every named test exists; "…" stands for a file named before it (in this row or above)."""
    seen = [] if seen is None else seen
    for ref in refs:
        path, name = _resolve(ref, seen[-1] if seen else None)
        assert path.exists(), ref
        relative = ref.startswith("…") or (
            ref.startswith("test_") and "::" not in ref and not ref.endswith(".py")
        )
        if relative and name is not None:
            candidates = [p for p in reversed(seen) if _defines(p, name)]
            assert candidates, ref
            continue
        seen.append(path)
        if name is not None:
            assert _defines(path, name), ref
    return seen


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
        _assert_named_tests_exist(refs)


def _method_section_rows() -> list[tuple[str, list[str]]]:
    """Rows of the per-method threat-model tables ("| deviating party | … | test |")."""
    rows = []
    for section in DOC.split("\n## ")[1:]:
        title = section.splitlines()[0]
        in_table = False
        for line in section.splitlines():
            if line.startswith("| deviating party |"):
                in_table = True
                continue
            if in_table and line.startswith("|") and "---" not in line:
                rows.append((title, [c.strip() for c in line.strip("|").split("|")]))
            elif in_table and not line.startswith("|"):
                in_table = False
    return rows


def test_constructions_state_their_threat_model_with_tests():
    rows = _method_section_rows()
    titles = {title.split(" ")[0] for title, _ in rows}
    assert {"intersection", "intersection_sum"} <= titles
    seen: list[Path] = []
    for title, (party, _does, _obtains, tests) in rows:
        refs = re.findall(r"`([^`]+)`", tests)
        if party.startswith("P") or "inherent" in tests:
            continue  # the provider is trusted with its own data; inherent leakage is stated
        assert refs, f"{title}: row for {party!r} names no test"
        seen = _assert_named_tests_exist(refs, seen)
