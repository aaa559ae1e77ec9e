"""The per-department rate limit of the rule file's ``[rate_limits]``, over real gRPC with mutual
TLS: a department past its bucket is refused RESOURCE_EXHAUSTED naming the limit, while another
department's calls still succeed."""

from __future__ import annotations

import re

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from tests.integration.stack import start_stack
from tongdao.broker.kernel.settings import BrokerSettings
from tongdao.demo import MZT, RSJ
from tongdao.home import AUTHORITY
from tongdao.policies.loader import RULES_DIR
from tongdao.v1 import directory_pb2

BURST = 40
"""Calls a department may make at once: more than the stack's setup makes for any one party."""
PER_SECOND = 0.001
"""So slow a refill that the test sees none (one call per 1000 s)."""


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rates")
    text = (RULES_DIR / "heilongjiang-2025.toml").read_text(encoding="utf-8")
    text, changed = re.subn(
        r"(?m)^calls_per_second = [0-9.]+\nburst = \d+$",
        f"calls_per_second = {PER_SECOND}\nburst = {BURST}",
        text,
    )
    assert changed == 1
    rules = folder / "slow-rates.toml"
    rules.write_text(text, encoding="utf-8")
    s = start_stack(folder, settings=BrokerSettings(locale="en"), policy=str(rules), records=10)
    yield s
    s.stop()


def list_departments(stub) -> directory_pb2.ListDepartmentsResponse:
    return stub.directory.ListDepartments(directory_pb2.ListDepartmentsRequest(), timeout=10)


def test_one_department_over_its_bucket_is_refused_and_others_are_not(stack):
    rsj = stack.stub(RSJ.code)
    for _ in range(BURST):  # RSJ made no call while the stack was set up: its bucket is full
        list_departments(rsj)
    with pytest.raises(grpc.RpcError) as caught:
        list_departments(rsj)
    error = caught.value
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "[rate_limits]" in error.details() and f"bursts of {BURST}" in error.details()
    assert "Art.38" in error.details()
    status = rpc_status.from_call(error)
    assert status is not None
    quota = error_details_pb2.QuotaFailure()
    assert status.details[0].Unpack(quota) and quota.violations[0].subject == "caller"
    # another department, and the authority, are unaffected
    assert list_departments(stack.stub(MZT.code)).departments
    assert list_departments(stack.stub(AUTHORITY)).departments
    # and RSJ stays refused: its bucket does not refill within the test
    with pytest.raises(grpc.RpcError) as again:
        list_departments(rsj)
    assert again.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
