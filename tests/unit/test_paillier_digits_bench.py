"""The addition-cost breakdown script runs and checks both product forms agree."""

from tongdao.benchmarks.paillier_digits import main, measure


def test_breakdown_measures_every_variant():
    result = measure(1024, 1)
    assert set(result) == {
        "x·y (full size)",
        "z mod n² (full size)",
        "x·y mod n²",
        "digit-form product",
        "tongdao ct + ct",
        "phe ct + ct",
    }
    assert all(us > 0 for us in result.values())


def test_command_line_prints_one_block_per_key_size(capsys):
    assert main(["--key-sizes", "1024", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    assert "1024-bit key (n² of 2048 bits)" in out
    assert "digit-form product" in out
