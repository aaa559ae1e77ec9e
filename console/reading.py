"""What each page reads from the broker, as plain values for the templates.

Every function takes the :class:`~tongdao.console.gateway.Gateway`, the person's session token
and the :class:`~tongdao.console.pages.Permissions` of their role, and reads only what that
role may read; a section the role may not see is ``None``, a section the broker refused is a
:class:`~tongdao.console.gateway.Refusal` (shown as such, the rest of the page still works).
"""

from __future__ import annotations

import base64
import datetime as dt
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tongdao.broker.ledger.audit import body_of
from tongdao.console.gateway import Gateway, Refusal
from tongdao.console.pages import Permissions
from tongdao.crypto.checkpoint import LOG_KEY_NAME, NoteVerifier, open_checkpoint
from tongdao.crypto.errors import NoteError, ProofError
from tongdao.crypto.merkle import leaf_hash, verify_inclusion
from tongdao.crypto.signing import VerifyKey
from tongdao.v1 import (
    accounts_pb2,
    catalogue_pb2,
    directory_pb2,
    ledger_pb2,
    sharing_pb2,
    supervision_pb2,
)

VERIFY_SECONDS = 60.0
"""How long the dashboard shows one verification of the whole log before asking again (every
role may ask for it; verifying recomputes every entry, so it is not repeated on every view)."""
LEDGER_PAGE = 50
"""Log entries per page."""
CHART_ENTRIES = 5000
"""At most this many of the newest log entries feed the charts."""
METRICS_SECONDS = 3.0


@dataclass
class Reader:
    """One person's view: the gateway, their token, their role's permissions."""

    gateway: Gateway
    token: str
    role: str
    permissions: Permissions

    def may(self, method: str) -> bool:
        return self.permissions.may(self.role, method)

    def call(self, method: str, request: Any) -> Any:
        service, name = method.split("/")
        attr = {"PublicCatalogue": "catalogue"}.get(service, service.lower())
        return self.gateway.call(self.token, attr, name, request)

    def section(self, method: str, request: Any) -> Any:
        """The reply, ``None`` when the role may not call it, the :class:`Refusal` if refused."""
        if not self.may(method):
            return None
        try:
            return self.call(method, request)
        except Refusal as refusal:
            return refusal


def who_am_i(gateway: Gateway, token: str) -> Any:
    return gateway.call(token, "accounts", "WhoAmI", accounts_pb2.WhoAmIRequest())


