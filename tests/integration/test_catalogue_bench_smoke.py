"""The catalogue benchmark's quick mode imports, searches and writes its JSON (CI smoke)."""

import json

from benchmarks.catalogue_bench import main


def test_quick_catalogue_bench_imports_and_finds_two_character_terms(tmp_path, capsys):
    out = tmp_path / "catalogue"
    assert main(["--quick", "--only", "sqlite", "--out", str(out)]) == 0
    data = json.loads((out / "catalogue-bench.json").read_text())
    (run,) = data["results"]
    assert run["store"] == "SQLite" and run["entries"] == 2000
    assert set(run["search_ms_by_kind"]) >= {"3+ chars", "2 chars", "two terms", "browse by tag"}
    found = run["results_per_query"]
    # the 2-character terms of the mix are answered (by the index, not a scan) and find entries
    assert all(found[f"2 chars: {q}"] > 0 for q in ("婚姻", "学籍", "户号"))
    assert run["import_seconds"] > 0 and run["search_ms"]["p95"] > 0
    assert data["machine"]["cores"] and run["load_average"]["before_import"]
    assert "SQLite" in capsys.readouterr().out
