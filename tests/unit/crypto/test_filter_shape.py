"""Filter shapes (crypto.filter_shape): consumer and node derive the same pseudonyms, the
broker (holding neither private key) cannot, and a declared shape is read strictly."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tongdao.crypto.envelope import EncryptionKeyPair
from tongdao.crypto.filter_shape import (
    FilterShapeError,
    filter_shape,
    parse_shape,
    pseudonym_key,
)

CONSUMER, NODE, OTHER = (EncryptionKeyPair.generate() for _ in range(3))
VALUES = st.lists(st.text(max_size=8) | st.integers(), min_size=1, max_size=6)


def test_consumer_and_node_derive_the_same_key_a_third_party_does_not():
    mine = pseudonym_key(CONSUMER.private_key, NODE.public_key)
    assert mine == pseudonym_key(NODE.private_key, CONSUMER.public_key)
    assert mine != pseudonym_key(OTHER.private_key, NODE.public_key)


@given(VALUES, VALUES)
def test_value_sets_keep_their_relations_under_pseudonyms(a, b):
    key = pseudonym_key(CONSUMER.private_key, NODE.public_key)
    sa = set(json.loads(filter_shape(key, "members", "in", a))["values"])
    sb = set(json.loads(filter_shape(key, "members", "in", b))["values"])
    ka = {json.dumps(v) for v in a}
    kb = {json.dumps(v) for v in b}
    assert (sa <= sb) == (ka <= kb) and len(sa - sb) == len(ka - kb)


@given(VALUES)
def test_a_computed_shape_parses_and_shows_no_value(values):
    key = pseudonym_key(CONSUMER.private_key, NODE.public_key)
    text = filter_shape(key, "district", "in", values)
    shape = parse_shape(text)
    assert shape["field"] == "district"
    assert not {str(v) for v in values} & set(shape["values"])


def test_no_filter_is_the_shape_all():
    assert parse_shape(filter_shape(b"k" * 32, None, "eq", None))["op"] == "all"


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        json.dumps({"field": "x", "op": "in"}),
        '{"field":"x","op":"lt","values":["' + "0" * 32 + '"]}',
        '{"field":"x","op":"in","values":["plain value"]}',
        '{"field":"x","op":"in","values":[]}',
        '{"field":"","op":"all","values":["' + "0" * 32 + '"]}',
        '{"field":"x","op":"in","values":["' + "1" * 32 + '","' + "0" * 32 + '"]}',
        '{"op":"in","field":"x","values":["' + "0" * 32 + '"]}',
        '{"field": "x", "op": "in", "values": ["' + "0" * 32 + '"]}',
    ],
)
def test_a_malformed_or_non_canonical_shape_is_refused(text):
    with pytest.raises(FilterShapeError):
        parse_shape(text)
