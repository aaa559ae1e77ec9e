"""``tongdao policy``: show the loaded rules with their articles, or check a rule file."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from tongdao.cli import CommandError
from tongdao.commands._common import add_home_argument
from tongdao.commands._grammar import add_json_argument
from tongdao.i18n import current, explained, say, tr
from tongdao.policies.i18n import msg

if TYPE_CHECKING:
    from tongdao.policies.model import Policy

LOCALES = ("zh-CN", "en")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``tongdao policy`` and its sub-commands to ``sub``."""
    parser = sub.add_parser(
        "policy",
        help="the rules the broker applies, with their articles",
        description="Rule files (TOML, one per jurisdiction) hold every clock, period, threshold, "
        "grade, mask and share/open rule, each with the article it applies.",
    )
    psub = parser.add_subparsers(dest="policy_command", metavar="COMMAND")
    psub.required = True
    show = psub.add_parser(
        "show",
        help="print every clock, period, threshold and rule with its article",
        description="Print the loaded rules with their articles. With --locale zh-CN the "
        "regulation's own wording (quote) is shown where the file gives it.",
    )
    show.add_argument(
        "--policy",
        default="heilongjiang-2025",
        metavar="NAME|FILE",
        help="bundled policy name or path to a rule file (default: heilongjiang-2025)",
    )
    show.add_argument(
        "--locale", choices=LOCALES, help="output language (default: as for every command)"
    )
    show.add_argument(
        "--on",
        type=_date,
        default=None,
        metavar="YYYY-MM-DD",
        help="show the rule file in force on this day (default: today, Asia/Shanghai)",
    )
    add_home_argument(show)
    add_json_argument(show, lines=True)
    show.set_defaults(handler=show_command)
    install = psub.add_parser(
        "install",
        help="install the successor rule file that takes over when the current one expires",
        description="Validate FILE exactly as `policy check` does and install it in HOME/policies "
        "as the successor of the installed rule files. Each decision uses the file in force on "
        "its date; items already started keep their clocks. A file that leaves a gap between "
        "validity periods (or starts no later than the last one) is refused, naming the dates. "
        "Restart the broker to use it.",
    )
    install.add_argument("file", help="TOML rule file of the new measures")
    install.add_argument(
        "--policy",
        default="heilongjiang-2025",
        metavar="NAME|FILE",
        help="the first rule file of the series (default: heilongjiang-2025)",
    )
    add_home_argument(install)
    add_json_argument(install, lines=True)
    install.set_defaults(handler=install_command)
    check = psub.add_parser(
        "check",
        help="validate a rule file (exit 1 naming file, key and problem)",
        description="Load a rule file exactly as the broker would. Exit 0 when it is complete "
        "and consistent; exit 1 printing the file, the key and the problem otherwise.",
    )
    check.add_argument("file", help="TOML rule file (or a bundled policy name)")
    add_json_argument(check, lines=True)
    check.set_defaults(handler=check_command)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-12-01") from None


def policy_dir(home: str) -> Path:
    """Where this home keeps successor rule files installed with ``tongdao policy install``."""
    return Path(home) / "policies"


def _today() -> dt.date:
    from tongdao.policies.calendar import SHANGHAI

    return dt.datetime.now(dt.UTC).astimezone(SHANGHAI).date()


def _text(description: str, quote: str, locale: str) -> str:
    return quote if locale == "zh-CN" and quote else description


