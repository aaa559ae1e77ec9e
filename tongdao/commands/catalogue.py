"""``tongdao catalogue``: draft, submit, read and list catalogue entries (CAT-1, CAT-5)."""

from __future__ import annotations

import argparse
import json
import tomllib
from pathlib import Path
from typing import Any

from tongdao.broker.catalogue.file_formats import FORMATS
from tongdao.cli import CommandError
from tongdao.commands._common import add_broker_arguments, broker_stub, cell, print_message
from tongdao.commands._grammar import add_list_option
from tongdao.commands._summaries import (
    in_words,
    print_catalogue_entry,
    print_catalogue_entry_detail,
    share_type_label,
)
from tongdao.i18n import current, say, tr
from tongdao.policies.i18n import msg, os_reason, syntax_error
from tongdao.proto.methods import OPEN_TYPE_VALUES, SHARE_TYPE_VALUES
from tongdao.proto.pages import every_page
from tongdao.proto.transport import with_locale
from tongdao.v1 import catalogue_pb2, catalogue_pb2_grpc

ENTRY_KEYS = {
    "code", "name", "description", "provider", "data_items", "key_field", "data_format",
    "update_frequency", "share_type", "share_scope_departments", "share_scope_levels",
    "share_scope_regions", "permitted_purposes", "legal_basis", "open_type", "open_conditions",
    "classification", "grade", "aggregation_mode", "tags", "subject_consent",
    "contains_trade_secret",
}  # fmt: skip
ITEM_KEYS = {"name", "type", "description", "sensitivity", "classification"}


def entry_from_dict(data: dict[str, Any], *, source: str = "entry") -> catalogue_pb2.CatalogueEntry:
    """Build a CatalogueEntry message from a plain dict (as read from TOML or JSON).

    Raises:
        CommandError: unknown keys or values, naming the file and key.
    """
    unknown = set(data) - ENTRY_KEYS
    if unknown:
        raise CommandError(
            msg("{source}: unknown key(s) {v2}", source=source, v2=", ".join(sorted(unknown)))
        )
    fields = dict(data)
    try:
        fields["share_type"] = SHARE_TYPE_VALUES[data.get("share_type", "")]
    except KeyError:
        raise CommandError(
            msg(
                "{source}: share_type must be one of {v2}",
                source=source,
                v2=", ".join(SHARE_TYPE_VALUES),
            )
        ) from None
    try:
        fields["open_type"] = OPEN_TYPE_VALUES[data.get("open_type", "not_open")]
    except KeyError:
        raise CommandError(
            msg(
                "{source}: open_type must be one of {v2}",
                source=source,
                v2=", ".join(OPEN_TYPE_VALUES),
            )
        ) from None
    items = []
    for n, item in enumerate(data.get("data_items", []), start=1):
        if not isinstance(item, dict) or set(item) - ITEM_KEYS:
            raise CommandError(
                msg(
                    "{source}: data_items[{n}] must have only {v4}",
                    source=source,
                    n=n,
                    v4=", ".join(sorted(ITEM_KEYS)),
                )
            )
        items.append(catalogue_pb2.DataItem(**item))
    fields["data_items"] = items
    try:
        return catalogue_pb2.CatalogueEntry(**fields)
    except (TypeError, ValueError) as exc:
        raise CommandError(msg("{source}: {exc}", source=source, exc=exc)) from None


