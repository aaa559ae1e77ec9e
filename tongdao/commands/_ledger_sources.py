"""Where ``tongdao ledger`` reads a ledger from: an export file (fully offline, with the broker's
public key), or the broker's store (read-only; nothing is created when it is missing)."""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import inspect, select

from tongdao.broker.directory.models import Department
from tongdao.broker.kernel.db import (
    DEFAULT_SQLITE_FILE,
    ENV_DATABASE_URL,
    make_engine,
    session_factory,
)
from tongdao.broker.ledger import chain as ledger_mod
from tongdao.broker.ledger.audit import Audit, body_of
from tongdao.broker.ledger.export import Export, ExportError, audit_export, read_export
from tongdao.broker.ledger.models import LedgerEntry
from tongdao.cli import CommandError
from tongdao.commands._common import open_home
from tongdao.crypto.checkpoint import LOG_KEY_NAME, Checkpoint, NoteVerifier, open_checkpoint
from tongdao.crypto.errors import KeyFormatError, NoteError
from tongdao.crypto.merkle import (
    CompactRange,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    subtree_hash,
)
from tongdao.crypto.signing import VerifyKey
from tongdao.home import HomeError
from tongdao.i18n import explained
from tongdao.policies.i18n import msg, os_reason
from tongdao.policies.loader import load_policy
from tongdao.policies.model import PolicyError


def parse_key(value: str, what: str) -> VerifyKey:
    try:
        return VerifyKey(bytes.fromhex(value))
    except (ValueError, KeyFormatError):
        raise CommandError(msg("{what} must be 64 hex characters (32 bytes)", what=what)) from None


def pinned_witnesses(values: list[str] | None) -> dict[str, VerifyKey] | None:
    """``--witness-key CODE=HEX`` options."""
    if not values:
        return None
    out = {}
    for value in values:
        code, sep, key = value.partition("=")
        if not sep or not code:
            raise CommandError(msg("--witness-key must be CODE=HEX"))
        out[code] = parse_key(key, f"--witness-key {code}")
    return out


class ExportSource:
    """A ledger export read into memory (its tree rebuilt from the entries)."""

    def __init__(
        self,
        path: str,
        broker_key: VerifyKey,
        witnesses: dict[str, VerifyKey] | None,
        lines: Iterable[str] | None = None,
    ):
        try:
            if lines is not None:
                self.export: Export = read_export(lines)
            else:
                with open(path, encoding="utf-8") as fh:
                    self.export = read_export(fh)
        except OSError as exc:
            raise CommandError(
                msg("{path}: cannot read ({strerror})", path=path, strerror=os_reason(exc))
            ) from None
        except UnicodeDecodeError:
            raise CommandError(
                msg("{path}: not a ledger export (not UTF-8 text)", path=path)
            ) from None
        except ExportError as exc:
            raise CommandError(
                msg("{path}: not a ledger export: {exc}", path=path, exc=exc)
            ) from None
        self.label = msg("export {path}", path=path) if lines is None else path
        self.broker_key = broker_key
        self.pinned = witnesses
        h = self.export.header
        self.origin = h["origin"]
        prefix = h["prefix"]
        edge = CompactRange(prefix["size"], [bytes.fromhex(x) for x in prefix["hashes"]])
        self.first = edge.size + 1
        self.nodes: dict[tuple[int, int], bytes] = {}
        start = 0
        for bit in range(edge.size.bit_length() - 1, -1, -1):
            if edge.size >> bit & 1:
                self.nodes[(bit, start >> bit)] = edge.hashes[len(self.nodes)]
                start += 1 << bit
        self.entries = {e.sequence: e for e in self.export.entries}
        for e in self.export.entries:
            for level, idx, value in edge.append(leaf_hash(body_of(e))):
                self.nodes[(level, idx)] = value
        self.size = edge.size

    def read(self, level: int, idx: int) -> bytes:
        found = self.nodes.get((level, idx))
        if found is not None:
            return found
        if level == 0:
            raise CommandError(
                msg("entry {v1} is archived; use the archive that holds it", v1=idx + 1)
            )
        return node_hash(self.read(level - 1, 2 * idx), self.read(level - 1, 2 * idx + 1))

    def audit(self) -> Audit:
        return audit_export(self.export, self.broker_key, self.pinned)

    def checkpoints(self) -> list[str]:
        return self.export.checkpoints

    def entry(self, sequence: int) -> Any:
        return self.entries.get(sequence)

    def inclusion(self, sequence: int, size: int) -> list[bytes]:
        return inclusion_proof(self.read, sequence - 1, size)

    def consistency(self, old: int, new: int) -> list[bytes]:
        return consistency_proof(self.read, old, new)

    def root(self, size: int) -> bytes:
        return subtree_hash(self.read, 0, size)

    def close(self) -> None:
        pass


