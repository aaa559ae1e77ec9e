"""The server interceptor that runs the handlers of named unary methods in turns
(:mod:`tongdao.proto.turns`)."""

from __future__ import annotations

from collections.abc import Iterable

import grpc

from tongdao.proto.turns import Turns


class TurnInterceptor(grpc.ServerInterceptor):
    """Runs each call of ``methods`` (unary–unary only) inside :meth:`Turns.turn`, around every
    interceptor after it and the handler; other methods pass untouched."""

    def __init__(self, turns: Turns, methods: Iterable[str]) -> None:
        self._turns = turns
        self._methods = frozenset(methods)

    def intercept_service(self, continuation, handler_call_details):  # type: ignore[no-untyped-def]
        handler = continuation(handler_call_details)
        if (
            handler_call_details.method not in self._methods
            or handler is None
            or handler.unary_unary is None
        ):
            return handler
        inner = handler.unary_unary
        decode = handler.request_deserializer
        encode = handler.response_serializer
        turn = self._turns.turn

        def in_turn(request, context):  # type: ignore[no-untyped-def]
            # the message is decoded and the reply encoded in the turn too: gRPC is handed bytes
            with turn():
                reply = inner(decode(request) if decode else request, context)
                return encode(reply) if encode else reply

        return grpc.unary_unary_rpc_method_handler(in_turn)