def load_entry_file(path: str) -> catalogue_pb2.CatalogueEntry:
    """Read an entry from a .toml or .json file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
        data = tomllib.loads(text) if p.suffix == ".toml" else json.loads(text)
    except FileNotFoundError:
        raise CommandError(msg("{path}: no such file", path=path)) from None
    except OSError as exc:  # a directory, no permission …
        raise CommandError(msg("{path}: {reason}", path=path, reason=os_reason(exc))) from None
    except UnicodeDecodeError:
        raise CommandError(msg("{path}: not UTF-8 text", path=path)) from None
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise CommandError(syntax_error(exc, path)) from None
    if not isinstance(data, dict):
        raise CommandError(msg("{path}: must hold one entry (a table / object)", path=path))
    return entry_from_dict(data, source=path)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("catalogue", help="draft, submit, read and list catalogue entries")
    csub = parser.add_subparsers(dest="catalogue_command", metavar="COMMAND")
    csub.required = True

    create = csub.add_parser("create", help="draft an entry from a TOML or JSON file")
    add_broker_arguments(create, as_help="provider department code")
    create.add_argument(
        "file",
        help="entry file (.toml or .json); every key is explained in examples/catalogue-entry.toml",
    )
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

    get = csub.add_parser("get", help="show one entry in full (--json: every field)")
    add_broker_arguments(get, as_help="your department code")
    get.add_argument("code")
    get.add_argument(
        "--version", type=int, default=0, help="a published version (default: current)"
    )
    get.set_defaults(handler=get_command)

    ls = csub.add_parser("list", help="list entries")
    add_broker_arguments(ls, as_help="your department code")
    ls.add_argument("--provider", default="")
    ls.add_argument(
        "--status",
        default="",
        choices=(
            "",
            "draft",
            "submitted",
            "returned",
            "published",
            "revoking",
            "sunset",
            "withdrawn",
        ),
    )
    ls.set_defaults(handler=list_command)

    search = csub.add_parser("search", help="full-text search of the catalogue in force (CAT-8)")
    add_broker_arguments(search, as_help="your department code")
    search.add_argument(
        "query", nargs="?", default="", help="terms, all must occur (e.g. 婚姻 登记)"
    )
    _add_filters(search)
    search.add_argument("--limit", type=int, default=20)
    search.add_argument("--offset", type=int, default=0)
    search.set_defaults(handler=search_command)

    match = csub.add_parser("match", help="the entries that best answer a need (CAT-8)")
    add_broker_arguments(match, as_help="your department code")
    match.add_argument("need", help="the need in your own words")
    add_list_option(match, "--item", help="a data item wanted")
    _add_filters(match)
    match.add_argument("--limit", type=int, default=10)
    match.set_defaults(handler=match_command)

    opened = csub.add_parser("open-catalogue", help="the public open catalogue (OPN-1)")
    add_broker_arguments(opened, as_help="your department code")
    opened.add_argument("--provider", default="")
    opened.add_argument("--limit", type=int, default=100)
    opened.add_argument("--offset", type=int, default=0)
    opened.add_argument(
        "--public",
        metavar="HOST:PORT",
        default="",
        help="read it as the public does: from the broker's public listener, without a "
        "certificate (trusting --ca, default the home's authority CA)",
    )
    opened.add_argument("--ca", default="", help="the authority CA certificate (PEM) to trust")
    opened.set_defaults(handler=open_catalogue_command)

    imp = csub.add_parser(
        "import", help="import a catalogue file (CSV, JSON, XLSX): all entries or none"
    )
    add_broker_arguments(imp, as_help="provider department code (authority with --publish)")
    imp.add_argument("file", help="catalogue file; see docs/catalogue.md for the columns")
    imp.add_argument("--format", choices=FORMATS, help="default: from the file's suffix")
    imp.add_argument(
        "--publish", action="store_true", help="authority: load an approved catalogue as published"
    )
    imp.set_defaults(handler=import_command)

    exp = csub.add_parser("export", help="export entries as CSV, JSON or XLSX")
    add_broker_arguments(exp, as_help="your department code")
    exp.add_argument("file", help="output file")
    exp.add_argument("--format", choices=FORMATS, help="default: from the file's suffix")
    exp.add_argument("--provider", default="")
    exp.add_argument("--status", default="")
    exp.set_defaults(handler=export_command)

    rev = csub.add_parser("revoke", help="ask the authority to revoke a published entry (Art.16)")
    add_broker_arguments(rev, as_help="provider department code")
    rev.add_argument("code")
    rev.add_argument("--reason", required=True)
    rev.set_defaults(handler=revoke_command)


def _add_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--provider", default="", help="provider department code")
    parser.add_argument("--region", default="", help="region code (covers its sub-regions)")
    parser.add_argument("--share-type", default="", choices=("", *SHARE_TYPE_VALUES))
    parser.add_argument("--open-type", default="", choices=("", *OPEN_TYPE_VALUES))
    parser.add_argument("--tag", default="", help="population, legal_entity, thematic, …")
    parser.add_argument("--grade", default="", help="entries with an item of this grade")


def _filters(args: argparse.Namespace) -> catalogue_pb2.SearchFilters:
    return catalogue_pb2.SearchFilters(
        provider=args.provider,
        region=args.region,
        share_type=SHARE_TYPE_VALUES.get(args.share_type, 0),
        open_type=OPEN_TYPE_VALUES.get(args.open_type, 0),
        tag=args.tag,
        grade=args.grade,
    )


def _print_hits(reply: catalogue_pb2.SearchCatalogueResponse, as_json: bool) -> None:
    if as_json:
        print_message(reply, as_json=True)
        return
    if not reply.hits:
        print(tr("no entries match"))
        return
    print(
        f"{cell(tr('score'), 5, right=True)}  {cell(tr('entry'), 28)} {cell(tr('version'), 7)} "
        f"{cell(tr('provider'), 14)} {cell(tr('share type'), 19)} {tr('name')}"
    )
    for h in reply.hits:
        extra = tr(" items: {items}", items="、".join(h.matched_items)) if h.matched_items else ""
        sunset = tr(" (served until {day})", day=h.sunset_on) if h.sunset_on else ""
        print(
            f"{h.score:>5}  {cell(h.code, 28)} {cell(f'v{h.version}', 7)} {cell(h.provider, 14)} "
            f"{cell(share_type_label(h.share_type), 19)} {h.name}{sunset}{extra}"
        )
    if reply.has_more:
        print(tr("… more: use --offset"))


def search_command(args: argparse.Namespace) -> int:
    with broker_stub(args) as stub:
        reply = stub.catalogue.SearchCatalogue(
            catalogue_pb2.SearchCatalogueRequest(
                query=args.query, filters=_filters(args), limit=args.limit, offset=args.offset
            ),
            timeout=30,
        )
    _print_hits(reply, args.json)
    return 0


def match_command(args: argparse.Namespace) -> int:
    with broker_stub(args) as stub:
        reply = stub.catalogue.MatchCatalogue(
            catalogue_pb2.MatchCatalogueRequest(
                need=args.need, items=args.item, filters=_filters(args), limit=args.limit
            ),
            timeout=30,
        )
    _print_hits(reply, args.json)
    return 0


def open_catalogue_command(args: argparse.Namespace) -> int:
    request = catalogue_pb2.GetOpenCatalogueRequest(
        provider=args.provider, limit=args.limit, offset=args.offset
    )
    if args.public:
        reply = _public_open_catalogue(args, request)
    else:
        with broker_stub(args) as stub:
            reply = stub.catalogue.GetOpenCatalogue(request, timeout=30)
    if args.json:
        print_message(reply, as_json=True)
        return 0
    if not reply.entries:
        print(_nothing(tr("no entries in the open catalogue"), args.provider, args.offset))
    for e in reply.entries:
        print(f"{e.code:<28} v{e.version:<3} {e.provider:<14} {e.name}  [{e.open_conditions}]")
    return 0


def _nothing(what: str, provider: str = "", offset: int = 0) -> str:
    """The line an empty listing prints, saying which filter or page gave nothing."""
    if provider:
        what += tr(" from {provider}", provider=provider)
    return what + (tr(" after the first {offset}", offset=offset) if offset else "")


def _format(path: str, fmt: str | None) -> str:
    fmt = fmt or Path(path).suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise CommandError(msg("{path}: say --format ({v2})", path=path, v2=", ".join(FORMATS)))
    return fmt


def import_command(args: argparse.Namespace) -> int:
    from tongdao.progress import Progress

    fmt = _format(args.file, args.format)
    try:
        content = Path(args.file).read_bytes()
    except OSError as exc:
        raise CommandError(
            msg("{file}: {strerror}", file=args.file, strerror=os_reason(exc))
        ) from None
    bar = Progress(f"checking {Path(args.file).name}")
    final = None
    with broker_stub(args) as stub:
        request = catalogue_pb2.ImportCatalogueRequest(
            format=fmt, content=content, publish=args.publish
        )
        for update in stub.catalogue.ImportCatalogue(request, timeout=600):
            if update.done:
                final = update
            else:
                bar.update(update.checked, update.total)
    bar.close()
    if final is None:
        raise CommandError(msg("the broker ended the import without a report"))
    if args.json:
        print_message(final, as_json=True)
    elif final.problems:
        count = len(final.problems)
        print(tr("{file}: nothing imported; {count} problem(s):", file=args.file, count=count))
        for p in final.problems:
            where = tr("line {line}, column {column}", line=p.line, column=p.column or "-")
            print(f"  {where}: {say(p.problem)}")
    else:
        print(tr("{file}: imported {count} entries", file=args.file, count=final.imported))
    return 1 if final.problems else 0


def export_command(args: argparse.Namespace) -> int:
    fmt = _format(args.file, args.format)
    target = Path(args.file)
    token, number = "", 1
    with broker_stub(args) as stub:
        while True:
            reply = stub.catalogue.ExportCatalogue(
                catalogue_pb2.ExportCatalogueRequest(
                    format=fmt, provider=args.provider, status=args.status, page_token=token
                ),
                timeout=120,
            )
            # the broker sends at most a page of entries per file: the next ones go to
            # NAME-2.EXT, NAME-3.EXT, … (each readable by catalogue import)
            path = target if number == 1 else target.with_stem(f"{target.stem}-{number}")
            path.write_bytes(reply.content)
            print(tr("wrote {path}", path=path))
            token, number = reply.next_page_token, number + 1
            if not token:
                return 0


def _print_entry(entry: catalogue_pb2.CatalogueEntry, as_json: bool) -> None:
    if as_json:
        print_message(entry, as_json=True)
    else:
        print_catalogue_entry(entry)


def revoke_command(args: argparse.Namespace) -> int:
    with broker_stub(args) as stub:
        reply = stub.catalogue.RequestCatalogueRevocation(
            catalogue_pb2.RequestCatalogueRevocationRequest(code=args.code, reason=args.reason),
            timeout=30,
        )
    _print_entry(reply, args.json)
    return 0


def create_command(args: argparse.Namespace) -> int:
    entry = load_entry_file(args.file)
    with broker_stub(args) as stub:
        reply = stub.catalogue.CreateCatalogueEntry(
            catalogue_pb2.CreateCatalogueEntryRequest(entry=entry), timeout=30
        )
    _print_entry(reply, args.json)
    return 0


def revise_command(args: argparse.Namespace) -> int:
    entry = load_entry_file(args.file)
    with broker_stub(args) as stub:
        reply = stub.catalogue.ReviseCatalogueEntry(
            catalogue_pb2.ReviseCatalogueEntryRequest(entry=entry), timeout=30
        )
    _print_entry(reply, args.json)
    return 0


def submit_command(args: argparse.Namespace) -> int:
    with broker_stub(args) as stub:
        reply = stub.catalogue.SubmitCatalogueEntry(
            catalogue_pb2.SubmitCatalogueEntryRequest(code=args.code), timeout=30
        )
    _print_entry(reply, args.json)
    return 0


def get_command(args: argparse.Namespace) -> int:
    with broker_stub(args) as stub:
        reply = stub.catalogue.GetCatalogueEntry(
            catalogue_pb2.GetCatalogueEntryRequest(code=args.code, version=args.version), timeout=30
        )
    if args.json:
        print_message(reply, as_json=True)
    else:
        print_catalogue_entry_detail(reply)
    return 0


def list_command(args: argparse.Namespace) -> int:
    with broker_stub(args) as stub:
        reply = every_page(  # every page, in code order
            stub.catalogue.ListCatalogueEntries,
            catalogue_pb2.ListCatalogueEntriesRequest(provider=args.provider, status=args.status),
            "entries",
        )
    if args.json:
        print_message(reply, as_json=True)
        return 0
    if not reply.entries:
        what = tr("no catalogue entries {status}", status=args.status) if args.status else ""
        print(_nothing(what or tr("no catalogue entries"), args.provider))
    for e in reply.entries:
        state = cell(in_words(e.status), 10)
        print(f"{cell(e.code, 32)} v{e.version:<3} {state} {cell(e.provider, 12)} {e.name}")
    return 0


def _public_open_catalogue(args: argparse.Namespace, request: Any) -> Any:
    """GetOpenCatalogue on the public listener: TLS to the broker, no client certificate."""
    import grpc

    from tongdao.home import Home
    from tongdao.proto.transport import public_channel

    ca_path = Path(args.ca) if args.ca else Home(args.home).ca_dir / "ca.crt"
    try:
        ca_pem = ca_path.read_bytes()
    except OSError as exc:
        raise CommandError(
            msg(
                "{ca_path}: {strerror} (give the authority CA with --ca)",
                ca_path=ca_path,
                strerror=os_reason(exc),
            )
        ) from None
    channel = public_channel(args.public, ca_pem)
    try:
        stub = catalogue_pb2_grpc.PublicCatalogueStub(with_locale(channel, current()))
        return stub.GetOpenCatalogue(request, timeout=30)
    except grpc.RpcError as exc:
        raise CommandError(msg("{name}: {v2}", name=exc.code().name, v2=exc.details())) from None
    finally:
        channel.close()
