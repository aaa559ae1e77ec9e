"""PRIV-6 at the node: grades come from the grant (the catalogue's, signed), and a node whose
configuration disagrees refuses the entry, naming the data item, before it touches data."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.node.world import GRADES, PEOPLE, World, simple_masker
from tongdao.node.catalogue_grades import under_catalogue
from tongdao.node.engine import ServedEntry
from tongdao.proto.errors import FailedPrecondition


@pytest.fixture
def world(tmp_path):
    w = World(tmp_path)
    yield w
    w.engine.state.close()


def refused(world, claims, fields=("name", "gender")) -> FailedPrecondition:
    query = world.query(world.token(claims), {"keys": [PEOPLE[0][0]]}, fields=fields)
    with pytest.raises(FailedPrecondition) as err:
        world.engine.answer("broker", query)
    assert not world.engine.state.seen(query.request_id), "a refused request was recorded"
    return err.value


@pytest.mark.parametrize("grade", ["general", "sensitive_personal"])
def test_a_configuration_that_disagrees_either_way_is_refused_naming_the_item(world, grade):
    # the catalogue says otherwise than this node's configuration (GRADES: name is personal)
    claims = world.claims(grades={**GRADES, "name": grade})
    exc = refused(world, claims)
    assert exc.field == "grades.name"
    assert "'name'" in str(exc) and grade in str(exc) and "personal" in str(exc)


def test_the_disagreement_refuses_even_a_query_not_touching_the_item(world):
    claims = world.claims(grades={**GRADES, "household_address": "general"})
    assert refused(world, claims, fields=("gender",)).field == "grades.household_address"


def test_a_grant_without_catalogue_grades_is_refused(world):
    exc = refused(world, world.claims(grades={}))
    assert exc.field == "grant_token" and "catalogue grades" in str(exc)


def test_masking_follows_the_catalogue(world):
    claims = world.claims()
    query = world.query(world.token(claims), {"keys": [PEOPLE[0][0]]}, fields=("name", "gender"))
    result = world.open_result(world.engine.answer("broker", query), query, claims.grant_id)
    assert result["records"][0]["fields"]["name"] == simple_masker("personal", PEOPLE[0][1], "")


def test_a_configured_column_the_catalogue_does_not_list_is_not_served(world):
    catalogue = {k: v for k, v in GRADES.items() if k != "birth_date"}
    entry = world.engine.entries["gat.population"]
    served = under_catalogue(entry, world.claims(grades=catalogue), "Art.14")
    assert "birth_date" not in served.served_fields and "name" in served.served_fields


@settings(max_examples=50, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(sorted(GRADES)),
        st.sampled_from(["general", "personal", "sensitive_personal"]),
        min_size=1,
    )
)
def test_the_entry_served_is_graded_exactly_as_the_catalogue_or_refused(catalogue):
    entry = ServedEntry("e", source=None, key_field="id_number", grades=GRADES)  # type: ignore[arg-type]
    claims = dataclasses.replace(_claims(), grades=catalogue)
    agrees = all(GRADES[name] == grade for name, grade in catalogue.items())
    if agrees:
        served = under_catalogue(entry, claims, "Art.14")
        assert dict(served.grades) == catalogue  # nothing the catalogue does not grade
    else:
        with pytest.raises(FailedPrecondition):
            under_catalogue(entry, claims, "Art.14")


def _claims():
    from tongdao.crypto.grant_token import GrantClaims

    return GrantClaims(
        "g", "broker", "c", "p", "e", 1, (), (), "x", (), 0, 1, 1, "", grades=dict(GRADES)
    )
