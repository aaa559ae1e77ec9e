"""The edge's table of limits: what every RPC of every service accepts, field by field.

Keyed by message name (in package ``tongdao.v1``) and field name. Every string, bytes, number
and repeated field of every request message (and of the messages inside it) has a row; a test
(tests/unit/test_edge_limits.py) walks the descriptors and fails on a field without one, or a
row naming no field. Enum fields need no row: a value the enum does not define is refused.
Message fields need no row of their own: the edge checks their fields.

Text is never allowed NUL or other control characters (``lines`` allows tab and line breaks);
an empty value always passes the edge (whether a field is required is the domain's rule).
"""

from __future__ import annotations

from dataclasses import dataclass

from tongdao.policies.i18n import msg

PACKAGE_PREFIX = "tongdao.v1."
"""Rows for messages of this package are keyed by their short name."""
MIB = 1024 * 1024
STORE_INT_MAX = 2**31 - 1
CORRECTION_ENVELOPE_BYTES = 96 * 1024
"""A correction's sealed record key and values (64 items of at most 1024 characters)."""
CROSS_CHECK_KEYS = 10_000
"""Record keys one cross-verification may carry at the edge (the rule file's max_keys is lower)."""
CROSS_CHECK_ENVELOPE_BYTES = 4 * MIB
"""The largest integer every supported store keeps in an integer column (PostgreSQL INTEGER)."""


@dataclass(frozen=True)
class Text:
    """At most ``max_chars`` characters, no control characters, matching ``pattern`` if set."""

    max_chars: int
    pattern: str | None = None
    lines: bool = False

    def describe(self) -> str:
        if self.pattern:
            return msg(
                "at most {n} characters without control characters matching {pattern}",
                n=self.max_chars,
                pattern=self.pattern,
            )
        return msg("at most {n} characters without control characters", n=self.max_chars)


@dataclass(frozen=True)
class Blob:
    """At most ``max_bytes`` bytes."""

    max_bytes: int

    def describe(self) -> str:
        return msg("at most {n} bytes", n=self.max_bytes)


@dataclass(frozen=True)
class Range:
    """An integer in ``[low, high]``."""

    low: int
    high: int

    def describe(self) -> str:
        return msg("between {low} and {high}", low=self.low, high=self.high)


@dataclass(frozen=True)
class Real:
    """A finite number in ``[low, high]``."""

    low: float
    high: float

    def describe(self) -> str:
        return msg("a finite number between {low:g} and {high:g}", low=self.low, high=self.high)


@dataclass(frozen=True)
class Many:
    """A repeated field: at most ``max_items`` items, each within ``each`` (None: messages or
    enums, checked by their own rules)."""

    max_items: int
    each: Text | Blob | Range | Real | None = None

    def describe(self) -> str:
        return msg("at most {n} items", n=self.max_items)


Limit = Text | Blob | Range | Real | Many

# the shapes used below
CODE = Text(64)
ENTRY_CODE = Text(128)
ITEM_NAME = Text(64)
ID = Text(64)
WORD = Text(64)
NAME = Text(200)
SHORT = Text(200)
DATE = Text(40)
REGION = Text(6, r"[0-9]+")
PROSE = Text(2000, lines=True)
TOKEN = Text(16384, r"[A-Za-z0-9._-]+")
PAGE_TOKEN = Text(1024, r"[A-Za-z0-9._-]+")
USERNAME = Text(64, r"[A-Za-z0-9._@-]+")
PASSWORD = Text(256)
TOTP_CODE = Text(10, r"[0-9]*")
COUNT = Range(0, STORE_INT_MAX)
SEQUENCE = Range(0, STORE_INT_MAX)
PAGE_SIZE = Range(0, 10_000)
"""The edge's bound; the rule file's ``[limits] *_page_max`` is the broker's (and smaller)."""
PAGES = {"page_size": PAGE_SIZE, "page_token": PAGE_TOKEN}
ITEMS = 200