def render(p: Policy, locale: str) -> list[str]:
    """The lines ``tongdao policy show`` prints for ``p`` in ``locale``."""
    from tongdao.policies.i18n import translate as tr

    title = p.title if locale == "zh-CN" else p.title_en
    lines = [f"{title} ({p.jurisdiction})"]
    lines.append(
        "  "
        + tr(
            "valid {start} to {end}",
            locale,
            start=p.valid_from.isoformat(),
            end=p.valid_until.isoformat(),
        )
        + f" [{p.validity_article}]"
    )
    lines.append("  " + tr("rule file {path}", locale, path=p.source))

    lines += ["", tr("Working-day deadlines", locale)]
    for d in p.deadlines.values():
        days = tr("{n} working days", locale, n=d.working_days)
        if d.extension_working_days:
            days += " " + tr(
                "(+{n} extension, at most {k})",
                locale,
                n=d.extension_working_days,
                k=d.max_extensions,
            )
        lines.append(f"  {d.kind:<26} {days} [{d.article}]")
        lines.append(f"      {_text(d.description, d.quote, locale)}")

    lines += ["", tr("Periods", locale)]
    for r in p.periods.values():
        parts = []
        if r.years:
            parts.append(tr("{n} years", locale, n=r.years))
        if r.months:
            parts.append(tr("{n} months", locale, n=r.months))
        lines.append(f"  {r.kind:<26} {' '.join(parts)} [{r.article}]")
        lines.append(f"      {_text(r.description, r.quote, locale)}")

    lines += ["", tr("Thresholds", locale)]
    for t in p.thresholds.values():
        lines.append(f"  {t.kind:<26} {t.value} [{t.article}] {t.description}")
    lines.append(
        f"  {'dp_epsilon / dp_budget':<26} ≤ {p.privacy.max_dp_epsilon} / ≤ "
        f"{p.privacy.max_dp_budget} [{p.privacy.article}]"
    )

    s = p.sharing
    lines += ["", tr("Sharing", locale)]
    lines.append(
        "  "
        + tr("share types: {types}", locale, types=", ".join(s.share_types))
        + f" [{s.share_type_article}]"
    )
    lines.append(
        "  "
        + tr("unconditional: approved after the automatic compliance review", locale)
        + f" [{s.unconditional_article}]"
    )
    lines.append(
        "  "
        + tr("conditional: the provider reviews within the conditional_share_review clock", locale)
        + f" [{s.conditional_article}]"
    )
    lines.append(
        "  "
        + tr("conditional without scope or purposes: treated as unconditional", locale)
        + f" [{s.conditional_without_conditions_article}]"
    )
    lines.append(
        "  "
        + tr("not shared: refused, quoting the entry's legal basis", locale)
        + f" [{s.not_shared_article}]"
    )
    lines.append(
        "  "
        + tr("a request states scenario, method, scope and legal basis", locale)
        + f" [{s.request_contents_article}]"
    )
    lines.append(
        "  " + tr("shared data is bound to its purpose", locale) + f" [{s.purpose_binding_article}]"
    )
    lines.append("  " + tr("methods: {methods}", locale, methods=", ".join(s.methods)))

    o = p.opening
    lines += ["", tr("Open data", locale)]
    lines.append(
        "  " + tr("open types: {types}", locale, types=", ".join(o.open_types)) + f" [{o.article}]"
    )
    if o.personal_requires_consent:
        lines.append(
            "  "
            + tr("personal or secret data is open only with the subjects' consent", locale)
            + f" [{o.article}]"
        )

    lines += ["", tr("Sensitivity grades", locale)]
    for g in p.grades.values():
        fetch = tr("fetch: {mode}", locale, mode=g.fetch)
        if g.fetch == "masked" and g.mask_rule:
            fetch += " " + tr("(mask {rule})", locale, rule=g.mask_rule)
        methods = tr("methods: {methods}", locale, methods=", ".join(sorted(g.allowed_methods)))
        lines.append(f"  {g.name:<20} {g.label}; {fetch}; {methods} [{g.article}]")
    lines.append(
        "  "
        + tr("entry classifications: {values}", locale, values=", ".join(p.classifications))
        + f" [{p.classification_article}]"
    )

    lines += [
        "",
        tr("Masking (keep start / keep end, mask character {char})", locale, char=p.mask_char),
    ]
    for m in p.mask_rules.values():
        lines.append(f"  {m.name:<12} {m.keep_start}/{m.keep_end}")
    if p.field_kinds:
        lines.append(
            "  "
            + tr(
                "by data item: {pairs}",
                locale,
                pairs=", ".join(f"{k}→{v}" for k, v in p.field_kinds.items()),
            )
        )
    return lines


def show_command(args: argparse.Namespace) -> int:
    """Print the loaded policy with the article of every rule."""
    from tongdao.policies.lifecycle import load_schedule
    from tongdao.policies.model import PolicyError

    try:
        schedule = load_schedule(args.policy, policy_dir(args.home))
    except PolicyError as exc:
        raise CommandError(explained(exc, "cannot load the rule file: {reason}")) from None
    day = args.on or _today()
    p = schedule.in_force_on(day)
    warning = schedule.expiry_warning(day)
    if warning is not None:
        print(tr("WARNING: {message}", message=say(warning.message())) + "\n")
    print("\n".join(render(p, args.locale or current())))
    if len(schedule.policies) > 1:
        print("\n" + tr("Rule files in order (each decision uses the one in force on its date):"))
        for q in schedule.policies:
            mark = "  " + tr("<- in force") if q is p else ""
            print(f"  {q.valid_from} – {q.valid_until}  {q.source}{mark}")
    return 0


def install_command(args: argparse.Namespace) -> int:
    """Install a successor rule file (refused whole, naming the dates of any gap)."""
    from tongdao.policies.lifecycle import install_successor
    from tongdao.policies.model import PolicyError

    try:
        schedule, path = install_successor(args.file, args.policy, policy_dir(args.home))
    except PolicyError as exc:
        raise CommandError(msg("refused, nothing installed: {exc}", exc=exc)) from None
    new = schedule.last
    before = schedule.policies[-2]
    print(
        tr(
            "installed {path}: {title}, valid {valid_from} – {valid_until}, following {before} "
            "(valid until {before_until}); restart the broker to use it",
            path=path,
            title=new.title,
            valid_from=new.valid_from,
            valid_until=new.valid_until,
            before=before.source,
            before_until=before.valid_until,
        )
    )
    return 0


def check_command(args: argparse.Namespace) -> int:
    """Validate a rule file: exit 0 when it loads, 1 naming file, key and problem."""
    from tongdao.policies.loader import load_policy
    from tongdao.policies.model import PolicyError

    try:
        p = load_policy(args.file)
    except PolicyError as exc:
        print(tr("INVALID {file}", file=exc.file))
        print("  " + tr("key: {key}", key=exc.key))
        print("  " + tr("problem: {problem}", problem=say(exc.problem)))
        return 1
    print(
        tr(
            "OK {source}: {title}, {deadlines} deadlines, {periods} periods, {thresholds} "
            "thresholds, {grades} grades, valid {valid_from} – {valid_until}",
            source=p.source,
            title=p.title,
            deadlines=len(p.deadlines),
            periods=len(p.periods),
            thresholds=len(p.thresholds),
            grades=len(p.grades),
            valid_from=p.valid_from,
            valid_until=p.valid_until,
        )
    )
    return 0
