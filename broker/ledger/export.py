"""The ledger export: a self-contained, verifiable archive (JSON lines), and archiving.

An export covers entries ``first..last`` and holds everything an auditor needs besides the
broker's public key (which the auditor brings):

1. a header: format, origin, the broker's checkpoint key name and key, the witnesses' keys, how
   many cosignatures a checkpoint needs, the covered range and the tree's right edge before
   ``first`` (``prefix``: empty unless older entries were archived);
2. ``{"checkpoint": note, "proof": [...]}`` lines: every signed checkpoint with its cosignatures;
   one beyond ``last`` carries the consistency proof from ``last`` to its size;
3. ``{"entry": {...}}`` lines, in sequence order.

Archiving writes the export of the oldest entries (only those past the rule file's retention,
Art.28) and then removes them from the store; their tree nodes stay, so proofs for the remaining
entries, and the remaining entries' audit, are unaffected.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import IO, Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tongdao.broker.ledger import chain as ledger_mod
from tongdao.broker.ledger.audit import Audit, audit
from tongdao.broker.ledger.models import LedgerArchive, LedgerCheckpoint, LedgerEntry
from tongdao.crypto.checkpoint import LOG_KEY_NAME
from tongdao.crypto.errors import KeyFormatError, ProofError
from tongdao.crypto.merkle import CompactRange
from tongdao.crypto.signing import VerifyKey
from tongdao.policies.i18n import msg

FORMAT = "tongdao-ledger-export/v2"
ENTRY_FIELDS = ("sequence", "recorded_at", "kind", "actor", "subject", "payload_json")


class ExportError(Exception):
    """The file is not a ledger export (the message names the line and the problem)."""


def export_lines(
    session: Session,
    *,
    origin: str,
    witnesses: Mapping[str, VerifyKey],
    witnesses_required: int,
    broker_key: VerifyKey,
    last: int | None = None,
    batch: int = 1000,
) -> Iterator[str]:
    """The export of every stored entry up to ``last`` (default: the head), line by line."""
    head = ledger_mod.read_head(session).length
    last = head if last is None else min(last, head)
    yield from header_lines(
        session,
        origin=origin,
        witnesses=witnesses,
        witnesses_required=witnesses_required,
        broker_key=broker_key,
        last=last,
    )
    after = ledger_mod.archived_up_to(session)
    while after < last:
        rows = entries_after(session, after, last, batch)
        if not rows:
            return
        yield from (entry_line(e) for e in rows)
        after = rows[-1].sequence
        session.expunge_all()


def header_lines(
    session: Session,
    *,
    origin: str,
    witnesses: Mapping[str, VerifyKey],
    witnesses_required: int,
    broker_key: VerifyKey,
    last: int,
) -> Iterator[str]:
    """The header and checkpoint lines of an export covering the stored entries up to ``last``
    (the entry lines follow them, from :func:`entries_after` and :func:`entry_line`)."""
    first = ledger_mod.archived_up_to(session) + 1
    prefix = ledger_mod.prefix_range(session, first - 1)
    yield json.dumps(
        {
            "format": FORMAT,
            "origin": origin,
            "log_key_name": LOG_KEY_NAME,
            "log_key": broker_key.public_key.hex(),
            "witnesses": {code: key.public_key.hex() for code, key in sorted(witnesses.items())},
            "witnesses_required": witnesses_required,
            "first_sequence": first,
            "last_sequence": last,
            "prefix": {"size": prefix.size, "hashes": [h.hex() for h in prefix.hashes]},
        }
    )
    for row in session.execute(select(LedgerCheckpoint).order_by(LedgerCheckpoint.size)).scalars():
        if row.size < first - 1:
            continue
        proof = ledger_mod.prove_consistency(session, last, row.size) if row.size > last else []
        yield json.dumps(
            {
                "checkpoint": ledger_mod.cosigned_note(session, row),
                "proof": [p.hex() for p in proof],
            },
            ensure_ascii=False,
        )


def entries_after(session: Session, after: int, last: int, limit: int) -> list[LedgerEntry]:
    """Up to ``limit`` stored entries after sequence ``after`` and up to ``last``, in order."""
    return list(
        session.execute(
            select(LedgerEntry)
            .where(LedgerEntry.sequence > after, LedgerEntry.sequence <= last)
            .order_by(LedgerEntry.sequence)
            .limit(limit)
        ).scalars()
    )


def entry_line(e: LedgerEntry) -> str:
    """One entry's line of an export."""
    return json.dumps(
        {
            "entry": {
                **{name: getattr(e, name) for name in ENTRY_FIELDS},
                "previous_hash": e.previous_hash.hex(),
                "entry_hash": e.entry_hash.hex(),
            }
        },
        ensure_ascii=False,
    )


