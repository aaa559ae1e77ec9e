"""Every list and export the broker serves comes in pages: its request names a page size and a
page token, its response the next page's token (a list added later is held to it too)."""

from __future__ import annotations

import pytest
from google.protobuf import descriptor_pool

from tongdao.proto.stubs import BROKER_SERVICES

POOL = descriptor_pool.Default()
LISTS = [
    method
    for name in BROKER_SERVICES
    for method in POOL.FindServiceByName(name).methods
    if method.name.startswith(("List", "Export"))
]


def test_the_walk_finds_the_lists():
    names = {m.name for m in LISTS}
    assert {"ListDisputes", "ListGrantChanges", "ListPublicAccess", "ExportLedger"} <= names


@pytest.mark.parametrize("method", LISTS, ids=lambda m: f"{m.containing_service.name}.{m.name}")
def test_the_list_is_paged(method):
    asked = method.input_type.fields_by_name
    answered = method.output_type.fields_by_name
    assert "page_size" in asked and "page_token" in asked, f"{method.name} takes no page"
    assert "next_page_token" in answered, f"{method.name} answers no next page"