LIMITS: dict[str, dict[str, Limit]] = {
    "CatalogueEntry": {
        "code": ENTRY_CODE,
        "version": COUNT,
        "name": NAME,
        "description": PROSE,
        "provider": CODE,
        "data_items": Many(ITEMS),
        "key_field": ITEM_NAME,
        "data_format": SHORT,
        "update_frequency": SHORT,
        "share_scope_departments": Many(ITEMS, CODE),
        "share_scope_levels": Many(3, WORD),
        "share_scope_regions": Many(ITEMS, REGION),
        "permitted_purposes": Many(ITEMS, SHORT),
        "legal_basis": PROSE,
        "open_conditions": PROSE,
        "status": WORD,
        "classification": WORD,
        "grade": WORD,
        "aggregation_mode": WORD,
        "tags": Many(50, Text(64)),
        "reviewer": CODE,
        "sunset_on": DATE,
        "review_comments": PROSE,
        "obtainable_by_sharing": Many(ITEMS),
        "revocation_reason": PROSE,
    },
    "DataItem": {
        "name": ITEM_NAME,
        "type": WORD,
        "description": PROSE,
        "sensitivity": WORD,
        "classification": WORD,
    },
    "Decision": {
        "outcome": WORD,
        "articles": Many(50, Text(32)),
        "reason": PROSE,
        "rule": SHORT,
        "department": CODE,
        "person": NAME,
    },
    "SharingHint": {
        "entry_code": ENTRY_CODE,
        "provider": CODE,
        "name": NAME,
        "items": Many(ITEMS, ITEM_NAME),
    },
    "SubmitCatalogueEntryRequest": {"code": ENTRY_CODE},
    "PublishCatalogueEntryRequest": {"code": ENTRY_CODE, "comment": PROSE},
    "ReturnCatalogueEntryRequest": {"code": ENTRY_CODE, "comments": PROSE},
    "RequireCatalogueUpdateRequest": {"code": ENTRY_CODE, "basis": PROSE},
    "GetCatalogueEntryRequest": {"code": ENTRY_CODE, "version": COUNT},
    "ListCatalogueEntriesRequest": {
        "provider": CODE,
        "status": WORD,
        **PAGES,
    },
    "RequestCatalogueRevocationRequest": {"code": ENTRY_CODE, "reason": PROSE},
    "DecideCatalogueRevocationRequest": {"code": ENTRY_CODE, "comment": PROSE},
    "SearchCatalogueRequest": {
        "query": Text(500),
        "limit": Range(0, 200),
        "offset": Range(0, 1_000_000),
    },
    "SearchFilters": {
        "provider": CODE,
        "region": REGION,
        "tag": Text(64),
        "grade": WORD,
    },
    "MatchCatalogueRequest": {
        "need": Text(2000),
        "items": Many(ITEMS, Text(64)),
        "limit": Range(0, 200),
    },
    "GetOpenCatalogueRequest": {
        "provider": CODE,
        "limit": Range(0, 1000),
        "offset": Range(0, 1_000_000),
    },
    "ImportCatalogueRequest": {"format": WORD, "content": Blob(32 * MIB)},
    "ExportCatalogueRequest": {
        "format": WORD,
        "provider": CODE,
        "status": WORD,
        **PAGES,
    },
    "Department": {
        "code": CODE,
        "name": NAME,
        "region": REGION,
        "level": WORD,
        "node_endpoint": Text(255, r"[A-Za-z0-9.:/\[\]_-]+"),
        "encryption_public_key": Blob(64),
        "signing_public_key": Blob(64),
    },
    "GetDepartmentRequest": {"code": CODE},
    "RegisterDepartmentRequest": {"certificate_pem": Blob(16384)},
    "GetLedgerRequest": {"from_sequence": SEQUENCE, "limit": PAGE_SIZE, **PAGES},
    "ExportLedgerRequest": PAGES,
    "ProveInclusionRequest": {"sequence": SEQUENCE, "tree_size": SEQUENCE},
    "ProveConsistencyRequest": {"old_size": SEQUENCE, "new_size": SEQUENCE},
    "QueryRequest": {
        "grant_token": TOKEN,
        "request_id": ID,
        "purpose": SHORT,
        "fields": Many(ITEMS, ITEM_NAME),
        "sealed_query": Blob(24 * MIB),
        "status_ticket": Text(1024, r"[A-Za-z0-9._-]+"),
        "filter_shape": Text(40_000, r"[ -~]*"),
    },
    "QueryStreamRequest": {"chunk": Blob(8 * MIB)},
    "AggregateRequest": {"parts": Many(64), "paillier_public_key": Blob(8192)},
    "ShareRequest": {
        "id": ID,
        "consumer": CODE,
        "entry_code": ENTRY_CODE,
        "entry_version": COUNT,
        "fields": Many(ITEMS, ITEM_NAME),
        "methods": Many(16),
        "purpose": SHORT,
        "scenario": PROSE,
        "legal_basis": PROSE,
        "regions": Many(ITEMS, REGION),
        "status": WORD,
        "grant_id": ID,
        "created_at": DATE,
        "due_date": DATE,
        "requested_validity_days": Range(0, 36_500),
        "requested_quota": COUNT,
        "dp_epsilon": Real(0.0, 1_000_000.0),
        "dp_budget": Real(0.0, 1_000_000.0),
        "delegate": CODE,
    },
    "ListShareRequestsRequest": {"role": WORD, "status": WORD, **PAGES},
    "Territory": {"region": REGION, "department": CODE},
    "FileRegionalSplitRequest": {
        "entry_code": ENTRY_CODE,
        "territories": Many(ITEMS),
        "reason": PROSE,
    },
    "DecideRegionalSplitRequest": {"id": ID, "reason": PROSE},
    "WithdrawRegionalSplitRequest": {"id": ID, "reason": PROSE},
    "ListRegionalSplitsRequest": {"entry_code": ENTRY_CODE, "status": WORD, **PAGES},
    "PublishReturnFlowRequest": {"entry_code": ENTRY_CODE, "territories": Many(ITEMS)},
    "WithdrawReturnFlowRequest": {"id": ID, "reason": PROSE},
    "ListReturnFlowsRequest": {"entry_code": ENTRY_CODE, "status": WORD, **PAGES},
    "GetShareRequestRequest": {"id": ID},
    "DecideShareRequestRequest": {"id": ID, "reason": PROSE},
    "GetGrantRequest": {"id": ID},
    "ChangeGrantStatusRequest": {"grant_id": ID, "change": WORD, "ground": WORD, "reason": PROSE},
    "RecordUsageRequest": {"grant_id": ID},
    "UsageRecord": {
        "id": SEQUENCE,
        "grant_id": ID,
        "consumer": CODE,
        "provider": CODE,
        "entry_code": ENTRY_CODE,
        "scenario": PROSE,
        "outcome": PROSE,
        "process": PROSE,
        "storage": PROSE,
        "destruction": PROSE,
        "recorded_at": DATE,
        "retain_until": DATE,
        "sequence": SEQUENCE,
    },
    "ListUsageRequest": {"role": WORD, "entry_code": ENTRY_CODE, "grant_id": ID, **PAGES},
    "RequestGrantChangeRequest": {
        "grant_id": ID,
        "kind": WORD,
        "fields": Many(ITEMS, ITEM_NAME),
        "purpose": SHORT,
        "third_party": CODE,
        "reason": PROSE,
    },
    "DecideGrantChangeRequest": {"id": ID, "reason": PROSE},
    "ListGrantChangesRequest": {"role": WORD, "grant_id": ID, **PAGES},
    "ListPublicAccessRequest": PAGES,
    "PublicRequester": {"name": NAME, "contact": Text(120), "id_number": Text(32)},
    "DownloadOpenDataRequest": {
        "entry_code": ENTRY_CODE,
        "encryption_key": Blob(32),
        "offset": Range(0, 10_000_000),
        "limit": Range(0, 10_000),
        "request_id": ID,
        "retrieval_token": Text(128, r"[A-Za-z0-9_-]+"),
    },
    "FileOpenDataRequestRequest": {
        "entry_code": ENTRY_CODE,
        "data_items": Many(ITEMS, ITEM_NAME),
        "purpose": PROSE,
    },
    "RequestOpenDataWithdrawalRequest": {"entry_code": ENTRY_CODE, "reason": PROSE},
    "DecideOpenDataWithdrawalRequest": {"id": ID, "comment": PROSE},
    "ListOpenDataWithdrawalsRequest": {"status": WORD, **PAGES},
    "ListWithdrawalAnnouncementsRequest": PAGES,
    "GetOpenDataRequestRequest": {"id": ID, "retrieval_token": Text(128, r"[A-Za-z0-9_-]+")},
    "ChangePublicAccessRequest": {"requester": NAME, "change": WORD, "reason": PROSE},
    "PurgeUsageRecordsRequest": {"before": DATE},
    "ListFindingsRequest": {"kind": WORD, "grant_id": ID, **PAGES},
    "ReconcileRequest": {"day": DATE},
    "IssueRectificationOrderRequest": {
        "grant_id": ID,
        "ground": WORD,
        "requirement": PROSE,
        "findings": Many(ITEMS, SEQUENCE),
    },
    "AnswerRectificationOrderRequest": {"id": SEQUENCE, "changes": PROSE},
    "DecideRectificationOrderRequest": {"id": SEQUENCE, "reason": PROSE},
    "ListRectificationOrdersRequest": {"grant_id": ID, **PAGES},
    "OpenDisputeRequest": {
        "subject_kind": WORD,
        "subject_id": ID,
        "claim": PROSE,
        "negotiation": PROSE,
    },
    "ReferDisputeRequest": {"id": SEQUENCE, "reason": PROSE},
    "ResolveDisputeRequest": {"id": SEQUENCE, "outcome": PROSE},
    "WithdrawDisputeRequest": {"id": SEQUENCE, "reason": PROSE},
    "GetDisputeRequest": {"id": SEQUENCE},
    "RecordTypicalCaseRequest": {
        "department": CODE,
        "subject": PROSE,
        "scenario": PROSE,
        "outcome": PROSE,
        "grants": Many(ITEMS, ID),
        "other_sources": Many(ITEMS, SHORT),
    },
    "ListTypicalCasesRequest": {"region": REGION, **PAGES},
    "ReportTypicalCasesRequest": {"region": REGION},
    "ListDisputesRequest": {"status": WORD, "subject_id": ID, **PAGES},
    "ServiceRequest": {
        "id": ID,
        "kind": WORD,
        "requester": CODE,
        "provider": CODE,
        "subject": SHORT,
        "data_items": Many(ITEMS, Text(64)),
        "scenario": PROSE,
        "legal_basis": PROSE,
        "description": PROSE,
        "record_key": Text(256),
        "status": WORD,
        "due_date": DATE,
        "fulfilled_by": ENTRY_CODE,
        "created_at": DATE,
        "urgent_handler": CODE,
        "urgent_due_date": DATE,
        "urgent_outcome": PROSE,
        "sealed_correction": Blob(CORRECTION_ENVELOPE_BYTES),
        "correction_id": ID,
        "cross_check_run": ID,
        "sealed_record_key": Blob(1024),
    },
    "RunCrossVerificationRequest": {
        "run_id": ID,
        "sides": Many(2, None),
        "notices": Many(CROSS_CHECK_KEYS, None),
        "description": PROSE,
    },
    "CrossCheckSide": {
        "entry_code": ENTRY_CODE,
        "item": Text(64),
        "sealed_check": Blob(CROSS_CHECK_ENVELOPE_BYTES),
    },
    "CrossCheckNotice": {"key_digest": Blob(32), "sealed_record_keys": Many(2, Blob(1024))},
    "CrossCheckDigestsRequest": {
        "run_id": ID,
        "entry_code": ENTRY_CODE,
        "sealed_check": Blob(CROSS_CHECK_ENVELOPE_BYTES),
    },
    # a node's correction receipt (inside ServiceRequest; set by the broker, ignored when filed)
    "CorrectionReceipt": {
        "request_id": ID,
        "department": CODE,
        "entry_code": ENTRY_CODE,
        "correction_id": ID,
        "fields": Many(ITEMS, Text(64)),
        "before_digest": Blob(32),
        "after_digest": Blob(32),
        "key_id": Text(64),
        "decided_at": DATE,
        "refusal": PROSE,
        "signature": Blob(64),
    },
    "ApplyCorrectionRequest": {
        "request_id": ID,
        "entry_code": ENTRY_CODE,
        "correction_id": ID,
        "fields": Many(ITEMS, Text(64)),
        "sealed_correction": Blob(CORRECTION_ENVELOPE_BYTES),
    },
    "DecideServiceRequestRequest": {"id": ID, "reason": PROSE},
    "RecordUrgentHandlingRequest": {"id": ID, "outcome": PROSE},
    "FulfilDataNeedRequest": {"id": ID, "entry_code": ENTRY_CODE},
    "ListServiceRequestsRequest": {"role": WORD, "kind": WORD, **PAGES},
    "ListDeadlinesRequest": PAGES,
    "ListDepartmentsRequest": PAGES,
    "ListAccountsRequest": PAGES,
    "ExtendDeadlineRequest": {"id": SEQUENCE, "basis": PROSE},
    "LoadHolidayScheduleRequest": {
        "schedule_toml": Text(65536, lines=True),
        "file_name": Text(255),
    },
    "AddCheckpointRequest": {
        "old_size": SEQUENCE,
        "proof": Many(64, Blob(64)),
        "checkpoint": Text(8192, lines=True),
    },
    "ListReceiptsRequest": {"after": SEQUENCE, "limit": Range(0, 1000)},
    "ReportReconciliationRequest": {"period_start": DATE, "period_end": DATE},
    # people's accounts (Accounts service); passwords may hold any printable character
    "CreateAccountRequest": {
        "username": USERNAME,
        "party": CODE,
        "role": WORD,
        "display_name": NAME,
        "initial_password": PASSWORD,
    },
    "DisableAccountRequest": {"username": USERNAME},
    "LoginRequest": {"username": USERNAME, "password": PASSWORD, "totp_code": TOTP_CODE},
    "SetPasswordRequest": {
        "username": USERNAME,
        "current_password": PASSWORD,
        "new_password": PASSWORD,
    },
    "ConfirmTotpRequest": {"code": TOTP_CODE},
    # gRPC's own services on every listener (health checking, server reflection)
    "grpc.health.v1.HealthCheckRequest": {"service": Text(200)},
    "grpc.reflection.v1alpha.ServerReflectionRequest": {
        "host": Text(255),
        "file_by_filename": Text(255),
        "file_containing_symbol": Text(255),
        "all_extension_numbers_of_type": Text(255),
        "list_services": Text(255),
    },
    "grpc.reflection.v1alpha.ExtensionRequest": {
        "containing_type": Text(255),
        "extension_number": Range(0, 2**29),
    },
}
"""Message name → field name → its limit."""
