"""The public's client of the broker's public listener: TLS trusting the authority CA, no
client certificate. Draws a fresh X25519 key for each download and opens the page with it."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import grpc

from tongdao.crypto.envelope import EncryptionKeyPair, open_sealed
from tongdao.crypto.query_binding import RESULT, query_associated_data
from tongdao.policies.i18n import from_environment
from tongdao.proto.transport import public_channel, with_locale
from tongdao.v1 import catalogue_pb2, catalogue_pb2_grpc, opendata_pb2, opendata_pb2_grpc

METHOD = "open_download"


@dataclass(frozen=True)
class Identity:
    """Who the requester says it is (the rule file's ``[open_data] requester_identity``)."""

    name: str
    contact: str = ""
    id_number: str = ""

    def to_pb(self) -> opendata_pb2.PublicRequester:
        return opendata_pb2.PublicRequester(
            name=self.name, contact=self.contact, id_number=self.id_number
        )


@dataclass(frozen=True)
class Page:
    """One downloaded page: the records as the node sent them, and the download's record."""

    reply: Any  # tongdao.v1.OpenDataDownload
    records: list[dict[str, str]]
    more: bool


class PublicClient:
    """Calls on the public listener; ``close()`` (or ``with``) ends the channel."""

    def __init__(
        self, target: str, ca_pem: bytes, timeout: float = 30.0, *, locale: str | None = None
    ) -> None:
        # the broker answers in ``locale`` (zh-CN or en); default: the environment's language
        self.locale = locale or from_environment(os.environ)
        self.channel = with_locale(public_channel(target, ca_pem), self.locale)
        self.catalogue_stub = catalogue_pb2_grpc.PublicCatalogueStub(self.channel)
        self.data = opendata_pb2_grpc.PublicDataStub(self.channel)
        self.timeout = timeout

    def __enter__(self) -> PublicClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.channel.close()

    def catalogue(self, provider: str = "", limit: int = 100, offset: int = 0) -> Any:
        request = catalogue_pb2.GetOpenCatalogueRequest(
            provider=provider, limit=limit, offset=offset
        )
        return self.catalogue_stub.GetOpenCatalogue(request, timeout=self.timeout)

    def download(
        self,
        who: Identity,
        entry_code: str,
        *,
        offset: int = 0,
        limit: int = 0,
        request_id: str = "",
        retrieval_token: str = "",
    ) -> Page:
        """One page of records; the node seals it to a key drawn for this download only."""
        keys = EncryptionKeyPair.generate()
        reply = self.data.DownloadOpenData(
            opendata_pb2.DownloadOpenDataRequest(
                entry_code=entry_code,
                requester=who.to_pb(),
                encryption_key=keys.public_key,
                offset=offset,
                limit=limit,
                request_id=request_id,
                retrieval_token=retrieval_token,
            ),
            timeout=self.timeout,
        )
        plain = open_sealed(
            keys.private_key,
            reply.sealed_result,
            query_associated_data(reply.download_id, reply.query_id, METHOD, RESULT),
        )
        body = json.loads(plain)
        return Page(reply, list(body["records"]), bool(body["more"]))

    def file_request(
        self, who: Identity, entry_code: str, purpose: str, data_items: list[str] | None = None
    ) -> Any:
        return self.data.FileOpenDataRequest(
            opendata_pb2.FileOpenDataRequestRequest(
                entry_code=entry_code,
                requester=who.to_pb(),
                data_items=data_items or [],
                purpose=purpose,
            ),
            timeout=self.timeout,
        )

    def status(self, request_id: str, retrieval_token: str) -> Any:
        return self.data.GetOpenDataRequest(
            opendata_pb2.GetOpenDataRequestRequest(id=request_id, retrieval_token=retrieval_token),
            timeout=self.timeout,
        )


RpcError = grpc.RpcError
