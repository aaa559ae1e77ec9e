"""``tongdao policy``: show the loaded rules with their articles, or check a rule file."""

from __future__ import annotations

import argparse

from tongdao.cli import CommandError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser("policy", help="the rules the broker applies, with their articles")
    psub = parser.add_subparsers(dest="policy_command", metavar="COMMAND")
    psub.required = True
    show = psub.add_parser("show", help="print every clock, period, threshold and rule")
    show.add_argument("--policy", default="heilongjiang-2025", help="bundled name or rule file")
    show.set_defaults(handler=show_command)
    check = psub.add_parser("check", help="validate a rule file (exit 1 naming the problem)")
    check.add_argument("file", help="TOML rule file")
    check.set_defaults(handler=check_command)


def show_command(args: argparse.Namespace) -> int:
    from policies.loader import load_policy
    from policies.model import PolicyError

    try:
        p = load_policy(args.policy)
    except PolicyError as exc:
        raise CommandError(str(exc)) from None
    print(f"{p.title} ({p.title_en})")
    validity = f"valid {p.valid_from} – {p.valid_until} [{p.validity_article}]"
    print(f"  jurisdiction {p.jurisdiction}; {validity}")
    print(f"  source {p.source}")
    print("\nworking-day deadlines")
    for d in p.deadlines.values():
        ext = f" (+{d.extension_working_days} extension)" if d.extension_working_days else ""
        days = f"{d.working_days:>3} working days{ext:<16}"
        print(f"  {d.kind:<26} {days} [{d.article}] {d.description}")
    print("\nperiods")
    for r in p.periods.values():
        span = f"{r.months} months" if r.months else f"{r.years} years"
        print(f"  {r.kind:<26} {span:<14} [{r.article}] {r.description}")
    print("\nthresholds")
    for t in p.thresholds.values():
        print(f"  {t.kind:<26} {t.value:<14} [{t.article}] {t.description}")
    s = p.sharing
    print("\nsharing")
    print(f"  share types {', '.join(s.share_types)} [{s.share_type_article}]")
    print(
        f"  unconditional: approved after automatic compliance review [{s.unconditional_article}]"
    )
    print(
        f"  conditional: provider review [{s.conditional_article}]; without conditions treated "
        f"as unconditional [{s.conditional_without_conditions_article}]"
    )
    print(f"  not shared: refused citing the legal basis [{s.not_shared_article}]")
    print(f"  purpose binding [{s.purpose_binding_article}]; methods {', '.join(s.methods)}")
    print(
        f"\nopen types {', '.join(p.opening.open_types)} [{p.opening.article}]; personal data "
        f"needs consent to be unconditionally open: {p.opening.personal_requires_consent}"
    )
    print("\nsensitivity grades")
    for g in p.grades.values():
        mask = f", mask {g.mask_rule}" if g.fetch == "masked" else ""
        print(
            f"  {g.name:<20} {g.label:<8} fetch {g.fetch}{mask}; methods "
            f"{', '.join(sorted(g.allowed_methods))} [{g.article}]"
        )
    print("\nmask rules (keep start / keep end)")
    for m in p.mask_rules.values():
        print(f"  {m.name:<12} {m.keep_start}/{m.keep_end}")
    if p.field_kinds:
        print("  by data item: " + ", ".join(f"{k}→{v}" for k, v in p.field_kinds.items()))
    return 0


def check_command(args: argparse.Namespace) -> int:
    from policies.loader import load_policy
    from policies.model import PolicyError

    try:
        p = load_policy(args.file)
    except PolicyError as exc:
        print(f"INVALID {exc}")
        return 1
    print(
        f"OK {args.file}: {p.title}, {len(p.deadlines)} deadlines, {len(p.periods)} periods, "
        f"{len(p.grades)} grades, valid {p.valid_from} – {p.valid_until}"
    )
    return 0