class StoreSource:
    """The broker's store, read only: a missing store is an error, never created."""

    def __init__(self, args: argparse.Namespace, url: str | None) -> None:
        import os

        home = open_home(args.home)
        try:
            self.broker_key = home.broker_verify_key()
        except HomeError as exc:
            raise CommandError(
                msg("{exc} (is {home} the broker's home?)", exc=exc, home=args.home)
            ) from None
        url = url or os.environ.get(ENV_DATABASE_URL)
        if not url:
            path = Path.cwd() / DEFAULT_SQLITE_FILE
            if not path.exists():
                raise CommandError(
                    msg(
                        "no broker store here: {path} does not exist; run this where "
                        "the broker runs, or pass --database-url (or "
                        "{ENV_DATABASE_URL}), or verify an export with --export FILE "
                        "--broker-key HEX",
                        path=path,
                        ENV_DATABASE_URL=ENV_DATABASE_URL,
                    )
                )
            url = f"sqlite:///{path}"
        elif url.startswith("sqlite:///") and not Path(url[len("sqlite:///") :]).exists():
            raise CommandError(
                msg("no broker store: {v1} does not exist", v1=url[len("sqlite:///") :])
            )
        self.engine = make_engine(url)
        tables = set(inspect(self.engine).get_table_names())
        if not {"ledger_entries", "ledger_head", "ledger_tree"} <= tables:
            self.engine.dispose()
            raise CommandError(
                msg(
                    "the database holds no ledger of this version (start the "
                    "broker once to migrate it)"
                )
            )
        try:
            rules = load_policy(getattr(args, "policy", None) or "heilongjiang-2025").ledger
        except PolicyError as exc:
            raise CommandError(explained(exc, "cannot load the rule file: {reason}")) from None
        assert rules is not None
        self.origin = rules.origin
        self.required = rules.witness_cosignatures
        self.label = msg("the broker's store")
        self.sessions = session_factory(self.engine)
        self.pinned: dict[str, VerifyKey] | None = None

    @contextmanager
    def session(self) -> Iterator[Any]:
        with self.sessions() as session:
            yield session
            session.rollback()  # read-only: never commit anything

    def witnesses(self, session: Any) -> dict[str, VerifyKey]:
        if self.pinned is not None:
            return self.pinned
        rows = session.execute(select(Department).where(Department.node_endpoint != "")).scalars()
        return {d.code: VerifyKey(d.signing_public_key) for d in rows}

    def audit(self) -> Audit:
        with self.session() as s:
            v = ledger_mod.verify_ledger(
                s,
                self.broker_key,
                origin=self.origin,
                witnesses=self.witnesses(s),
                witnesses_required=self.required,
            )
        if v.audit is None:
            raise CommandError(msg("ledger BROKEN: {problem}", problem=v.problem))
        if v.ok or v.audit.problems:
            return v.audit
        return Audit(
            False, v.audit.entries, v.audit.first, 0, v.audit.entries, v.audit.checkpoint_size,
            v.audit.cosigned_by, v.audit.witnesses_required, (v.problem,), v.audit.last_hash,
        )  # fmt: skip

    def checkpoints(self) -> list[str]:
        with self.session() as s:
            return ledger_mod.checkpoint_notes(s)

    @property
    def size(self) -> int:
        with self.session() as s:
            return ledger_mod.tree_size(s)

    def entry(self, sequence: int) -> Any:
        with self.session() as s:
            e = s.get(LedgerEntry, sequence)
            if e is None:
                return None
            return SimpleNamespace(
                **{k: getattr(e, k) for k in ("sequence", "recorded_at", "kind", "actor")},
                subject=e.subject,
                payload_json=e.payload_json,
                previous_hash=e.previous_hash,
                entry_hash=e.entry_hash,
            )

    def inclusion(self, sequence: int, size: int) -> list[bytes]:
        with self.session() as s:
            return ledger_mod.prove_inclusion(s, sequence, size)

    def consistency(self, old: int, new: int) -> list[bytes]:
        with self.session() as s:
            return ledger_mod.prove_consistency(s, old, new)

    def root(self, size: int) -> bytes:
        with self.session() as s:
            return ledger_mod.root_at(s, size)

    def close(self) -> None:
        self.engine.dispose()


def signed_checkpoints(
    source: ExportSource | StoreSource,
) -> dict[int, tuple[Checkpoint, str]]:
    """Checkpoints that verify under the broker's key, by size (with their notes)."""
    log = NoteVerifier(LOG_KEY_NAME, source.broker_key)
    out = {}
    for text in source.checkpoints():
        try:
            cp, _ = open_checkpoint(text, log, source.origin)
        except NoteError:
            continue
        out[cp.size] = (cp, text)
    return out
