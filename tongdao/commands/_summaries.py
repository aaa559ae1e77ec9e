"""Share requests, grants and catalogue entries as a reader takes them in: a few lines each,
in the reader's language, method names as the CLI takes them (``--json`` prints every field
instead)."""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from tongdao.commands._common import cell, request_details
from tongdao.i18n import current, tr
from tongdao.proto.methods import METHOD_NAMES, OPEN_TYPE_NAMES, SHARE_TYPE_NAMES

REQUEST_STATES = (
    "pending_provider_review",
    "pending_authority_review",
    "approved",
    "refused",
)
"""The states a share request is in (``consumer requests --status`` takes them)."""


@functools.cache
def _words(locale: str) -> dict[str, str]:
    """Every code the broker sends that a reader gets in words, in ``locale`` (built once per
    locale: a long listing looks each code up, it does not translate it again)."""
    del locale  # the cache key; tr() reads the run's locale itself
    return {
        # share requests, grants, catalogue entries
        "pending_provider_review": tr("pending_provider_review"),
        "pending_authority_review": tr("pending_authority_review"),
        "approved": tr("approved"),
        "refused": tr("refused"),
        "withdrawn": tr("withdrawn"),
        "active": tr("active"),
        "suspended": tr("suspended"),
        "terminated": tr("terminated"),
        "superseded": tr("superseded"),
        "draft": tr("draft"),
        "submitted": tr("submitted"),
        "returned": tr("returned"),
        "published": tr("published"),
        "revoking": tr("revoking"),
        "sunset": tr("sunset"),
        # service requests
        "data_need": tr("data_need"),
        "correction": tr("correction"),
        "open_data": tr("open_data"),
        "pending": tr("pending"),
        "accepted": tr("accepted"),
        "corrected": tr("corrected"),
        "fulfilled": tr("fulfilled"),
        # disputes
        "share_request": tr("share_request"),
        "grant": tr("grant"),
        "finding": tr("finding"),
        "open": tr("open"),
        "resolved": tr("resolved"),
        "same_level": tr("same_level"),
        "provincial": tr("provincial"),
        "coordination": tr("coordination"),
        # people's roles (GB/T 22239)
        "administrator": tr("administrator"),
        "operator": tr("operator"),
        "auditor": tr("auditor"),
        # misuse findings and grounds for suspending a grant
        "out_of_scope": tr("out_of_scope"),
        "beyond_purpose": tr("beyond_purpose"),
        "idle": tr("idle"),
        "usage_spike": tr("usage_spike"),
        "differencing": tr("differencing"),
        "answered_not_relayed": tr("answered_not_relayed"),
        "relayed_not_answered": tr("relayed_not_answered"),
        "security_risk": tr("security_risk"),
        "not_rectified": tr("not_rectified"),
        "department_violation": tr("department_violation"),
        "public_misuse": tr("public_misuse"),
        "return_flow_withdrawn": tr("return_flow_withdrawn"),
        # data items' sensitivity grades (Art.14)
        "general": tr("general"),
        "personal": tr("personal"),
        "sensitive_personal": tr("sensitive_personal"),
        # daily reconciliation of a node
        "clean": tr("clean"),
        "mismatch": tr("mismatch"),
        "bad_report": tr("bad_report"),
        "not_reconciled": tr("not_reconciled"),
        "unavailable": tr("unavailable"),
    }


def in_words(code: str) -> str:
    """A state, kind, stage, role, grade or ground the broker sends, in the reader's words. In
    English it is the code itself, as ``--json``, the API and the options (``--status``,
    ``--kind``, ``--ground``, ``--role``) spell it; a code this build does not know (a newer
    broker's, a newer rule file's) is shown as it is, and none as "-"."""
    words = _words(current())
    return words.get(code) or words.get(code.lower()) or code or "-"


def moment(value: str) -> str:
    """A time the broker sent (ISO 8601; UTC when it names no zone) to the minute, in UTC."""
    try:
        t = dt.datetime.fromisoformat(value)
    except ValueError:
        return value or "-"
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return f"{t.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"


def level_label(level: str) -> str:
    """A department's administrative level in the reader's words."""
    labels = {
        "province": tr("province level"),
        "city": tr("city level"),
        "county": tr("county level"),
    }
    return labels.get(level, level or "-")


