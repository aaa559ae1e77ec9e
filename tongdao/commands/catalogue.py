"""``tongdao catalogue``: draft, submit, read and list catalogue entries (CAT-1, CAT-5)."""

from __future__ import annotations

import argparse
import json
import tomllib
from pathlib import Path
from typing import Any

from proto.methods import OPEN_TYPE_VALUES, SHARE_TYPE_VALUES
from proto.tongdao.v1 import broker_pb2
from tongdao.cli import CommandError
from tongdao.commands._common import add_broker_arguments, broker_stub, print_message

ENTRY_KEYS = {
    "code", "name", "description", "provider", "data_items", "key_field", "data_format",
    "update_frequency", "share_type", "share_scope_departments", "share_scope_levels",
    "share_scope_regions", "permitted_purposes", "legal_basis", "open_type", "open_conditions",
    "classification", "grade",
}  # fmt: skip
ITEM_KEYS = {"name", "type", "description", "sensitivity"}


def entry_from_dict(data: dict[str, Any], *, source: str = "entry") -> broker_pb2.CatalogueEntry:
    """Build a CatalogueEntry message from a plain dict (as read from TOML or JSON).

    Raises:
        CommandError: unknown keys or values, naming the file and key.
    """
    unknown = set(data) - ENTRY_KEYS
    if unknown:
        raise CommandError(f"{source}: unknown key(s) {', '.join(sorted(unknown))}")
    fields = dict(data)
    try:
        fields["share_type"] = SHARE_TYPE_VALUES[data.get("share_type", "")]
    except KeyError:
        raise CommandError(
            f"{source}: share_type must be one of {', '.join(SHARE_TYPE_VALUES)}"
        ) from None
    try:
        fields["open_type"] = OPEN_TYPE_VALUES[data.get("open_type", "not_open")]
    except KeyError:
        raise CommandError(
            f"{source}: open_type must be one of {', '.join(OPEN_TYPE_VALUES)}"
        ) from None
    items = []
    for n, item in enumerate(data.get("data_items", []), start=1):
        if not isinstance(item, dict) or set(item) - ITEM_KEYS:
            raise CommandError(
                f"{source}: data_items[{n}] must have only {', '.join(sorted(ITEM_KEYS))}"
            )
        items.append(broker_pb2.DataItem(**item))
    fields["data_items"] = items
    try:
        return broker_pb2.CatalogueEntry(**fields)
    except (TypeError, ValueError) as exc:
        raise CommandError(f"{source}: {exc}") from None


def load_entry_file(path: str) -> broker_pb2.CatalogueEntry:
    """Read an entry from a .toml or .json file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
        data = tomllib.loads(text) if p.suffix == ".toml" else json.loads(text)
    except FileNotFoundError:
        raise CommandError(f"{path}: no such file") from None
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise CommandError(f"{path}: {exc}") from None
    if not isinstance(data, dict):
        raise CommandError(f"{path}: must hold one entry (a table / object)")
    return entry_from_dict(data, source=path)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("catalogue", help="draft, submit, read and list catalogue entries")
    csub = parser.add_subparsers(dest="catalogue_command", metavar="COMMAND")
    csub.required = True

    create = csub.add_parser("create", help="draft an entry from a TOML or JSON file")
    add_broker_arguments(create, as_help="provider department code")
    create.add_argument("file", help="entry file (.toml or .json); see docs/architecture.md")
    create.set_defaults(handler=create_command)

    revise = csub.add_parser(
        "revise", help="replace your working copy (a draft, a returned entry, or the next version)"
    )
    add_broker_arguments(revise, as_help="provider department code")
    revise.add_argument("file", help="entry file (.toml or .json)")
    revise.set_defaults(handler=revise_command)

    submit = csub.add_parser("submit", help="submit a draft to the authority for review (Art.12)")
    add_broker_arguments(submit, as_help="provider department code")
    submit.add_argument("code")
    submit.set_defaults(handler=submit_command)

    get = csub.add_parser("get", help="show one entry")
    add_broker_arguments(get, as_help="your department code")
    get.add_argument("code")
    get.add_argument(
        "--version", type=int, default=0, help="a published version (default: current)"
    )
    get.set_defaults(handler=get_command)

    ls = csub.add_parser("list", help="list entries")
    add_broker_arguments(ls, as_help="your department code")
    ls.add_argument("--provider", default="")
    ls.add_argument("--status", default="", choices=("", "draft", "submitted", "published"))
    ls.set_defaults(handler=list_command)


def create_command(args: argparse.Namespace) -> int:
    entry = load_entry_file(args.file)
    with broker_stub(args) as stub:
        reply = stub.CreateCatalogueEntry(
            broker_pb2.CreateCatalogueEntryRequest(entry=entry), timeout=30
        )
    print_message(reply, as_json=args.json)
    return 0


def revise_command(args: argparse.Namespace) -> int:
    entry = load_entry_file(args.file)
    with broker_stub(args) as stub:
        reply = stub.ReviseCatalogueEntry(
            broker_pb2.ReviseCatalogueEntryRequest(entry=entry), timeout=30
        )
    print_message(reply, as_json=args.json)
    return 0


def submit_command(args: argparse.Namespace) -> int:
    with broker_stub(args) as stub:
        reply = stub.SubmitCatalogueEntry(
            broker_pb2.SubmitCatalogueEntryRequest(code=args.code), timeout=30
        )
    print_message(reply, as_json=args.json)
    return 0


def get_command(args: argparse.Namespace) -> int:
    with broker_stub(args) as stub:
        reply = stub.GetCatalogueEntry(
            broker_pb2.GetCatalogueEntryRequest(code=args.code, version=args.version), timeout=30
        )
    print_message(reply, as_json=args.json)
    return 0


def list_command(args: argparse.Namespace) -> int:
    with broker_stub(args) as stub:
        reply = stub.ListCatalogueEntries(
            broker_pb2.ListCatalogueEntriesRequest(provider=args.provider, status=args.status),
            timeout=30,
        )
    if args.json:
        print_message(reply, as_json=True)
        return 0
    for e in reply.entries:
        print(f"{e.code:<32} v{e.version:<3} {e.status:<10} {e.provider:<12} {e.name}")
    return 0
