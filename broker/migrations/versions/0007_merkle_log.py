"""ledger: a Merkle-tree log with signed, witnessed checkpoints

Entries keep their contents and hash chain; each entry's canonical bytes become a leaf of an
RFC 9162 tree. New tables: the tree's right edge (``ledger_tree``), its complete subtrees
(``ledger_tree_nodes``), signed checkpoints and witnesses' cosignatures, the request-id index
used to reconcile the nodes' receipt journals, archive marks, how far each node's journal is
reconciled, and the folds of repeated refusals. Existing entries are added to the tree (and indexed) in sequence order.

Revision ID: 0007
Revises: 0006
"""

import json

import sqlalchemy as sa
from alembic import op

from tongdao.broker.ledger.audit import entry_body
from tongdao.crypto.merkle import CompactRange, leaf_hash

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ANSWERED_KINDS = ("query.relayed", "query.bad_receipt", "query.relayed_late")


def upgrade() -> None:
    op.create_table(
        "ledger_tree",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("compact_range", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    nodes = op.create_table(
        "ledger_tree_nodes",
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx"),
    )
    op.create_table(
        "ledger_checkpoints",
        sa.Column("size", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("size"),
    )
    op.create_table(
        "ledger_cosignatures",
        sa.Column("size", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("witness", sa.String(length=64), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("size", "witness"),
    )
    index = op.create_table(
        "ledger_request_index",
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("request_id"),
    )
    op.create_table(
        "ledger_archives",
        sa.Column("last_sequence", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_entry_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("archive_sha256", sa.String(length=64), nullable=False),
        sa.Column("archived_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("last_sequence"),
    )
    op.create_table(
        "ledger_journal_cursors",
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("node"),
    )
    op.create_table(
        "ledger_refusal_folds",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("payload_json", sa.Text(), nullable=False),
        sa.Column("first_sequence", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    conn = op.get_bind()
    edge = CompactRange()
    node_rows: list[dict[str, object]] = []
    index_rows: list[dict[str, object]] = []
    result = conn.execute(
        sa.text(
            "SELECT sequence, recorded_at, kind, actor, subject, payload_json"
            " FROM ledger_entries ORDER BY sequence"
        )
    )
    for sequence, recorded_at, kind, actor, subject, payload_json in result:
        body = entry_body(
            sequence=sequence,
            recorded_at=recorded_at,
            kind=kind,
            actor=actor,
            subject=subject,
            payload_json=payload_json,
        )
        for level, idx, h in edge.append(leaf_hash(body)):
            node_rows.append({"level": level, "idx": idx, "hash": h})
        if kind in ANSWERED_KINDS:
            request_id = json.loads(payload_json).get("request_id")
            if isinstance(request_id, str):
                index_rows.append({"request_id": request_id, "sequence": sequence})
        if len(node_rows) >= 5000:
            op.bulk_insert(nodes, node_rows)
            node_rows = []
    if node_rows:
        op.bulk_insert(nodes, node_rows)
    seen: set[object] = set()
    unique = [r for r in index_rows if not (r["request_id"] in seen or seen.add(r["request_id"]))]
    if unique:
        op.bulk_insert(index, unique)
    conn.execute(
        sa.text("INSERT INTO ledger_tree (id, size, compact_range) VALUES (1, :size, :edge)"),
        {"size": edge.size, "edge": edge.to_bytes()},
    )


def downgrade() -> None:
    for table in (
        "ledger_refusal_folds",
        "ledger_journal_cursors",
        "ledger_archives",
        "ledger_request_index",
        "ledger_cosignatures",
        "ledger_checkpoints",
        "ledger_tree_nodes",
        "ledger_tree",
    ):
        op.drop_table(table)