@dataclass
class Export:
    """A parsed export."""

    header: dict[str, Any]
    checkpoints: list[str] = field(default_factory=list)
    proofs: dict[int, list[bytes]] = field(default_factory=dict)
    entries: list[SimpleNamespace] = field(default_factory=list)

    @property
    def witnesses(self) -> dict[str, VerifyKey]:
        return {code: VerifyKey(bytes.fromhex(k)) for code, k in self.header["witnesses"].items()}


def _hexes(value: Any, where: str) -> list[bytes]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ExportError(msg("{where}: must be a list of hex strings", where=where))
    try:
        return [bytes.fromhex(v) for v in value]
    except ValueError:
        raise ExportError(msg("{where}: not hex", where=where)) from None


def read_export(lines: Iterable[str]) -> Export:
    """Parse an export.

    Raises:
        ExportError: naming the line and what is wrong (never a traceback).
    """
    export: Export | None = None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError:
            raise ExportError(msg("line {number}: not JSON", number=number)) from None
        if not isinstance(item, dict):
            raise ExportError(msg("line {number}: not a JSON object", number=number))
        if export is None:
            if "head" in item:
                raise ExportError(
                    msg(
                        "line 1: an export of the older hash-chain format (no checkpoints); "
                        "export the ledger again"
                    )
                )
            if item.get("format") != FORMAT:
                raise ExportError(
                    msg("line 1: not a ledger export header (format {FORMAT})", FORMAT=FORMAT)
                )
            _check_header(item)
            export = Export(item)
        elif "checkpoint" in item:
            if not isinstance(item["checkpoint"], str):
                raise ExportError(
                    msg("line {number}: checkpoint must be the signed note's text", number=number)
                )
            export.checkpoints.append(item["checkpoint"])
            proof = _hexes(item.get("proof", []), f"line {number}: proof")
            if proof:
                size = item["checkpoint"].split("\n")[1] if "\n" in item["checkpoint"] else ""
                if size.isdigit():
                    export.proofs[int(size)] = proof
        elif "entry" in item:
            export.entries.append(_entry(item["entry"], number))
        else:
            raise ExportError(
                msg("line {number}: neither a checkpoint nor an entry", number=number)
            )
    if export is None:
        raise ExportError(msg("the file is empty"))
    return export


def _check_header(item: dict[str, Any]) -> None:
    for name, kind in (
        ("origin", str),
        ("log_key_name", str),
        ("log_key", str),
        ("witnesses", dict),
        ("witnesses_required", int),
        ("first_sequence", int),
        ("last_sequence", int),
        ("prefix", dict),
    ):
        if not isinstance(item.get(name), kind):
            raise ExportError(msg("line 1: {name} is missing or of the wrong type", name=name))
    try:
        for key in item["witnesses"].values():
            VerifyKey(bytes.fromhex(key))
    except (ValueError, TypeError, KeyFormatError):
        raise ExportError(msg("line 1: witnesses must map codes to 32-byte hex keys")) from None
    prefix = item["prefix"]
    if not isinstance(prefix.get("size"), int):
        raise ExportError(msg("line 1: prefix.size is missing"))
    try:
        CompactRange(prefix["size"], _hexes(prefix.get("hashes"), "line 1: prefix.hashes"))
    except ProofError as exc:
        raise ExportError(msg("line 1: prefix: {exc}", exc=exc)) from None


