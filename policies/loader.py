"""Load and validate rule files. A bad file is refused whole, naming the file, key and problem."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

from tongdao.policies import loader_sections as sections
from tongdao.policies.model import (
    FETCH_MODES,
    METHODS,
    ROLES,
    DeadlineRule,
    GradeRule,
    GrantStatusRules,
    GroundRule,
    LedgerRules,
    Limits,
    MaskRule,
    OpeningRules,
    PeriodRule,
    Policy,
    PolicyError,
    PrivacyRules,
    RateLimitRules,
    ReconciliationRules,
    SharingRules,
    Threshold,
)

RULES_DIR = Path(__file__).resolve().parent / "rules"
UNCONDITIONAL_REVIEW = ("automatic", "authority")
DEFAULT_POLICY = "heilongjiang-2025"
REQUIRED_DEADLINES = (
    "catalogue_revision",
    "catalogue_update",
    "conditional_share_review",
    "correction",
    "demand_review",
    "demand_cataloguing",
    "open_data_review",
)
REQUIRED_PERIODS = ("revocation_grace", "grant_idle", "usage_record_retention")
REQUIRED_GRADES = ("general", "personal", "sensitive_personal")
REQUIRED_LIMITS = (
    "import_max_file_bytes",
    "import_max_unpacked_bytes",
    "import_max_rows",
    "import_max_cell_chars",
    "import_max_problems",
    "db_statement_timeout_ms",
    "db_lock_timeout_ms",
    "list_page_size",
    "list_page_max",
    "export_page_size",
    "export_page_max",
    "ledger_page_size",
    "ledger_page_max",
    "misuse_scan_batch",
    "misuse_scan_pause_ms",
    "node_call_timeout_seconds",
    "node_stream_timeout_seconds",
)


def resolve_policy_path(name_or_path: str | Path) -> Path:
    """A bundled policy by name (``heilongjiang-2025``) or a path to a rule file.

    Raises:
        PolicyError: no such file.
    """
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or candidate.exists():
        path = candidate
    else:
        path = RULES_DIR / f"{name_or_path}.toml"
    if not path.is_file():
        bundled = ", ".join(sorted(p.stem for p in RULES_DIR.glob("*.toml") if p.stem != "trust"))
        raise PolicyError(str(path), "-", f"no such rule file (bundled policies: {bundled})")
    return path


class _Tracked(dict[str, Any]):
    """A TOML table that remembers which keys the loader asked for (to refuse unknown keys)."""

    def __init__(self, data: dict[str, Any], prefix: str, seen: set[str]) -> None:
        super().__init__(data)
        self._prefix = prefix
        self._seen = seen

    def get(self, key: str, default: Any = None) -> Any:
        self._seen.add(f"{self._prefix}{key}")
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        self._seen.add(f"{self._prefix}{key}")
        return super().__getitem__(key)


def _first_unread(file: str, data: dict[str, Any], seen: set[str], prefix: str = "") -> None:
    """Refuse the first key no rule reads: a typo must not silently drop a rule.

    Raises:
        PolicyError: names the unknown key.
    """
    for name, value in data.items():
        key = f"{prefix}{name}"
        if key not in seen:
            raise PolicyError(file, key, "unknown key (a typo? see docs/policies.md for every key)")
        if isinstance(value, dict):
            _first_unread(file, value, seen, f"{key}.")


class _Reader:
    """Typed access to a TOML table with errors that name file and dotted key."""

    def __init__(
        self, file: str, data: dict[str, Any], prefix: str = "", seen: set[str] | None = None
    ) -> None:
        self.file = file
        self.seen: set[str] = set() if seen is None else seen
        self.data: dict[str, Any] = _Tracked(data, prefix, self.seen)
        self.prefix = prefix

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def fail(self, name: str, problem: str) -> PolicyError:
        return PolicyError(self.file, self.key(name), problem)

    def table(self, name: str, *, required: bool = True) -> _Reader:
        value = self.data.get(name)
        if value is None and not required:
            return _Reader(self.file, {}, f"{self.key(name)}.", self.seen)
        if not isinstance(value, dict):
            raise self.fail(name, "missing table" if value is None else "must be a table")
        return _Reader(self.file, value, f"{self.key(name)}.", self.seen)

    def text(self, name: str, *, required: bool = True, default: str = "") -> str:
        value = self.data.get(name)
        if value is None:
            if required:
                raise self.fail(name, "missing")
            return default
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.fail(name, "must be a non-empty string")
        return value

    def integer(self, name: str, *, required: bool = True, minimum: int = 0) -> int | None:
        value = self.data.get(name)
        if value is None:
            if required:
                raise self.fail(name, "missing")
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(name, "must be an integer")
        if value < minimum:
            raise self.fail(name, f"must be at least {minimum}")
        return value

    def number(self, name: str, *, minimum: float = 0.0) -> float:
        value = self.data.get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(name, "must be a number")
        if value < minimum:
            raise self.fail(name, f"must be at least {minimum}")
        return float(value)

    def boolean(self, name: str) -> bool:
        value = self.data.get(name)
        if not isinstance(value, bool):
            raise self.fail(name, "must be true or false")
        return value

    def date(self, name: str) -> dt.date:
        value = self.data.get(name)
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            raise self.fail(name, "must be a date like 2025-01-06")
        return value

    def texts(self, name: str, *, allowed: tuple[str, ...] | None = None) -> tuple[str, ...]:
        value = self.data.get(name)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(name, "must be a list of strings")
        if allowed is not None:
            for v in value:
                if v not in allowed:
                    raise self.fail(name, f"{v!r} is not one of {', '.join(allowed)}")
        return tuple(value)

    def article(self, name: str = "article") -> str:
        value = self.text(name)
        if not value.startswith("Art."):
            raise self.fail(name, "must cite an article like 'Art.22(2)'")
        return value

    def names(self) -> list[str]:
        return list(self.data)


def _cheating_consumer(t: _Reader) -> tuple[tuple[str, str], ...]:
    """``[sharing.cheating_consumer]``: method = the method whose output a deviating consumer
    obtains with it."""
    out = []
    for method in t.names():
        revealed = t.text(method)
        if method not in METHODS or revealed not in METHODS:
            raise t.fail(method, f"both sides must be one of {', '.join(METHODS)}")
        out.append((method, revealed))
    return tuple(out)


def load_policy(name_or_path: str | Path = DEFAULT_POLICY) -> Policy:
    """Load a jurisdiction's rule file.

    Args:
        name_or_path: a bundled policy name or a path to a TOML rule file.

    Returns:
        The policy, fully validated. Its ``periods`` include ``validity`` (from ``[policy]``).

    Raises:
        PolicyError: the file is missing, not TOML, a key is missing, wrong or unknown (never a
            half-loaded policy).
    """
    path = resolve_policy_path(name_or_path)
    file = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PolicyError(file, "-", f"not valid TOML: {exc}") from None
    root = _Reader(file, raw)
    policy = _build(root, file)
    meta = root.table("policy")
    issued = meta.data.get("issued")
    if issued is not None and (isinstance(issued, dt.datetime) or not isinstance(issued, dt.date)):
        raise meta.fail("issued", "must be a date like 2025-01-06")
    classes = root.table("classifications")
    periods = dict(policy.periods)
    if "validity" in periods:
        raise root.table("periods").fail("validity", "is set by [policy] valid_from/validity_years")
    years = meta.integer("validity_years", minimum=1)
    periods["validity"] = PeriodRule(
        "validity",
        None,
        years,
        policy.validity_article,
        f"the measures apply from {policy.valid_from} to {policy.valid_until}",
        meta.text("validity_quote", required=False),
    )
    classification_article = classes.article()
    # roles and accounts: optional for reading a rule file, required to run a broker on it
    access = sections.access(root) if "access" in raw else None
    accounts = sections.accounts(root) if "accounts" in raw else None
    disputes = sections.disputes(root, policy) if "disputes" in raw else None
    typical_cases = sections.typical_cases(root) if "typical_cases" in raw else None
    cross = sections.cross_verification(root, policy) if "cross_verification" in raw else None
    regional = sections.regional(root, policy) if "regional" in raw else None
    open_data = sections.open_data(root, policy) if "open_data" in raw else None
    catalogue = sections.catalogue(root) if "catalogue" in raw else policy.catalogue
    _first_unread(file, raw, root.seen)
    return replace(
        policy,
        periods=periods,
        issued=issued,
        classification_article=classification_article,
        access=access,
        accounts=accounts,
        disputes=disputes,
        typical_cases=typical_cases,
        cross_verification=cross,
        regional=regional,
        open_data=open_data,
        catalogue=catalogue,
    )


def _build(root: _Reader, file: str) -> Policy:
    meta = root.table("policy")
    valid_from = meta.date("valid_from")
    years = meta.integer("validity_years", minimum=1) or 1
    valid_until = dt.date(valid_from.year + years, valid_from.month, valid_from.day) - dt.timedelta(
        days=1
    )

    deadlines_t = root.table("deadlines")
    deadlines: dict[str, DeadlineRule] = {}
    for kind in deadlines_t.names():
        t = deadlines_t.table(kind)
        extension = t.integer("extension_working_days", required=False, minimum=1)
        max_extensions = t.integer("max_extensions", required=extension is not None, minimum=1)
        if extension is None and max_extensions is not None:
            raise t.fail("max_extensions", "needs extension_working_days")
        deadlines[kind] = DeadlineRule(
            kind=kind,
            working_days=t.integer("working_days", minimum=1) or 1,
            article=t.article(),
            description=t.text("description"),
            extension_working_days=extension,
            quote=t.text("quote", required=False),
            max_extensions=max_extensions or 0,
        )
    for kind in REQUIRED_DEADLINES:
        if kind not in deadlines:
            raise PolicyError(
                file, f"deadlines.{kind}", "missing (every clock of SUP-1 is required)"
            )

    periods_t = root.table("periods")
    periods: dict[str, PeriodRule] = {}
    for kind in periods_t.names():
        t = periods_t.table(kind)
        months = t.integer("months", required=False, minimum=1)
        years_ = t.integer("years", required=False, minimum=1)
        if months is None and years_ is None:
            raise t.fail("months", "a period needs months or years")
        periods[kind] = PeriodRule(
            kind,
            months,
            years_,
            t.article(),
            t.text("description"),
            t.text("quote", required=False),
        )
    for kind in REQUIRED_PERIODS:
        if kind not in periods:
            raise PolicyError(file, f"periods.{kind}", "missing")

    thresholds_t = root.table("thresholds")
    thresholds: dict[str, Threshold] = {}
    for kind in thresholds_t.names():
        t = thresholds_t.table(kind)
        thresholds[kind] = Threshold(
            kind, t.integer("value", minimum=1) or 1, t.article(), t.text("description")
        )
    if "min_group_size" not in thresholds:
        raise PolicyError(file, "thresholds.min_group_size", "missing")

    s = root.table("sharing")
    sharing = SharingRules(
        share_types=s.texts("share_types", allowed=("unconditional", "conditional", "not_shared")),
        share_type_article=s.article("share_type_article"),
        unconditional_article=s.article("unconditional_article"),
        conditional_article=s.article("conditional_article"),
        conditional_without_conditions_article=s.article("conditional_without_conditions_article"),
        not_shared_article=s.article("not_shared_article"),
        request_contents_article=s.article("request_contents_article"),
        purpose_binding_article=s.article("purpose_binding_article"),
        methods=s.texts("methods", allowed=METHODS),
        cheating_consumer_learns=_cheating_consumer(s.table("cheating_consumer", required=False)),
        unconditional_review=s.text("unconditional_review", required=False, default="automatic"),
    )
    if sharing.unconditional_review not in UNCONDITIONAL_REVIEW:
        raise s.fail("unconditional_review", f"must be one of {', '.join(UNCONDITIONAL_REVIEW)}")
    if sharing.unconditional_review == "authority" and (
        "unconditional_share_review" not in deadlines
    ):
        raise s.fail(
            "unconditional_review",
            "'authority' needs a [deadlines.unconditional_share_review] clock",
        )
    o = root.table("opening")
    opening = OpeningRules(
        open_types=o.texts(
            "open_types", allowed=("not_open", "conditional_open", "unconditional_open")
        ),
        article=o.article(),
        personal_requires_consent=o.boolean("personal_requires_consent"),
    )

    masking = root.table("masking")
    rules_t = masking.table("rules")
    mask_rules: dict[str, MaskRule] = {}
    for name in rules_t.names():
        t = rules_t.table(name)
        mask_rules[name] = MaskRule(name, t.integer("keep_start") or 0, t.integer("keep_end") or 0)
    kinds_t = masking.table("field_kinds", required=False)
    field_kinds: dict[str, str] = {}
    for name in kinds_t.names():
        rule = kinds_t.text(name)
        if rule not in mask_rules:
            raise kinds_t.fail(name, f"unknown mask rule {rule!r}")
        field_kinds[name] = rule
    mask_char = masking.text("mask_char")
    if len(mask_char) != 1:
        raise masking.fail("mask_char", "must be one character")

    grades_t = root.table("grades")
    grades: dict[str, GradeRule] = {}
    for name in grades_t.names():
        t = grades_t.table(name)
        fetch = t.text("fetch")
        if fetch not in FETCH_MODES:
            raise t.fail("fetch", f"must be one of {', '.join(FETCH_MODES)}")
        methods = frozenset(t.texts("methods", allowed=METHODS))
        if fetch == "forbidden" and "fetch" in methods:
            raise t.fail("methods", "lists fetch although fetch = 'forbidden'")
        if fetch != "forbidden" and "fetch" not in methods:
            raise t.fail("fetch", "is allowed but 'fetch' is not in methods")
        mask_rule = t.text("mask_rule", required=False) or None
        if fetch == "masked" and mask_rule is None:
            raise t.fail("mask_rule", "required when fetch = 'masked'")
        if mask_rule is not None and mask_rule not in mask_rules:
            raise t.fail("mask_rule", f"unknown mask rule {mask_rule!r}")
        personal = t.data.get("personal", fetch != "plain")
        if not isinstance(personal, bool):
            raise t.fail("personal", "must be true or false")
        roles = frozenset(t.texts("roles", allowed=ROLES))
        if "returned" in roles and fetch == "forbidden":
            raise t.fail("roles", "lists returned although fetch = 'forbidden'")
        grades[name] = GradeRule(
            name, t.text("label"), methods, fetch, mask_rule, t.article(), personal, roles
        )
    for name in REQUIRED_GRADES:
        if name not in grades:
            raise PolicyError(file, f"grades.{name}", "missing")

    classifications = root.table("classifications").texts("values")
    privacy_t = root.table("privacy", required=False)
    privacy = (
        PrivacyRules(
            privacy_t.number("max_dp_epsilon"),
            privacy_t.number("max_dp_budget"),
            privacy_t.article(),
            privacy_t.integer("stream_padding_minimum", required=False, minimum=1) or 16,
            privacy_t.integer("stream_padding_steps", required=False, minimum=1) or 4,
        )
        if privacy_t.names()
        else PrivacyRules(0.0, 0.0, "Art.38")
    )

    rate_t = root.table("rate_limits", required=False)
    rate_limits = (
        RateLimitRules(
            rate_t.number("calls_per_second"),
            rate_t.integer("burst", minimum=1) or 1,
            rate_t.article(),
        )
        if rate_t.names()
        else None
    )
    if rate_limits is not None and rate_limits.calls_per_second <= 0:
        raise rate_t.fail("calls_per_second", "must be more than 0")
    rate_t.text("description", required=False)

    limits_t = root.table("limits")
    limits = Limits(
        {name: limits_t.integer(name, minimum=1) or 1 for name in REQUIRED_LIMITS},
        limits_t.article(),
    )
    for pages in ("list", "export", "ledger"):
        if limits[f"{pages}_page_size"] > limits[f"{pages}_page_max"]:
            raise limits_t.fail(f"{pages}_page_size", f"must not exceed {pages}_page_max")
    limits_t.text("description", required=False)
    ledger_t = root.table("ledger")
    ledger = LedgerRules(
        origin=ledger_t.text("origin"),
        witness_cosignatures=ledger_t.integer("witness_cosignatures") or 0,
        checkpoint_interval_seconds=ledger_t.integer("checkpoint_interval_seconds", minimum=1) or 1,
        reconcile_interval_seconds=ledger_t.integer("reconcile_interval_seconds", minimum=1) or 1,
        refusal_fold_seconds=ledger_t.integer("refusal_fold_seconds", minimum=1) or 1,
        article=ledger_t.article(),
    )
    ledger_t.text("description")
    reconcile_t = root.table("reconciliation", required=False)
    reconciliation = (
        ReconciliationRules(
            period_hours=reconcile_t.integer("period_hours", minimum=1) or 24,
            settle_minutes=reconcile_t.integer("settle_minutes") or 0,
            article=reconcile_t.article(),
        )
        if reconcile_t.names()
        else None
    )
    if reconciliation is not None:
        reconcile_t.text("description")
        if 24 % reconciliation.period_hours:
            raise reconcile_t.fail("period_hours", "must divide a day (1, 2, 3, 4, 6, 8, 12, 24)")
    if not ledger.origin or any(c.isspace() for c in ledger.origin):
        raise ledger_t.fail("origin", "must be one word without spaces, e.g. 'tongdao.hlj/ledger'")

    status_t = root.table("grant_status")
    grounds_t = status_t.table("grounds")
    grounds = {
        name: GroundRule(
            name, grounds_t.table(name).article(), grounds_t.table(name).text("description")
        )
        for name in grounds_t.names()
    }
    if not grounds:
        raise status_t.fail("grounds", "name at least one ground for suspension")
    ticket_seconds = status_t.integer("ticket_seconds", minimum=1) or 1
    renew_seconds = status_t.integer("ticket_renew_seconds", required=False) or 0
    if renew_seconds >= ticket_seconds:
        raise status_t.fail("ticket_renew_seconds", "must be below ticket_seconds")
    grant_status = GrantStatusRules(
        ticket_seconds=ticket_seconds,
        grounds=grounds,
        article=status_t.article(),
        ticket_renew_seconds=renew_seconds,
    )
    status_t.text("description")

    return Policy(
        jurisdiction=meta.text("jurisdiction"),
        title=meta.text("title"),
        title_en=meta.text("title_en", required=False, default=meta.text("title")),
        valid_from=valid_from,
        valid_until=valid_until,
        validity_article=meta.article("validity_article"),
        timezone=meta.text("timezone"),
        source=file,
        deadlines=deadlines,
        periods=periods,
        thresholds=thresholds,
        sharing=sharing,
        opening=opening,
        grades=grades,
        classifications=classifications,
        mask_char=mask_char,
        mask_rules=mask_rules,
        field_kinds=field_kinds,
        privacy=privacy,
        limits=limits,
        ledger=ledger,
        reconciliation=reconciliation,
        grant_status=grant_status,
        rate_limits=rate_limits,
    )