def classification_label(value: str) -> str:
    """A catalogue entry's classification (Art.14: general, important, core data) in the
    reader's words."""
    labels = {
        "general": tr("general data"),
        "important": tr("important data"),
        "core": tr("core data"),
    }
    return labels.get(value, value or "-")


def party_label(code: str) -> str:
    """A party as the reader names it: the data authority in words, a department by its code."""
    return tr("the data authority") if code == "authority" else code


def method_names(values: Any) -> str:
    """The query methods of a request or a grant, by the names ``--method`` takes."""
    return ", ".join(METHOD_NAMES.get(value, str(value)) for value in values)


def print_share_request(r: Any) -> None:
    """A share request: its state and the articles that decided it, the reason and who decided,
    what it asks for, its grant, and who decides by when while it waits."""
    print(
        tr(
            "request {id}: {status} [{articles}]",
            id=r.id,
            status=in_words(r.status),
            articles=", ".join(r.decision.articles),
        )
    )
    pending = r.status.startswith("pending")
    decided_by = r.decision.person or party_label(r.decision.department)
    if r.decision.rule and r.decision.department == r.consumer and not pending:
        # refused by the rule file as it was filed: the consumer's own call, not its decision
        print("  " + tr("{reason} (rule {rule})", reason=r.decision.reason, rule=r.decision.rule))
    elif r.decision.reason and decided_by and not pending:
        print("  " + tr("{reason} (decided by {who})", reason=r.decision.reason, who=decided_by))
    elif r.decision.reason:
        print(f"  {r.decision.reason}")
    print(
        "  "
        + tr(
            "{consumer} asks for {entry} v{version} by {methods}",
            consumer=r.consumer,
            entry=r.entry_code,
            version=r.entry_version,
            methods=method_names(r.methods),
        )
    )
    print("  " + request_details(r))
    if r.grant_id:
        print("  " + tr("grant: {grant}", grant=r.grant_id))
    if r.due_date and r.delegate:
        line = tr(
            "{delegate} (the provider delegated this region's requests, Art.23) decides by "
            "the end of {day}",
            delegate=r.delegate,
            day=r.due_date,
        )
        print(f"  {line}")
    elif r.due_date and pending:
        print("  " + tr("provider decides by the end of {day}", day=r.due_date))


def print_grant(g: Any) -> None:
    """A grant: its state (and why, when it is not active), who shares what with whom, how much
    of its quota is used, when it expires, and its token."""
    print(tr("grant {id}: {status}", id=g.id, status=in_words(g.status)))
    if g.status_ground:
        why = tr(
            "{ground} [{article}]: {reason}",
            ground=in_words(g.status_ground),
            article=g.status_article or "-",
            reason=g.status_reason or "-",
        )
        print(f"  {why}")
    print(
        "  "
        + tr(
            "{provider} → {consumer}: {entry} v{version} by {methods}; fields: {fields}",
            provider=g.provider,
            consumer=g.consumer,
            entry=g.entry_code,
            version=g.entry_version,
            methods=method_names(g.methods),
            fields=", ".join(g.fields),
        )
    )
    print("  " + tr("purpose: {purpose}", purpose=g.purpose))
    print(
        "  "
        + tr(
            "{used} of {quota} queries used; expires {expires}",
            used=g.used,
            quota=g.quota,
            expires=moment(g.expires_at),
        )
    )
    if g.regions:
        print("  " + tr("regions: {regions}", regions=", ".join(g.regions)))
    if g.share_request_id:
        print("  " + tr("share request: {id}", id=g.share_request_id))
    if g.token:
        print("  " + tr("token: {token}", token=g.token))


def share_type_label(value: int) -> str:
    """A share type as the reader says it (Art.21: unconditional, conditional, not shared)."""
    name = SHARE_TYPE_NAMES.get(value, "")
    if name == "unconditional":
        return tr("unconditional share")
    if name == "conditional":
        return tr("conditional share")
    if name == "not_shared":
        return tr("not shared")
    return "-"


