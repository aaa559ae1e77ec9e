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
