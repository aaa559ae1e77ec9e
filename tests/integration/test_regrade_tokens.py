"""Grants signed before tokens carried catalogue grades are re-signed at the broker's start
(PRIV-6): the new token carries the published grades, the change is in the ledger, and the old
token is refused with a pointer to the new one."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from tests.integration.broker_fixtures import GAT, POPULATION, RSJ, World, request_for
from tongdao.broker.ledger.models import LedgerEntry
from tongdao.broker.sharing.models import Grant
from tongdao.crypto.grant_token import b64url_encode, read_grant_token_unverified
from tongdao.proto.errors import PermissionDenied

KEY = "230102199001011234"


@pytest.fixture
def world(database_url):
    w = World(database_url).setup()
    yield w
    w.engine.dispose()


def test_a_token_without_grades_is_re_signed_and_the_old_one_points_to_it(world):
    req = world.file(RSJ, request_for(POPULATION, ("name",)))
    with world.sessions.begin() as s:
        grant = s.get(Grant, req.grant_id)
        # the token as the broker signed it before grants carried grades
        raw = json.loads(read_grant_token_unverified(grant.token).to_json())
        del raw["grades"]
        signed = f"tdg1.{b64url_encode(json.dumps(raw, sort_keys=True).encode())}"
        sig = b64url_encode(world.broker_key.sign(signed.encode()))
        grant.token = old = f"{signed}.{sig}"
    assert read_grant_token_unverified(old).grades == {}
    with world.sessions.begin() as s:
        assert world.services.sharing.regrade_tokens(s) == 1
    with world.sessions.begin() as s:
        assert world.services.sharing.regrade_tokens(s) == 0  # once
        new = s.get(Grant, req.grant_id).token
        changed = s.execute(
            select(LedgerEntry).where(
                LedgerEntry.kind == "grant.changed", LedgerEntry.subject == req.grant_id
            )
        ).scalar_one()
    grades = {i.name: i.sensitivity for i in POPULATION.data_items}
    assert dict(read_grant_token_unverified(new).grades) == grades
    assert "catalogue grades" in json.loads(changed.payload_json)["change"]
    with pytest.raises(PermissionDenied) as err:
        world.relay(RSJ, GAT, old, ("name",), {"keys": [KEY]})
    assert "newer" in str(err.value)
    world.relay(RSJ, GAT, new, ("name",), {"keys": [KEY]})
