"""The node's open download (OPN-2): a page of an open entry under the broker's one-use token,
values masked by grade, sealed to the requester's key; nothing outside the token or the grades."""

from __future__ import annotations

import pytest

from tests.unit.node.world import PEOPLE, World
from tongdao.proto.errors import InvalidArgument, PermissionDenied

OPEN = "open data (Art.34)"


@pytest.fixture
def world(tmp_path):
    w = World(tmp_path)
    yield w
    w.engine.state.close()


def download(world, page, fields=("name", "gender"), **claims):
    c = world.claims(methods=("open_download",), fields=fields, purpose=OPEN, quota=1, **claims)
    query = world.query(
        world.token(c),
        page,
        method="open_download",
        fields=fields,
        purpose=OPEN,
        authenticated=False,
    )
    answer = world.engine.answer("broker", query)
    return answer, world.open_result(answer, query, c.grant_id)


def test_a_page_of_records_masked_by_grade(world):
    answer, result = download(world, {"offset": 0, "limit": 2})
    assert result["more"] and result["offset"] == 0
    assert result["records"] == [
        {"name": "张*", "gender": PEOPLE[0][2]},
        {"name": "李*", "gender": PEOPLE[1][2]},
    ]
    assert answer.receipt.record_count == 2
    _, last = download(world, {"offset": 2, "limit": 2})
    assert len(last["records"]) == 1 and not last["more"]


def test_a_sensitive_item_is_never_downloaded_even_when_the_token_names_it(world):
    with pytest.raises(PermissionDenied, match="graded sensitive_personal"):
        download(world, {"offset": 0, "limit": 1}, fields=("household_address",))


def test_a_grant_without_the_method_cannot_download(world):
    token = world.token(world.claims())  # fetch and verify only
    query = world.query(
        token, {"offset": 0, "limit": 1}, method="open_download", authenticated=False
    )
    with pytest.raises(PermissionDenied, match="not in the grant"):
        world.engine.answer("broker", query)


@pytest.mark.parametrize(
    "page",
    [
        {"offset": 0},
        {"offset": -1, "limit": 1},
        {"offset": 0, "limit": 0},
        {"offset": 0, "limit": True},
    ],
)
def test_a_malformed_page_is_refused(world, page):
    with pytest.raises(InvalidArgument):
        download(world, page)
