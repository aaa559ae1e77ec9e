"""Art.22(1): where the rule file asks for it, an unconditional share request waits for an
operator of the consumer's data authority (its own clock) instead of being approved at once."""

from __future__ import annotations

import dataclasses

import pytest

from tests.integration.broker_fixtures import GAT, MZT, POPULATION, RSJ, World, request_for
from tongdao.policies.loader import RULES_DIR, load_policy
from tongdao.policies.model import DeadlineRule, PolicyError
from tongdao.proto.errors import InvalidArgument, PermissionDenied

RULE_FILE = RULES_DIR / "heilongjiang-2025.toml"


def reviewed_by_an_operator():
    base = load_policy()
    clock = DeadlineRule("unconditional_share_review", 2, "Art.22(1)", "the authority reviews")
    return dataclasses.replace(
        base,
        sharing=dataclasses.replace(base.sharing, unconditional_review="authority"),
        deadlines={**base.deadlines, "unconditional_share_review": clock},
    )


@pytest.fixture
def world(database_url):
    w = World(database_url).setup()
    w.services.kernel.policy = reviewed_by_an_operator()
    yield w
    w.engine.dispose()


def listed(world, caller):
    with world.sessions.begin() as s:
        return [r.id for r in world.services.sharing.list_share_requests(s, caller, "reviewer")]


def test_an_unconditional_request_waits_for_the_authority_and_its_clock(world):
    req = world.file(RSJ, request_for(POPULATION, ("name",)))
    assert req.status == "pending_authority_review" and req.grant_id is None
    assert req.decision["articles"] == ["Art.22(1)"]
    assert req.due_date == world.services.kernel.calendar.due_date(world.clock.now.date(), 2)
    assert listed(world, "authority") == [req.id]
    with pytest.raises(PermissionDenied):  # a department that is no data authority
        listed(world, MZT.code)
    with world.sessions.begin() as s, pytest.raises(PermissionDenied):  # not the provider's call
        world.services.sharing.decide_share_request(s, GAT.code, req.id, True, "")
    with world.sessions.begin() as s, pytest.raises(InvalidArgument):  # a refusal needs a reason
        world.services.sharing.decide_share_request(s, "authority", req.id, False, " ")
    with world.sessions.begin() as s:
        done = world.services.sharing.decide_share_request(s, "authority", req.id, True, "")
        assert done.status == "approved" and done.grant_id
    assert listed(world, "authority") == []
    refused = world.file(RSJ, request_for(POPULATION, ("name",)))
    with world.sessions.begin() as s:
        out = world.services.sharing.decide_share_request(
            s, "authority", refused.id, False, "职责依据不足"
        )
        assert out.status == "refused" and "职责依据不足" in out.decision["reason"]


def test_the_rule_file_names_the_review_and_its_clock(tmp_path):
    assert load_policy().sharing.unconditional_review == "automatic"
    text = RULE_FILE.read_text(encoding="utf-8")
    without_clock = tmp_path / "no-clock.toml"
    without_clock.write_text(
        text.replace('unconditional_review = "automatic"', 'unconditional_review = "authority"'),
        encoding="utf-8",
    )
    with pytest.raises(PolicyError, match="unconditional_share_review"):
        load_policy(without_clock)
    unknown = tmp_path / "unknown.toml"
    unknown.write_text(
        text.replace('unconditional_review = "automatic"', 'unconditional_review = "nobody"'),
        encoding="utf-8",
    )
    with pytest.raises(PolicyError, match="automatic, authority"):
        load_policy(unknown)
