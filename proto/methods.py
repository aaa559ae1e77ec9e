"""Query method names: the one map between the v1 enums and the names used in tokens and AAD."""

from __future__ import annotations

from tongdao.v1 import common_pb2

METHOD_NAMES: dict[int, str] = {
    common_pb2.QUERY_METHOD_FETCH: "fetch",
    common_pb2.QUERY_METHOD_VERIFY: "verify",
    common_pb2.QUERY_METHOD_INTERSECTION: "intersection",
    common_pb2.QUERY_METHOD_INTERSECTION_SUM: "intersection_sum",
    common_pb2.QUERY_METHOD_AGGREGATE: "aggregate",
    common_pb2.QUERY_METHOD_INTERSECTION_SIZE: "intersection_size",
    common_pb2.QUERY_METHOD_OPEN_DOWNLOAD: "open_download",
}
METHOD_VALUES: dict[str, int] = {name: value for value, name in METHOD_NAMES.items()}

SHARE_TYPE_NAMES: dict[int, str] = {
    common_pb2.SHARE_TYPE_UNCONDITIONAL: "unconditional",
    common_pb2.SHARE_TYPE_CONDITIONAL: "conditional",
    common_pb2.SHARE_TYPE_NOT_SHARED: "not_shared",
}
SHARE_TYPE_VALUES: dict[str, int] = {name: value for value, name in SHARE_TYPE_NAMES.items()}

OPEN_TYPE_NAMES: dict[int, str] = {
    common_pb2.OPEN_TYPE_NOT_OPEN: "not_open",
    common_pb2.OPEN_TYPE_CONDITIONAL_OPEN: "conditional_open",
    common_pb2.OPEN_TYPE_UNCONDITIONAL_OPEN: "unconditional_open",
}
OPEN_TYPE_VALUES: dict[str, int] = {name: value for value, name in OPEN_TYPE_NAMES.items()}


def method_name(value: int) -> str:
    """Name of a QueryMethod enum value.

    Raises:
        ValueError: unspecified or unknown value.
    """
    try:
        return METHOD_NAMES[value]
    except KeyError:
        raise ValueError(f"unknown query method {value}") from None