def print_catalogue_entry(e: Any) -> None:
    """A catalogue entry after a step of its life (created, revised, submitted, published,
    returned, asked to update or to revoke): its state, what it shares, the policy's check, the
    reviewer's word and entries of other departments that already provide some of its items
    (``catalogue get`` prints every field)."""
    print(
        tr(
            "catalogue entry {code} v{version}: {status} — {name} ({provider})",
            code=e.code,
            version=e.version,
            status=in_words(e.status),
            name=e.name,
            provider=e.provider,
        )
    )
    shared = share_type_label(e.share_type)
    if e.effective_share_type and e.effective_share_type != e.share_type:
        shared = tr(
            "{declared}, treated as {effective}",
            declared=shared,
            effective=share_type_label(e.effective_share_type),
        )
    print(
        "  "
        + tr(
            "{shared}; {count} data item(s); {grade}",
            shared=shared,
            count=len(e.data_items),
            grade=classification_label(e.grade),
        )
    )
    if e.validation.reason:
        articles = ", ".join(e.validation.articles)
        print(f"  {e.validation.reason}" + (f" [{articles}]" if articles else ""))
    if e.reviewer and e.status == "submitted":
        print("  " + tr("waiting for the review of {reviewer}", reviewer=party_label(e.reviewer)))
    if e.review_comments:
        print("  " + tr("returned with: {comments}", comments=e.review_comments))
    if e.sunset_on:
        print("  " + tr("served until {day}", day=e.sunset_on))
    if e.revocation_reason:
        print("  " + tr("revocation asked: {reason}", reason=e.revocation_reason))
    for hint in e.obtainable_by_sharing:
        print(
            "  "
            + tr(
                "already shared by {provider} as {entry} ({name}): {items}",
                provider=hint.provider,
                entry=hint.entry_code,
                name=hint.name,
                items="、".join(hint.items),
            )
        )


def print_department(d: Any) -> None:
    """A department as the directory holds it: who it is, where its node listens, and the
    fingerprints of the public keys its certificate vouched for."""
    print(
        tr(
            "department {code} is in the directory: {name} · region {region} · {level}",
            code=d.code,
            name=d.name,
            region=d.region or "-",
            level=level_label(d.level),
        )
    )
    if d.is_authority:
        print("  " + tr("acts for the data authority"))
    print(
        "  "
        + tr("node: {endpoint}", endpoint=d.node_endpoint or tr("none (it does not provide data)"))
    )
    if d.signing_public_key:
        print("  " + tr("Ed25519 public key {key}", key=d.signing_public_key.hex()))
    if d.encryption_public_key:
        print("  " + tr("X25519 public key {key}", key=d.encryption_public_key.hex()))


def open_type_label(value: int) -> str:
    """An entry's open type (Art.33) in the reader's words."""
    name = OPEN_TYPE_NAMES.get(value, "")
    labels = {
        "not_open": tr("not_open"),
        "conditional_open": tr("conditional_open"),
        "unconditional_open": tr("unconditional_open"),
    }
    return labels.get(name, "-")


def print_catalogue_entry_detail(e: Any) -> None:
    """One catalogue entry in full, as a department deciding what to ask for reads it: the
    summary, then each data item with its type, grade and meaning, the key, the purposes it may
    be used for, who it is shared with, its legal basis and whether it is open."""
    print_catalogue_entry(e)
    if e.description:
        print(f"  {e.description}")
    print("  " + tr("data items:"))
    for item in e.data_items:
        key = " " + tr("(key)") if item.name == e.key_field else ""
        print(
            f"    {cell(item.name + key, 24)} {cell(item.type, 8)} "
            f"{cell(in_words(item.sensitivity), 14)} {item.description}"
        )
    if e.permitted_purposes:
        print(
            "  " + tr("may be used for: {purposes}", purposes=tr(", ").join(e.permitted_purposes))
        )
    if e.share_scope_levels:
        levels = tr(", ").join(level_label(level) for level in e.share_scope_levels)
        print("  " + tr("shared with departments at: {levels}", levels=levels))
    if e.legal_basis:
        print("  " + tr("legal basis: {basis}", basis=e.legal_basis))
    opened = open_type_label(e.open_type)
    if e.open_conditions:
        opened = tr("{open} ({conditions})", open=opened, conditions=e.open_conditions)
    print("  " + tr("open data: {open}", open=opened))
    if e.update_frequency or e.data_format:
        print(
            "  "
            + tr(
                "updated {frequency}; format {format}",
                frequency=e.update_frequency or "-",
                format=e.data_format or "-",
            )
        )
