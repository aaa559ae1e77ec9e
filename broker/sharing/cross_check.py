"""Cross-verification (交叉核验, SHR-5, Art.24): the data authority compares one data item held
by two providers for the same record keys, on keyed digests only.

The authority's command seals to each provider's node a fresh check key, the item and the record
keys (:mod:`tongdao.crypto.cross_check`), and gives the broker, per key, that key's digest and
the key sealed to each provider. Each node answers (key digest, value digest) per key it holds;
the broker pairs them and compares. For every key whose values differ it opens a correction
notice (a ``correction`` request filed by the authority, on the rule file's notice clock) at
each provider, carrying the record key sealed to that provider. The broker sees counts and
digests; the run is one ledger entry (``cross_check.run``) and each notice a ``correction.filed``.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from tongdao.broker.kernel import validation as v
from tongdao.broker.sharing.corrections import CorrectionNodes, require_node
from tongdao.broker.sharing.models import ServiceRequest
from tongdao.broker.sharing.requests import ServiceRequests
from tongdao.policies.i18n import msg
from tongdao.proto.errors import FailedPrecondition, InvalidArgument, Unavailable

DIGEST_BYTES = 32


@dataclass(frozen=True)
class CheckSide:
    """One provider's entry and item, with the authority's envelope to its node."""

    entry_code: str
    item: str
    sealed_check: bytes


@dataclass(frozen=True)
class CheckNotice:
    """One record key: its digest, and the key sealed to each side's provider."""

    key_digest: bytes
    sealed_record_keys: tuple[bytes, ...]


@dataclass(frozen=True)
class CrossCheckData:
    run_id: str
    sides: tuple[CheckSide, ...]
    notices: tuple[CheckNotice, ...]
    description: str


@dataclass(frozen=True)
class CrossCheckResult:
    run_id: str
    checked: int
    matched: int
    mismatched: int
    missing: int
    notice_ids: tuple[str, ...]
    mismatched_key_digests: tuple[bytes, ...]
    articles: tuple[str, ...]


def _check_answer(
    pairs: list[tuple[bytes, bytes]], asked: set[bytes], provider: str
) -> dict[bytes, bytes]:
    out: dict[bytes, bytes] = {}
    for kd, vd in pairs:
        if len(kd) != DIGEST_BYTES or len(vd) != DIGEST_BYTES or kd not in asked or kd in out:
            raise Unavailable(
                msg(
                    "{provider}'s node answered the cross-verification malformed", provider=provider
                )
            )
        out[kd] = vd
    return out


