"""``tongdao bench crypto`` refuses bad options as user errors (exit code 2), before any work."""

import pytest

from tongdao.cli import main


@pytest.mark.parametrize(
    "argv",
    [
        ["--only", "paillier,bogus"],
        ["--key-sizes", "2048,abc"],
        ["--key-sizes", "1536"],
        ["--psi-size", "-1"],
    ],
)
def test_bad_options_are_user_errors(argv, tmp_path, capsys):
    assert main(["bench", "crypto", "--out", str(tmp_path), *argv]) == 2
    assert "tongdao: error:" in capsys.readouterr().err
    assert not (tmp_path / "crypto-bench.json").exists()


def test_the_relay_benchmark_refuses_a_database_that_holds_tables_before_starting_anything(
    tmp_path, capsys
):
    import sqlite3

    db = tmp_path / "used.db"
    with sqlite3.connect(db) as raw:
        raw.execute("create table grants (id text)")
    argv = ["--locale", "en", "bench", "relay", "--out", str(tmp_path / "out")]
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--database-url", f"sqlite:///{db}"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "already holds 1 tables" in err and "give it an empty database" in err
    assert not (tmp_path / "out").exists()
