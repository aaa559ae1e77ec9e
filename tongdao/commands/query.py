"""``tongdao query``: privacy-computing queries — PSI, intersection-sum, multi-node aggregates."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import Any

from tongdao.cli import CommandError
from tongdao.commands._common import add_broker_arguments
from tongdao.commands._grammar import add_list_option
from tongdao.commands.consumer import _client
from tongdao.i18n import said
from tongdao.policies.i18n import msg, os_reason


def _read_keys(path: str, column: str | None) -> list[str]:
    try:
        with Path(path).open(newline="", encoding="utf-8-sig") as fh:
            if column:
                reader = csv.DictReader(fh)
                if column not in (reader.fieldnames or []):
                    raise CommandError(
                        msg("{path}: no column {column!r}", path=path, column=column)
                    )
                return [row[column] for row in reader if row[column].strip()]
            return [row[0] for row in csv.reader(fh) if row and row[0].strip()]
    except OSError as exc:
        raise CommandError(msg("{path}: {strerror}", path=path, strerror=os_reason(exc))) from None


def _grant_token(client: Any, grant_id: str) -> str:
    from tongdao.commands.consumer import grant_of
    from tongdao.node.client import ClientError

    try:
        return str(grant_of(client, grant_id, client.department).token)
    except ClientError as exc:
        raise CommandError(said(exc)) from None


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "query", help="privacy-computing queries (PSI, intersection-sum, aggregate)"
    )
    qsub = parser.add_subparsers(dest="query_command", metavar="COMMAND")
    qsub.required = True

    inter = qsub.add_parser(
        "intersect", help="private set intersection with a provider's key field"
    )
    add_broker_arguments(inter, as_help="your department code")
    inter.add_argument(
        "--grant", required=True, help="grant id (method intersection or intersection_size)"
    )
    inter.add_argument("--keys-file", required=True, help="CSV of your keys")
    inter.add_argument(
        "--column", default=None, help="CSV column (default: the first column, no header)"
    )
    inter.add_argument(
        "--key-field", required=True, help="the provider's key data item, e.g. id_number"
    )
    inter.add_argument("--purpose", required=True)
    inter.set_defaults(handler=intersect_command)

    isum = qsub.add_parser(
        "intersection-sum", help="size of the intersection and the sum of a field"
    )
    add_broker_arguments(isum, as_help="your department code")
    isum.add_argument("--grant", required=True, help="grant id (method intersection_sum)")
    isum.add_argument("--keys-file", required=True)
    isum.add_argument("--column", default=None)
    isum.add_argument("--field", required=True, help="the provider's numeric data item to sum")
    isum.add_argument("--purpose", required=True)
    isum.set_defaults(handler=intersection_sum_command)

    agg = qsub.add_parser(
        "aggregate", help="count / sum / mean / variance / histogram across nodes"
    )
    add_broker_arguments(agg, as_help="your department code")
    add_list_option(agg, "--grant", required=True, help="a grant id, one per node")
    agg.add_argument("--field", required=True, help="numeric data item")
    agg.add_argument("--bounds", required=True, help="LOW,HIGH of the values (clipped)")
    add_list_option(
        agg,
        "--bucket-edge",
        metavar="EDGE",
        help="a histogram edge within --bounds, e.g. 0,300,600; the bounds close the ends, so "
        "with --bounds 0,3000 the last bucket is [600, 3000] and no value is left out",
    )
    agg.add_argument(
        "--filter", default=None, metavar="FIELD=VALUE", help="only rows where FIELD=VALUE"
    )
    agg.add_argument("--purpose", required=True)
    agg.set_defaults(handler=aggregate_command)


def _emit(result: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, ensure_ascii=False, default=str, indent=2))
        return
    for key, value in result.items():
        print(f"{key}: {value}")


def intersect_command(args: argparse.Namespace) -> int:
    from tongdao.node.client import ClientError
    from tongdao.progress import Progress

    keys = _read_keys(args.keys_file, args.column)
    with _client(args) as client:
        token = _grant_token(client, args.grant)
        try:
            with Progress(f"PSI with {len(keys):,} keys") as progress:
                result = client.intersection(
                    token, keys, args.key_field, args.purpose, progress=progress
                )
        except ClientError as exc:
            raise CommandError(said(exc)) from None
    _emit(result, args.json)
    return 0


def intersection_sum_command(args: argparse.Namespace) -> int:
    from tongdao.node.client import ClientError
    from tongdao.progress import Progress

    keys = _read_keys(args.keys_file, args.column)
    with _client(args) as client:
        token = _grant_token(client, args.grant)
        try:
            with Progress(f"intersection-sum with {len(keys):,} keys") as progress:
                result = client.intersection_sum(
                    token, keys, args.field, args.purpose, progress=progress
                )
        except ClientError as exc:
            raise CommandError(said(exc)) from None
    _emit(result, args.json)
    return 0


def aggregate_command(args: argparse.Namespace) -> int:
    from tongdao.node.client import ClientError
    from tongdao.progress import Progress

    try:
        low, high = (float(x) for x in args.bounds.split(","))
        buckets = [float(x) for x in args.bucket_edge]
    except ValueError:
        raise CommandError(msg("--bounds must be LOW,HIGH and --bucket-edge numbers")) from None
    filter_field = filter_value = None
    if args.filter:
        filter_field, sep, filter_value = args.filter.partition("=")
        if not sep:
            raise CommandError(msg("--filter must be FIELD=VALUE"))
    with _client(args) as client:
        tokens = [_grant_token(client, g) for g in args.grant]
        try:
            with Progress(f"aggregate over {len(tokens)} nodes"):
                result = client.aggregate(
                    tokens,
                    args.field,
                    args.purpose,
                    bounds=(low, high),
                    buckets=buckets,
                    filter_field=filter_field,
                    filter_value=filter_value,
                )
        except ClientError as exc:
            raise CommandError(said(exc)) from None
    _emit(result, args.json)
    return 0