class CrossVerifications:
    """Runs cross-verifications and opens their correction notices."""

    def __init__(self, requests: ServiceRequests, nodes: CorrectionNodes | None) -> None:
        self.requests = requests
        self.nodes = nodes

    def _validate(self, data: CrossCheckData) -> tuple[str, int, str]:
        s = self.requests.s
        rules = s.policy.cross_verification
        if rules is None:
            raise FailedPrecondition(msg("the rule file has no [cross_verification] section"))
        run_id = v.identifier(data.run_id, "run_id")
        if run_id != data.run_id:
            raise InvalidArgument(msg("must be a lower-case UUID with dashes"), field="run_id")
        if len(data.sides) != 2:
            raise InvalidArgument(msg("must name exactly two providers' entries"), field="sides")
        if not data.notices:
            raise InvalidArgument(msg("must name at least one record key"), field="notices")
        if len(data.notices) > rules.max_keys:
            raise InvalidArgument(
                msg(
                    "at most {max_keys} record keys per run ([cross_verification] max_keys)",
                    max_keys=rules.max_keys,
                ),
                field="notices",
                articles=(rules.article,),
            )
        digests = {n.key_digest for n in data.notices}
        if len(digests) != len(data.notices) or any(len(d) != DIGEST_BYTES for d in digests):
            raise InvalidArgument(msg("key digests must be 32 bytes and unique"), field="notices")
        if any(
            len(n.sealed_record_keys) != 2 or not all(n.sealed_record_keys) for n in data.notices
        ):
            raise InvalidArgument(
                msg("each needs the key sealed to both providers"), field="notices"
            )
        description = v.text(data.description, "description")
        return run_id, rules.max_keys, description

    def run(self, session: Session, caller: str, data: CrossCheckData) -> CrossCheckResult:
        """Compare, open the notices, record the run.

        Raises:
            PermissionDenied: not a data authority.
            InvalidArgument / NotFound / FailedPrecondition: a malformed run, an entry that is
                not published, two entries of the same provider, a provider without a node.
            Unavailable: a node cannot be reached or answers malformed (nothing is recorded).
        """
        s = self.requests.s
        s.directory.require_authority(session, caller)
        run_id, _, description = self._validate(data)
        rules = s.policy.cross_verification
        assert rules is not None
        if self.nodes is None:
            raise FailedPrecondition(msg("this broker cannot reach providers' nodes"))
        sides = []
        for i, side in enumerate(data.sides):
            entry = s.catalogue.find(session, v.entry_code(side.entry_code, "entry_code"))
            if entry is None or entry.current_version < 1:
                raise InvalidArgument(
                    msg("no published entry {entry_code!r}", entry_code=side.entry_code),
                    field="sides",
                )
            dept = s.directory.department(session, entry.provider)
            item = v.field_names([side.item], "item")[0]
            sides.append((entry.code, entry.provider, dept, item, i))
        if sides[0][1] == sides[1][1]:
            raise InvalidArgument(msg("the two entries must be two providers'"), field="sides")
        asked = {n.key_digest for n in data.notices}
        answers = []
        for code, provider, dept, _, i in sides:
            pairs = self.nodes.cross_check_digests(
                require_node(dept.node_endpoint, provider),
                provider,
                run_id,
                code,
                data.sides[i].sealed_check,
            )
            answers.append(_check_answer(pairs, asked, provider))
        a, b = answers
        matched = sum(1 for kd in asked if kd in a and kd in b and a[kd] == b[kd])
        differing = [
            n
            for n in data.notices
            if n.key_digest in a and n.key_digest in b and a[n.key_digest] != b[n.key_digest]
        ]
        missing = len(asked) - matched - len(differing)
        notice_ids: list[str] = []
        for notice in differing:
            for code, provider, _, item, i in sides:
                other = sides[1 - i]
                notice_ids.append(
                    self._open_notice(
                        session,
                        caller,
                        run_id,
                        code,
                        provider,
                        item,
                        description,
                        f"{other[1]} ({other[0]})",
                        notice.sealed_record_keys[i],
                        notice.key_digest,
                        rules.notice_clock,
                        rules.article,
                    )
                )
        mismatched = tuple(n.key_digest for n in differing)
        s.ledger.append(
            session,
            kind="cross_check.run",
            actor=caller,
            subject=run_id,
            payload={
                "entries": [code for code, *_ in sides],
                "providers": [p for _, p, *_ in sides],
                "items": [item for *_, item, _ in sides],
                "checked": len(asked),
                "matched": matched,
                "mismatched": len(differing),
                "missing": missing,
                "mismatched_key_digests": [d.hex() for d in mismatched],
                "notices": notice_ids,
                "articles": [rules.article],
            },
        )
        return CrossCheckResult(
            run_id,
            len(asked),
            matched,
            len(differing),
            missing,
            tuple(notice_ids),
            mismatched,
            (rules.article,),
        )

    def _open_notice(
        self,
        session: Session,
        caller: str,
        run_id: str,
        entry_code: str,
        provider: str,
        item: str,
        description: str,
        other: str,
        sealed_key: bytes,
        key_digest: bytes,
        clock: str,
        article: str,
    ) -> str:
        s = self.requests.s
        request = ServiceRequest(
            id=str(uuid.uuid4()),
            kind="correction",
            requester=caller,
            filed_by=caller,
            provider=provider,
            subject=entry_code,
            details={
                "description": f"{description} — {item} differs from {other}",
                "data_items": [item],
                "cross_check_run": run_id,
                "key_digest": key_digest.hex(),
                "sealed_record_key": base64.b64encode(sealed_key).decode(),
            },
            status="pending",
            decision={},
            created_at=s.now(),
        )
        session.add(request)
        due = self.requests._start(session, request, clock)
        session.flush()
        s.ledger.append(
            session,
            kind="correction.filed",
            actor=caller,
            subject=request.id,
            payload={
                "provider": provider,
                "subject": entry_code,
                "status": "pending",
                "cross_check_run": run_id,
                "key_digest": key_digest.hex(),
                "articles": [article],
                **due,
            },
        )
        return request.id
