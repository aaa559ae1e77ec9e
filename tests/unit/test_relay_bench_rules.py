"""The relay benchmark's brokers run the shipped policy with only its rate limits raised."""

import dataclasses

from tongdao.benchmarks.relay_stack import (
    BENCH_BURST,
    BENCH_CALLS_PER_SECOND,
    RULES_FILE,
    broker_args,
    write_rules,
)
from tongdao.home import Home
from tongdao.policies.loader import load_policy


def test_the_benchmark_rule_file_differs_from_the_shipped_one_in_its_rate_limits_alone(tmp_path):
    path = write_rules(tmp_path)
    bench, shipped = load_policy(path), load_policy()
    assert bench.rate_limits is not None and shipped.rate_limits is not None
    assert (bench.rate_limits.calls_per_second, bench.rate_limits.burst) == (
        BENCH_CALLS_PER_SECOND,
        BENCH_BURST,
    )
    assert bench.rate_limits.article == shipped.rate_limits.article
    same = dataclasses.replace(bench, rate_limits=shipped.rate_limits, source=shipped.source)
    assert same == shipped


def test_every_benchmark_broker_is_started_with_that_rule_file(tmp_path):
    args = broker_args(Home(tmp_path / "home"), "sqlite:///x.db")
    assert args[args.index("--policy") + 1] == str(tmp_path / RULES_FILE)
