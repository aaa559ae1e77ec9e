"""The loaded policy of one jurisdiction: immutable data, read from a rule file."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from tongdao.policies.access import AccessRules, AccountRules
from tongdao.policies.catalogue_rules import DEFAULT_CATALOGUE_RULES, CatalogueRules
from tongdao.policies.cross_verification import CrossVerificationRules
from tongdao.policies.disputes import DisputeRules
from tongdao.policies.open_data import OpenDataRules
from tongdao.policies.regional import RegionalRules
from tongdao.policies.typical_cases import TypicalCaseRules

METHODS: tuple[str, ...] = (
    "fetch",
    "verify",
    "intersection",
    "intersection_size",
    "intersection_sum",
    "aggregate",
)
FETCH_MODES: tuple[str, ...] = ("plain", "masked", "forbidden")
ROLES: tuple[str, ...] = ("key", "filter", "summed", "returned")
"""What a data item does in a query: the key records are matched on (lookup or PSI key), a filter
(an aggregate filter or a verify claim: tested, answered with a match bit), a summed value
(intersection-sum, aggregate), a returned field (fetch)."""


class PolicyError(Exception):
    """A rule file is malformed or incomplete, or a rule is asked for that the policy lacks.

    Attributes:
        file: the rule file.
        key: the dotted key at fault.
        problem: what is wrong.
    """

    def __init__(self, file: str, key: str, problem: str) -> None:
        super().__init__(f"{file}: {key}: {problem}")
        self.file = file
        self.key = key
        self.problem = problem


@dataclass(frozen=True)
class DeadlineRule:
    """A working-day clock.

    Attributes:
        kind: the clock's name, e.g. ``conditional_share_review``.
        working_days: N; the item is due at the end of the Nth working day after receipt.
        article: the article that sets it, e.g. ``Art.22(2)``.
        description: what must happen within the clock (English).
        extension_working_days: working days one extension may add (``None``: no extension).
        quote: the regulation's own wording (原文), shown for the zh-CN locale.
        max_extensions: how many extensions may be granted (0 without
            ``extension_working_days``).
    """

    kind: str
    working_days: int
    article: str
    description: str
    extension_working_days: int | None = None
    quote: str = ""
    max_extensions: int = 0


@dataclass(frozen=True)
class PeriodRule:
    """A calendar period (months or years).

    Attributes:
        kind: the period's name, e.g. ``grant_idle``.
        months: length in months (or ``None``).
        years: length in years (or ``None``); months and years add up when both are set.
        article: the article that sets it.
        description: what the period governs (English).
        quote: the regulation's own wording (原文), shown for the zh-CN locale.
    """

    kind: str
    months: int | None
    years: int | None
    article: str
    description: str
    quote: str = ""

    def add_to(self, start: dt.date) -> dt.date:
        """``start`` plus this period (clamped to the month's last day)."""
        months = (self.months or 0) + 12 * (self.years or 0)
        year, month = divmod(start.month - 1 + months, 12)
        year += start.year
        month += 1
        for day in range(start.day, 27, -1):
            try:
                return dt.date(year, month, day)
            except ValueError:
                continue
        return dt.date(year, month, min(start.day, 28))

    def latest_start_ending_by(self, day: dt.date) -> dt.date:
        """The latest start whose period has ended by ``day`` (``add_to(start) <= day``): a
        start on or before it has ended, a later one has not, since ``add_to`` never moves
        back as its start moves on."""
        months = (self.months or 0) + 12 * (self.years or 0)
        if months == 0:
            return day
        low = day - dt.timedelta(days=31 * months + 31)  # ended by ``day`` whatever the months
        high = day  # has not ended by ``day`` (a period is at least a month)
        while high - low > dt.timedelta(days=1):
            middle = low + (high - low) / 2
            if self.add_to(middle) <= day:
                low = middle
            else:
                high = middle
        return low


@dataclass(frozen=True)
class Threshold:
    """A numeric threshold (e.g. minimum group size)."""

    kind: str
    value: int
    article: str
    description: str


@dataclass(frozen=True)
class GradeRule:
    """What a sensitivity grade allows (PRIV-6).

    Attributes:
        name: the grade's id, e.g. ``sensitive_personal``.
        label: its display name, e.g. ``敏感个人信息``.
        allowed_methods: query methods that may touch a data item of this grade.
        fetch: ``plain``, ``masked`` or ``forbidden`` — how fetch returns such a data item.
        mask_rule: the default mask rule for ``masked`` values.
        article: the article the grade rests on.
        personal: whether data of this grade is personal information or a trade secret
            (decides the consent rule for unconditional opening, Art.33).
        roles: what a data item of this grade may do in a query (:data:`ROLES`).
    """

    name: str
    label: str
    allowed_methods: frozenset[str]
    fetch: str
    mask_rule: str | None
    article: str
    personal: bool = False
    roles: frozenset[str] = frozenset(ROLES)


@dataclass(frozen=True)
class MaskRule:
    """Keep ``keep_start`` and ``keep_end`` characters, mask the rest."""

    name: str
    keep_start: int
    keep_end: int


@dataclass(frozen=True)
class SharingRules:
    """Articles applied by share-request decisions (Art.21, Art.22, Art.30)."""

    share_types: tuple[str, ...]
    share_type_article: str
    unconditional_article: str
    conditional_article: str
    conditional_without_conditions_article: str
    not_shared_article: str
    request_contents_article: str
    purpose_binding_article: str
    methods: tuple[str, ...]
    # (method, the method whose output a consumer deviating from the first can obtain)
    cheating_consumer_learns: tuple[tuple[str, str], ...] = ()
    # Art.22(1): who performs the authority's review of an unconditional request: "automatic"
    # (the rule check, at once, recorded as the authority's decision) or "authority" (an
    # operator of the consumer's data authority, on the unconditional_share_review clock)
    unconditional_review: str = "automatic"


@dataclass(frozen=True)
class OpeningRules:
    """Open-type rules (Art.33)."""

    open_types: tuple[str, ...]
    article: str
    personal_requires_consent: bool


@dataclass(frozen=True)
class PrivacyRules:
    """Bounds on differential-privacy parameters a grant may carry (PRIV-5)."""

    max_dp_epsilon: float
    max_dp_budget: float
    article: str
    # streamed queries pad each side's set with dummy points to a bucket size (docs/privacy.md,
    # "What the broker sees"): at least ``stream_padding_minimum`` points, and ``m·2^e`` with
    # ``stream_padding_steps ≤ m < 2·stream_padding_steps`` (so at most 1/steps over the set)
    stream_padding_minimum: int = 16
    stream_padding_steps: int = 4


@dataclass(frozen=True)
class GroundRule:
    """A ground on which a grant may be suspended or terminated (Art.27, 41, 43).

    Attributes:
        name: the ground's key, e.g. ``misuse``.
        article: the article it rests on.
        description: what it covers (English).
    """

    name: str
    article: str
    description: str


@dataclass(frozen=True)
class GrantStatusRules:
    """How a grant's suspension or termination is decided and reaches the nodes.

    Attributes:
        ticket_seconds: lifetime of the broker's signed status ticket on every relayed query; a
            node refuses a suspended or terminated grant at most this long after the change.
        ticket_renew_seconds: how long the broker attaches the same ticket to a grant's queries
            before it signs a new one (0: a new ticket for every query); below ``ticket_seconds``,
            so every ticket reaches the node with at least the difference still to run.
        grounds: the grounds an authority or provider may cite, by name.
        article: the article the status change rests on (Art.27).
    """

    ticket_seconds: int
    grounds: Mapping[str, GroundRule]
    article: str
    ticket_renew_seconds: int = 0


@dataclass(frozen=True)
class RateLimitRules:
    """How many calls one department may make to the broker (SEC-1, Art.38): a token bucket
    refilled at ``calls_per_second``, holding at most ``burst`` calls."""

    calls_per_second: float
    burst: int
    article: str


@dataclass(frozen=True)
class Limits:
    """Bounds on what callers send and on the broker's database work (Art.38 security duties).

    Attributes:
        values: limit name → positive integer (see ``[limits]`` in docs/policies.md).
        article: the article the limits rest on.
    """

    values: Mapping[str, int]
    article: str

    def __getitem__(self, name: str) -> int:
        return self.values[name]


@dataclass(frozen=True)
class LedgerRules:
    """How the transparency log is published and witnessed (PRIV-7).

    Attributes:
        origin: the log's name on every checkpoint (witnesses refuse another origin).
        witness_cosignatures: cosignatures of distinct departments a checkpoint needs to count
            as witnessed.
        checkpoint_interval_seconds: how often the broker signs a checkpoint and asks the
            witnesses to cosign it.
        reconcile_interval_seconds: how often the broker compares the nodes' receipt journals
            with the log (and at every start).
        refusal_fold_seconds: identical refusals within this period are one entry plus a count.
        article: the article the log serves.
    """

    origin: str
    witness_cosignatures: int
    checkpoint_interval_seconds: int
    reconcile_interval_seconds: int
    refusal_fold_seconds: int
    article: str


@dataclass(frozen=True)
class ReconciliationRules:
    """The daily reconciliation (对账) of the nodes' answers with the broker's log (PLT-3).

    Attributes:
        period_hours: the length of a reconciliation period, counted from midnight in the rule
            file's time zone (24: one calendar day).
        settle_minutes: how long after a period ends the broker waits before reconciling it (the
            receipts of its last minutes may still be on their way into the log).
        article: the article that requires it.
    """

    period_hours: int
    settle_minutes: int
    article: str


@dataclass(frozen=True)
class Policy:
    """Everything one jurisdiction's rules say, with articles.

    Attributes:
        jurisdiction: short name, e.g. ``heilongjiang``.
        title: official title.
        valid_from: first day the measures apply.
        valid_until: last day they apply (``valid_from`` + validity years − 1 day).
        source: the rule file it was read from.
        deadlines: working-day clocks by kind (also via :meth:`deadline`).
        periods: calendar periods by kind (also via :meth:`period`), including ``validity``.
        thresholds: numeric thresholds by kind; ``min_group_size`` is required.
        grades: sensitivity grades by name (also via :meth:`grade`).
        classifications: entry-level classifications (general / important / core data).
        classification_article: the article classifications rest on (Art.14).
        issued: the day the measures were issued, when the file says.
        limits: size, row, cell and database-time bounds (``[limits]``).
    """

    jurisdiction: str
    title: str
    title_en: str
    valid_from: dt.date
    valid_until: dt.date
    validity_article: str
    timezone: str
    source: str
    deadlines: Mapping[str, DeadlineRule]
    periods: Mapping[str, PeriodRule]
    thresholds: Mapping[str, Threshold]
    sharing: SharingRules
    opening: OpeningRules
    grades: Mapping[str, GradeRule]
    classifications: tuple[str, ...]
    mask_char: str
    mask_rules: Mapping[str, MaskRule]
    classification_article: str = ""
    issued: dt.date | None = None
    field_kinds: Mapping[str, str] = field(default_factory=dict)
    privacy: PrivacyRules = PrivacyRules(0.0, 0.0, "Art.38")
    limits: Limits = Limits({}, "Art.38")

    ledger: LedgerRules | None = None
    reconciliation: ReconciliationRules | None = None
    grant_status: GrantStatusRules = GrantStatusRules(60, {}, "Art.27")
    rate_limits: RateLimitRules | None = None
    access: AccessRules | None = None
    accounts: AccountRules | None = None
    disputes: DisputeRules | None = None
    catalogue: CatalogueRules = DEFAULT_CATALOGUE_RULES
    typical_cases: TypicalCaseRules | None = None
    cross_verification: CrossVerificationRules | None = None
    regional: RegionalRules | None = None
    open_data: OpenDataRules | None = None

    @property
    def access_rules(self) -> AccessRules:
        """The role table (``[access]``).

        Raises:
            PolicyError: the rule file has no ``[access]`` table.
        """
        if self.access is None:
            raise PolicyError(self.source, "access", "missing (a broker needs the role table)")
        return self.access

    @property
    def dispute_rules(self) -> DisputeRules:
        """How disputes are handled (``[disputes]``, Art.25).

        Raises:
            PolicyError: the rule file has no ``[disputes]`` table.
        """
        if self.disputes is None:
            raise PolicyError(self.source, "disputes", "missing (the broker handles disputes)")
        return self.disputes

    @property
    def account_rules(self) -> AccountRules:
        """Password, lockout and session rules (``[accounts]``).

        Raises:
            PolicyError: the rule file has no ``[accounts]`` table.
        """
        if self.accounts is None:
            raise PolicyError(self.source, "accounts", "missing (a broker needs the account rules)")
        return self.accounts

    def deadline(self, kind: str) -> DeadlineRule:
        """The working-day clock named ``kind``.

        Raises:
            PolicyError: the policy has no such deadline.
        """
        try:
            return self.deadlines[kind]
        except KeyError:
            raise PolicyError(self.source, f"deadlines.{kind}", "no such deadline") from None

    def period(self, kind: str) -> PeriodRule:
        """The calendar period named ``kind``.

        Raises:
            PolicyError: the policy has no such period.
        """
        try:
            return self.periods[kind]
        except KeyError:
            raise PolicyError(self.source, f"periods.{kind}", "no such period") from None

    @property
    def min_group_size(self) -> Threshold:
        """Smallest group an aggregate answer may describe."""
        return self.thresholds["min_group_size"]

    def grade(self, name: str) -> GradeRule:
        """The sensitivity grade ``name``.

        Raises:
            PolicyError: unknown grade.
        """
        try:
            return self.grades[name]
        except KeyError:
            raise PolicyError(self.source, f"grades.{name}", "no such grade") from None

    def is_valid_on(self, day: dt.date) -> bool:
        """Whether the measures apply on ``day`` (VAL-1)."""
        return self.valid_from <= day <= self.valid_until
