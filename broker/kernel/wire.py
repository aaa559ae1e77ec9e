"""What every context's servicer shares: the caller from its certificate, ISO dates, decisions.

Only servicers import this module (it speaks protobuf); services never do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import grpc

from tongdao.policies.i18n import DEFAULT_LOCALE, msg, render
from tongdao.proto.errors import Unauthenticated
from tongdao.proto.transport import caller_locale, peer_common_name
from tongdao.v1 import common_pb2


def iso(value: dt.datetime | dt.date | None) -> str:
    return value.isoformat() if value else ""


def decision_pb(d: dict[str, Any] | None) -> common_pb2.Decision:
    d = d or {}
    return common_pb2.Decision(
        outcome=d.get("outcome", ""),
        articles=d.get("articles", []),
        reason=d.get("reason", ""),
        rule=d.get("rule", ""),
        department=d.get("department", ""),
        person=d.get("person", ""),
    )


class ContextServicer:
    """Base of a context's servicer: the caller is the CN of its verified client certificate."""

    @staticmethod
    def _caller(context: grpc.ServicerContext) -> str:
        caller = peer_common_name(context)
        if not caller:
            raise Unauthenticated(msg("no verified client certificate"))
        return caller

    @staticmethod
    def _in_callers_language(context: grpc.ServicerContext, texts: Iterable[str]) -> list[str]:
        """Each of ``texts`` (catalogue messages) in the language the call asked for (metadata
        ``tongdao-locale`` or ``accept-language``; zh-CN when it asked for none)."""
        locale = caller_locale(context, DEFAULT_LOCALE)
        return [render(text, locale) for text in texts]
