"""``tongdao requests cross-check``: the data authority's cross-verification (交叉核验, Art.24).

The command picks a fresh check key, seals it with the record keys and the item to each
provider's node, and hands the broker only digests and sealed keys; it maps the mismatching
digests back to the record keys locally (the broker never sees them).
"""

from __future__ import annotations

import argparse
import json
import secrets
import uuid
from pathlib import Path

from tongdao.cli import CommandError
from tongdao.commands._common import broker_stub, open_home
from tongdao.crypto.cross_check import (
    CHECK_KEY_BYTES,
    key_digest,
    open_record_key,
    seal_check,
    seal_record_key,
)
from tongdao.crypto.errors import EnvelopeError
from tongdao.home import HomeError
from tongdao.i18n import tr
from tongdao.policies.i18n import msg, os_reason
from tongdao.v1 import catalogue_pb2, directory_pb2, sharing_pb2


def _keys(args: argparse.Namespace) -> list[str]:
    keys = list(args.key)
    if args.key_file:
        try:
            text = Path(args.key_file).read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise CommandError(
                msg("--key-file: {strerror}: {path}", strerror=os_reason(exc), path=args.key_file)
            ) from None
        keys += [line.strip() for line in text.splitlines() if line.strip()]
    unique = list(dict.fromkeys(keys))
    if not unique:
        raise CommandError(msg("name the record keys to check: --key KEY or --key-file FILE"))
    return unique


def cross_check_command(args: argparse.Namespace) -> int:
    if len(args.entry) != 2:
        raise CommandError(msg("name exactly two entries: --entry A --entry B"))
    items = args.item if len(args.item) == 2 else args.item * 2
    if len(items) != 2:
        raise CommandError(msg("name the data item once (same name in both) or once per entry"))
    keys = _keys(args)
    run_id = str(uuid.uuid4())
    check_key = secrets.token_bytes(CHECK_KEY_BYTES)
    with broker_stub(args, args.party or "authority") as stub:
        providers = []
        for code in args.entry:
            entry = stub.catalogue.GetCatalogueEntry(
                catalogue_pb2.GetCatalogueEntryRequest(code=code), timeout=30
            )
            dept = stub.directory.GetDepartment(
                directory_pb2.GetDepartmentRequest(code=entry.provider), timeout=30
            )
            providers.append((code, entry.provider, dept.encryption_public_key))
        sides = [
            sharing_pb2.CrossCheckSide(
                entry_code=code,
                item=item,
                sealed_check=seal_check(
                    pub,
                    run_id=run_id,
                    provider=provider,
                    entry_code=code,
                    item=item,
                    check_key=check_key,
                    record_keys=keys,
                ),
            )
            for (code, provider, pub), item in zip(providers, items, strict=True)
        ]
        by_digest = {key_digest(check_key, k): k for k in keys}
        notices = [
            sharing_pb2.CrossCheckNotice(
                key_digest=digest,
                sealed_record_keys=[
                    seal_record_key(
                        pub, run_id=run_id, provider=provider, entry_code=code, record_key=key
                    )
                    for code, provider, pub in providers
                ],
            )
            for digest, key in by_digest.items()
        ]
        reply = stub.sharing.RunCrossVerification(
            sharing_pb2.RunCrossVerificationRequest(
                run_id=run_id, sides=sides, notices=notices, description=args.description
            ),
            timeout=120,
        )
    differing = [by_digest[d] for d in reply.mismatched_key_digests if d in by_digest]
    if args.json:
        data = {
            "run_id": reply.run_id,
            "checked": reply.checked,
            "matched": reply.matched,
            "mismatched": reply.mismatched,
            "missing": reply.missing,
            "notice_ids": list(reply.notice_ids),
            "mismatched_keys": differing,
            "articles": list(reply.articles),
        }
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    print(
        tr(
            "cross-verification {run} [{articles}]: {checked} keys, {matched} match, "
            "{mismatched} differ, {missing} missing",
            run=reply.run_id,
            articles=", ".join(reply.articles),
            checked=reply.checked,
            matched=reply.matched,
            mismatched=reply.mismatched,
            missing=reply.missing,
        )
    )
    for key in differing:
        print("    " + tr("differs: {key}", key=key))
    if reply.notice_ids:
        print("    " + tr("correction notices opened: {ids}", ids=", ".join(reply.notice_ids)))
    return 0


def notice_key(args: argparse.Namespace, r: sharing_pb2.ServiceRequest) -> str:
    """The record key of a cross-verification notice, opened with the provider's own key."""
    try:
        keys = open_home(args.home).encryption_keys(args.party)
        return open_record_key(
            keys.private_key,
            r.sealed_record_key,
            run_id=r.cross_check_run,
            provider=r.provider,
            entry_code=r.subject,
        )
    except (EnvelopeError, HomeError, UnicodeDecodeError):  # not this party's, or no key here
        return tr("(sealed to the provider)")