class Recent:
    """The last answer of a call every role may make, kept for :data:`VERIFY_SECONDS`."""

    def __init__(
        self, seconds: float = VERIFY_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.seconds = seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._value: Any = None
        self._at = 0.0
        self.checked_at = ""

    def get(self, fetch: Callable[[], Any]) -> Any:
        with self._lock:
            now = self._clock()
            if self._value is None or now - self._at > self.seconds:
                value = fetch()
                if value is None or isinstance(value, Refusal):
                    return value  # never kept: the next view asks again
                self._value, self._at = value, now
                self.checked_at = dt.datetime.now(dt.UTC).strftime("%H:%M:%S UTC")
            return self._value


@dataclass
class Certificate:
    """A certificate in the console's home and the days it has left."""

    name: str
    days_left: int
    not_after: str
    near: bool


@dataclass
class Dashboard:
    deadlines: Any = None
    open_deadlines: list[Any] = field(default_factory=list)
    overdue: list[Any] = field(default_factory=list)
    submitted: Any = None
    inbox: Any = None
    findings: Any = None
    orders: Any = None
    open_orders: list[Any] = field(default_factory=list)
    verification: Any = None
    verified_at: str = ""
    status: Any = None
    departments: Any = None
    reachable: dict[str, bool] | None = None
    certificates: list[Certificate] = field(default_factory=list)


def dashboard(
    reader: Reader,
    *,
    authority: bool,
    certificates: list[Certificate],
    metrics_url: str,
    verification: Recent | None = None,
) -> Dashboard:
    out = Dashboard(certificates=certificates)
    out.deadlines = reader.section(
        "Supervision/ListDeadlines", supervision_pb2.ListDeadlinesRequest()
    )
    if out.deadlines is not None and not isinstance(out.deadlines, Refusal):
        live = [d for d in out.deadlines.deadlines if not d.closed_on]
        out.overdue = [d for d in live if d.overdue]
        out.open_deadlines = [d for d in live if not d.overdue]
    if authority and reader.may("Catalogue/PublishCatalogueEntry"):
        out.submitted = reader.section(
            "Catalogue/ListCatalogueEntries",
            catalogue_pb2.ListCatalogueEntriesRequest(status="submitted"),
        )
    if not authority and reader.may("Sharing/DecideShareRequest"):
        out.inbox = reader.section(
            "Sharing/ListShareRequests",
            sharing_pb2.ListShareRequestsRequest(role="provider", status="pending_provider_review"),
        )
    out.findings = reader.section("Supervision/ListFindings", supervision_pb2.ListFindingsRequest())
    out.orders = reader.section(
        "Supervision/ListRectificationOrders", supervision_pb2.ListRectificationOrdersRequest()
    )
    if out.orders is not None and not isinstance(out.orders, Refusal):
        out.open_orders = [
            o for o in out.orders.orders if o.status in ("open", "answered", "suspended")
        ]

    def verify() -> Any:
        return reader.section("Ledger/VerifyLedger", ledger_pb2.VerifyLedgerRequest())

    if reader.may("Ledger/VerifyLedger"):
        out.verification = verification.get(verify) if verification else verify()
        out.verified_at = verification.checked_at if verification else ""
    if authority:  # the broker's health details are the authority's
        out.status = reader.section("Supervision/GetStatus", supervision_pb2.GetStatusRequest())
    out.departments = reader.section(
        "Directory/ListDepartments", directory_pb2.ListDepartmentsRequest()
    )
    if out.departments is not None and metrics_url:
        out.reachable = node_reachability(metrics_url)
    return out


def node_reachability(url: str) -> dict[str, bool] | None:
    """``tongdao_node_reachable`` from the broker's metrics endpoint, by department; None when
    the endpoint does not answer."""
    from prometheus_client.parser import text_string_to_metric_families

    if not url.startswith(("http://", "https://")):
        return None
    try:
        with urllib.request.urlopen(url, timeout=METRICS_SECONDS) as reply:  # noqa: S310
            text = reply.read(4_000_000).decode("utf-8", "replace")
    except (OSError, ValueError):
        return None
    out: dict[str, bool] = {}
    for family in text_string_to_metric_families(text):
        if family.name == "tongdao_node_reachable":
            for sample in family.samples:
                out[sample.labels.get("department", "")] = sample.value >= 1
    return out


def ledger_page(reader: Reader, before: int) -> tuple[int, list[Any]]:
    """(the log's length, up to :data:`LEDGER_PAGE` entries ending at ``before`` (0: the
    newest), newest first)."""
    head = reader.call("Ledger/GetLedger", ledger_pb2.GetLedgerRequest(from_sequence=1, limit=1))
    length = int(head.length)
    last = min(before, length) if before > 0 else length
    first = max(1, last - LEDGER_PAGE + 1)
    if last < 1:
        return length, []
    page = reader.call(
        "Ledger/GetLedger",
        ledger_pb2.GetLedgerRequest(from_sequence=first, limit=last - first + 1),
    )
    return length, sorted(page.entries, key=lambda e: -e.sequence)


@dataclass
class ProofView:
    """An entry's inclusion proof and what the console's own check of it found."""

    entry: Any
    tree_size: int
    leaf: str
    path: list[str]
    checkpoint: str
    root: str
    verified: bool
    problem: str


def inclusion(reader: Reader, sequence: int, broker_key: VerifyKey, origin: str) -> ProofView:
    """Ask the broker for the proof of entry ``sequence`` against its latest checkpoint and
    check it here: the checkpoint's signature under the broker's key, and the audit path from
    the entry's canonical bytes to the checkpoint's root (RFC 9162)."""
    proof = reader.call(
        "Ledger/ProveInclusion", ledger_pb2.ProveInclusionRequest(sequence=sequence)
    )
    leaf = leaf_hash(body_of(proof.entry))
    problem, root = "", b""
    try:
        if not proof.checkpoint:
            raise NoteError("the broker sent no signed checkpoint of that size")
        checkpoint, _ = open_checkpoint(
            proof.checkpoint, NoteVerifier(LOG_KEY_NAME, broker_key), origin
        )
        root = checkpoint.root_hash
        if checkpoint.size != proof.tree_size:
            raise ProofError(
                f"checkpoint of size {checkpoint.size}, proof for size {proof.tree_size}"
            )
        verify_inclusion(sequence - 1, proof.tree_size, leaf, list(proof.proof), root)
    except (NoteError, ProofError) as exc:
        problem = str(exc)
    return ProofView(
        entry=proof.entry,
        tree_size=int(proof.tree_size),
        leaf=_b64(leaf),
        path=[_b64(h) for h in proof.proof],
        checkpoint=proof.checkpoint,
        root=_b64(root) if root else "",
        verified=not problem,
        problem=problem,
    )


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def newest_entries(reader: Reader, limit: int = CHART_ENTRIES) -> list[Any]:
    """The newest ``limit`` log entries, oldest first (read a page of 1000 at a time)."""
    head = reader.call("Ledger/GetLedger", ledger_pb2.GetLedgerRequest(from_sequence=1, limit=1))
    sequence = max(1, int(head.length) - limit + 1)
    out: list[Any] = []
    while sequence <= head.length:
        page = reader.call(
            "Ledger/GetLedger", ledger_pb2.GetLedgerRequest(from_sequence=sequence, limit=1000)
        )
        if not page.entries:
            break
        out.extend(page.entries)
        sequence = page.entries[-1].sequence + 1
    return out


def recent_ledger_times(reader: Reader, kinds: tuple[str, ...]) -> dict[str, list[str]]:
    """``recorded_at`` of the newest :data:`CHART_ENTRIES` log entries of each kind."""
    out: dict[str, list[str]] = {kind: [] for kind in kinds}
    for entry in newest_entries(reader):
        if entry.kind in out:
            out[entry.kind].append(entry.recorded_at)
    return out


@dataclass
class Activity:
    """What one department did, from the newest log entries: its acts, newest first."""

    code: str
    entries: list[Any]
    scanned: int


def department_activity(reader: Reader, code: str) -> Activity:
    """The newest :data:`CHART_ENTRIES` log entries whose actor is the department ``code``."""
    entries = newest_entries(reader)
    mine = [e for e in entries if e.actor == code]
    return Activity(code, mine[::-1], len(entries))


@dataclass
class ChartData:
    requests: list[str] | None = None
    queries: list[str] | None = None
    deadlines: list[Any] | None = None
    source: str = ""
    problems: list[Refusal] = field(default_factory=list)


def chart_data(reader: Reader, *, authority: bool) -> ChartData:
    """Request and query times, and every deadline: from the log when the role may read it
    (the whole broker), else at a department from its own requests and the calls on its
    entries (at the authority without the log: the deadlines alone)."""
    out = ChartData()
    try:
        if authority and reader.may("Ledger/GetLedger"):
            times = recent_ledger_times(reader, ("share_request.filed", "query.relayed"))
            out.requests, out.queries = times["share_request.filed"], times["query.relayed"]
            out.source = "log"
        elif not authority:
            out.source = "own"
            if reader.may("Sharing/ListShareRequests"):
                out.requests = [
                    r.created_at
                    for role in ("provider", "consumer")
                    for r in reader.call(
                        "Sharing/ListShareRequests", sharing_pb2.ListShareRequestsRequest(role=role)
                    ).requests
                ]
            if reader.may("Sharing/ListUsage"):
                usage = reader.call(
                    "Sharing/ListUsage", sharing_pb2.ListUsageRequest(role="provider")
                )
                out.queries = [c.recorded_at for c in usage.calls if c.kind == "query.relayed"]
    except Refusal as refusal:
        out.problems.append(refusal)
    deadlines = reader.section(
        "Supervision/ListDeadlines", supervision_pb2.ListDeadlinesRequest(include_closed=True)
    )
    if isinstance(deadlines, Refusal):
        out.problems.append(deadlines)
    elif deadlines is not None:
        out.deadlines = list(deadlines.deadlines)
    return out


def certificates_of(
    infos: list[tuple[str, dt.datetime, int]], now: Callable[[], dt.datetime]
) -> list[Certificate]:
    """Each (name, not_after, warning period in days) with its days left; ``near`` within its
    warning period (the trust rules' for its role)."""
    today = now()
    out = []
    for name, not_after, warn_days in infos:
        left = (not_after - today).days
        out.append(Certificate(name, left, not_after.date().isoformat(), left <= warn_days))
    return sorted(out, key=lambda c: c.days_left)