def _entry(raw: Any, number: int) -> SimpleNamespace:
    if not isinstance(raw, dict):
        raise ExportError(msg("line {number}: entry must be an object", number=number))
    missing = [k for k in (*ENTRY_FIELDS, "previous_hash", "entry_hash") if k not in raw]
    if missing:
        raise ExportError(
            msg("line {number}: entry lacks {v1}", number=number, v1=", ".join(missing))
        )
    if not isinstance(raw["sequence"], int):
        raise ExportError(msg("line {number}: sequence must be a number", number=number))
    for name in ENTRY_FIELDS[1:]:
        if not isinstance(raw[name], str):
            raise ExportError(msg("line {number}: {name} must be text", number=number, name=name))
    try:
        previous, digest = bytes.fromhex(raw["previous_hash"]), bytes.fromhex(raw["entry_hash"])
    except (ValueError, TypeError):
        raise ExportError(
            msg("line {number}: previous_hash and entry_hash must be hex", number=number)
        ) from None
    return SimpleNamespace(
        **{k: raw[k] for k in ENTRY_FIELDS}, previous_hash=previous, entry_hash=digest
    )


def audit_export(
    export: Export, broker_key: VerifyKey, witnesses: Mapping[str, VerifyKey] | None = None
) -> Audit:
    """Audit an export with the broker's public key (and, if given, pinned witness keys)."""
    h = export.header
    prefix = h["prefix"]
    return audit(
        export.entries,  # type: ignore[arg-type]
        checkpoints=export.checkpoints,
        log_key=broker_key,
        log_name=h["log_key_name"],
        origin=h["origin"],
        witnesses=witnesses if witnesses is not None else export.witnesses,
        witnesses_required=h["witnesses_required"],
        prefix=CompactRange(prefix["size"], [bytes.fromhex(x) for x in prefix["hashes"]]),
        proofs=export.proofs,
    )


def archive(
    session: Session,
    out: IO[str],
    *,
    up_to: int,
    now: dt.datetime,
    retention_years: int,
    origin: str,
    witnesses: Mapping[str, VerifyKey],
    witnesses_required: int,
    broker_key: VerifyKey,
) -> int:
    """Write the export of entries up to ``up_to`` to ``out``, then remove them from the store.

    Returns:
        How many entries were archived.

    Raises:
        ProofError: an entry is younger than the retention, or no checkpoint covers ``up_to``
            (the archive would not be verifiable); nothing is removed.
    """
    first = ledger_mod.archived_up_to(session) + 1
    if up_to < first:
        return 0
    last_entry = session.get(LedgerEntry, up_to)
    if last_entry is None:
        raise ProofError(msg("the ledger has no entry {up_to}", up_to=up_to))
    recorded = dt.datetime.fromisoformat(last_entry.recorded_at)
    keep_until = recorded.replace(year=recorded.year + retention_years)
    if keep_until > now:
        raise ProofError(
            msg(
                "entry {up_to} was recorded {v1}; entries are kept in the store at least "
                "{retention_years} years (until {v2})",
                up_to=up_to,
                v1=last_entry.recorded_at[:10],
                retention_years=retention_years,
                v2=keep_until.date(),
            )
        )
    latest = ledger_mod.latest_checkpoint(session)
    if latest is None or latest.size < up_to:
        raise ProofError(
            msg("no signed checkpoint covers entry {up_to}; publish one first", up_to=up_to)
        )
    digest = hashlib.sha256()
    for line in export_lines(
        session,
        origin=origin,
        witnesses=witnesses,
        witnesses_required=witnesses_required,
        broker_key=broker_key,
        last=up_to,
    ):
        out.write(line + "\n")
        digest.update(line.encode() + b"\n")
    out.flush()
    last_hash = session.get(LedgerEntry, up_to)
    assert last_hash is not None
    session.add(
        LedgerArchive(
            last_sequence=up_to,
            last_entry_hash=last_hash.entry_hash,
            archive_sha256=digest.hexdigest(),
            archived_at=now.astimezone(dt.UTC).isoformat(timespec="seconds"),
        )
    )
    session.execute(delete(LedgerEntry).where(LedgerEntry.sequence <= up_to))
    return up_to - first + 1
