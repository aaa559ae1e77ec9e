"""What ``tongdao demo`` prints: its report (sections, lines, checks) and the tour of commands to
try against a stack it leaves running."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tongdao.demo_stack import command
from tongdao.demo_trust import AUDITOR, AUDITOR_NAME, password_file
from tongdao.demo_world import BASIS, MZT, PURPOSE, RSJ, SCENARIO
from tongdao.home import AUTHORITY, PASSPHRASE_ENV
from tongdao.i18n import tr


@dataclass
class Report:
    """What the demo checked; printed as it goes."""

    out: Callable[[str], None]
    checks: list[tuple[str, bool]] = field(default_factory=list)

    def section(self, title: str) -> None:
        self.out(f"\n== {title}")

    def line(self, text: str) -> None:
        self.out(f"   {text}")

    def check(self, what: str, ok: bool) -> None:
        self.checks.append((what, ok))
        self.out(f"   [{'ok' if ok else 'FAILED'}] {what}")

    @property
    def ok(self) -> bool:
        return all(ok for _, ok in self.checks)


def _tour(report: Report, directory: Path, broker: str, count: int) -> None:
    """The commands to try against the kept stack (the README's tour), each ready to paste."""

    def party(code: str) -> tuple[str, ...]:
        root = directory / ("authority" if code == AUTHORITY else f"departments/{code}")
        return ("--home", str(root), "--broker", broker, "--as", code)

    rsj, mzt, authority = party(RSJ.code), party(MZT.code), party(AUTHORITY)
    asked = ("--purpose", PURPOSE)
    report.section(
        tr(
            "The stack keeps running: broker on {broker}, {count} processes in all",
            broker=broker,
            count=count,
        )
    )
    steps = [
        (tr("as 哈尔滨市人社局 (hrb.rsj), a consumer: search the catalogue"), [
            command("catalogue", "search", "婚姻", *rsj)]),
        (tr("ask to verify marital status (a conditional share: the provider reviews it)"), [
            command("consumer", "request", "mzt.marriage", "--field", "marital_status",
                    "--method", "verify", *asked, "--scenario", SCENARIO,
                    "--legal-basis", BASIS, *rsj)]),
        (tr("as 民政厅 (hlj.mzt), the provider: review and approve it"), [
            command("provider", "inbox", *mzt),
            command("provider", "decide", "REQUEST_ID", "--approve", *mzt)]),
        (tr("as hrb.rsj: check a claim (ID_NUMBER: any in the first column of marriage.csv)"), [
            command("consumer", "verify", "--grant", "GRANT_ID", "--key", "ID_NUMBER",
                    "--claim", "marital_status=已婚", *asked, *rsj)]),
        (tr("as the authority's auditor {name} ({username}): log in (the demo left the password "
            "in a file only you can read), then the working-day clocks and the ledger",
            name=AUDITOR_NAME, username=AUDITOR), [
            command("login", AUDITOR, "--password-file",
                    str(password_file(directory / "authority", AUDITOR)), *authority),
            command("supervise", "deadlines", *authority),
            command("ledger", "verify", "--remote", *authority)]),
    ]  # fmt: skip
    for what, lines in steps:
        report.line(f"# {what}")  # each `what` is a tr(...) above
        for line in lines:
            report.line(f"  {line}")
    if os.environ.get(PASSPHRASE_ENV):
        report.line(
            tr(
                "# (with {passphrase_env} set as for this run: the keys are encrypted)",
                passphrase_env=PASSPHRASE_ENV,
            )
        )
    report.line(tr("# stop it (homes, logs and store stay):"))
    report.line(f"  {command('demo', '--stop', '--dir', str(directory))}")
