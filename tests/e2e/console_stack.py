"""The console as people use it: a broker process, a console process for the authority and one
for a provider department, people's accounts, and a real headless browser (Debian's chromium
driven by Playwright, never a downloaded browser)."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tongdao.ca_home import enrol_all_locally
from tongdao.commands.catalogue import entry_from_dict
from tongdao.demo import ENTRIES, MZT, RSJ
from tongdao.home import AUTHORITY, Home
from tongdao.local_stack import BASIS, PURPOSE, SCENARIO
from tongdao.policies.loader import resolve_policy_path
from tongdao.proto.stubs import BrokerStubs
from tongdao.proto.transport import secure_channel
from tongdao.v1 import accounts_pb2, catalogue_pb2, common_pb2, directory_pb2, sharing_pb2

CHROMIUM = os.environ.get("TONGDAO_CHROMIUM", "/usr/bin/chromium")
INITIAL = "Initial#Pass2026"
PASSWORD = "Str0ng!Harbin-Snow"
START_SECONDS = 90
PEOPLE = (
    # (username, party, role, name)
    ("wang.fang", AUTHORITY, "operator", "王芳"),
    ("zhao.min", AUTHORITY, "auditor", "赵敏"),
    ("chen.gang", AUTHORITY, "administrator", "陈刚"),
    ("sun.lei", AUTHORITY, "operator", "孙磊"),
    ("li.na", MZT.code, "operator", "李娜"),
    ("qian.yu", AUTHORITY, "auditor", "钱宇"),  # turns on a second factor
)
FRESH = ("zhou.jie", MZT.code, "auditor", "周杰")  # still has its initial password


def browser_path() -> str:
    """The system chromium and Playwright, else fail in CI (CI=true) or skip saying why."""
    problem = ""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problem = "the playwright package is not installed (pip install playwright)"
    if not problem and not Path(CHROMIUM).exists():
        problem = f"no chromium at {CHROMIUM} (apt-get install chromium)"
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"browser tests need a browser in CI: {problem}")
        pytest.skip(f"browser tests skipped: {problem}")
    return CHROMIUM


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    def wait_for(self, pattern: str, deadline: float) -> re.Match[str]:
        while time.monotonic() < deadline:
            for line in self.lines:
                found = re.search(pattern, line)
                if found:
                    return found
            if self.popen.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"{self.name} did not print {pattern!r}: {self.lines[-20:]}")

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def launch(name: str, args: list[str], cwd: Path) -> Proc:
    log = (cwd / f"{name}.log").open("w")
    popen = subprocess.Popen(
        [sys.executable, "-m", "tongdao", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    proc = Proc(name, popen)
    q: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert popen.stdout is not None
        for text in popen.stdout:
            proc.lines.append(text)
        q.put("")

    threading.Thread(target=pump, daemon=True).start()
    return proc


def fast_rules(tmp: Path) -> Path:
    """The rule file with a 2-second checkpoint round, so a fresh entry is soon provable."""
    text = resolve_policy_path("heilongjiang-2025").read_text(encoding="utf-8")
    text = re.sub(
        r"(?m)^checkpoint_interval_seconds = \d+", "checkpoint_interval_seconds = 2", text
    )
    text = re.sub(r"(?m)^reconcile_interval_seconds = \d+", "reconcile_interval_seconds = 2", text)
    path = tmp / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return path


@dataclass
class ConsoleStack:
    home: Home
    broker: str
    authority_url: str
    mzt_url: str
    processes: list[Proc]
    chromium: str

    def stub(self, party: str) -> BrokerStubs:
        return BrokerStubs.over(secure_channel(self.broker, self.home.tls(party)))

    def person(self, username: str) -> BrokerStubs:
        """The broker as ``username`` (one of :data:`PEOPLE`), logged in now."""
        party = next(p for name, p, _, _ in PEOPLE if name == username)
        session = (
            self.stub(party)
            .accounts.Login(
                accounts_pb2.LoginRequest(username=username, password=PASSWORD), timeout=15
            )
            .session_token
        )
        return BrokerStubs.over(secure_channel(self.broker, self.home.tls(party)), session)

    def file_request(self) -> str:
        reply = self.stub(RSJ.code).sharing.FileShareRequest(
            sharing_pb2.FileShareRequestRequest(
                request=sharing_pb2.ShareRequest(
                    entry_code="mzt.marriage",
                    fields=["marital_status"],
                    methods=[common_pb2.QUERY_METHOD_VERIFY],
                    purpose=PURPOSE,
                    scenario=SCENARIO,
                    legal_basis=BASIS,
                )
            ),
            timeout=15,
        )
        return reply.id

    def stop(self) -> None:
        for proc in reversed(self.processes):
            proc.stop()


def _setup(home: Home, broker: str) -> None:
    authority = BrokerStubs.over(secure_channel(broker, home.tls(AUTHORITY)))
    for profile, endpoint in ((MZT, "127.0.0.1:9"), (RSJ, "")):
        authority.directory.RegisterDepartment(
            directory_pb2.RegisterDepartmentRequest(
                department=directory_pb2.Department(code=profile.code, node_endpoint=endpoint),
                certificate_pem=home.tls(profile.code).certificate_pem,
            ),
            timeout=15,
        )
    # the authority's certificate holds its roles only until its first administrator exists:
    # create that person first, then act as them
    people = sorted((*PEOPLE, FRESH), key=lambda person: person[2] != "administrator")
    creator = authority
    for username, party, role, name in people:
        creator.accounts.CreateAccount(
            accounts_pb2.CreateAccountRequest(
                username=username,
                party=party,
                role=role,
                display_name=name,
                initial_password=INITIAL,
            ),
            timeout=15,
        )
        if username == FRESH[0]:
            continue
        own = BrokerStubs.over(secure_channel(broker, home.tls(party)))
        own.accounts.SetPassword(
            accounts_pb2.SetPasswordRequest(
                username=username, current_password=INITIAL, new_password=PASSWORD
            ),
            timeout=15,
        )
        if creator is authority and role == "administrator":
            session = own.accounts.Login(
                accounts_pb2.LoginRequest(username=username, password=PASSWORD), timeout=15
            ).session_token
            creator = BrokerStubs.over(secure_channel(broker, home.tls(AUTHORITY)), session)
    mzt = BrokerStubs.over(secure_channel(broker, home.tls(MZT.code)))
    mzt.catalogue.CreateCatalogueEntry(
        catalogue_pb2.CreateCatalogueEntryRequest(entry=entry_from_dict(ENTRIES["mzt.marriage"])),
        timeout=15,
    )
    mzt.catalogue.SubmitCatalogueEntry(
        catalogue_pb2.SubmitCatalogueEntryRequest(code="mzt.marriage"), timeout=15
    )


def start_console_stack(tmp: Path, chromium: str) -> ConsoleStack:
    home = Home(tmp / "home")
    enrol_all_locally(home, tmp / "ca", (MZT, RSJ))
    rules = str(fast_rules(tmp))
    processes: list[Proc] = []
    try:
        broker = launch(
            "broker",
            [
                "broker",
                "serve",
                "--home",
                str(home.root),
                "--listen",
                "127.0.0.1:0",
                "--database-url",
                f"sqlite:///{tmp / 'broker.db'}",
                "--policy",
                rules,
                "--metrics-listen",
                "127.0.0.1:0",
                "--node-probe-interval",
                "1",
            ],
            tmp,
        )
        processes.append(broker)
        deadline = time.monotonic() + START_SECONDS
        address = broker.wait_for(r"broker listening on (\S+)", deadline).group(1)
        metrics = broker.wait_for(r"metrics and health on port (\d+)", deadline).group(1)
        _setup(home, address)
        urls = []
        for party in (AUTHORITY, MZT.code):
            console = launch(
                f"console-{party}",
                [
                    "console",
                    "serve",
                    "--home",
                    str(home.root),
                    "--as",
                    party,
                    "--broker",
                    address,
                    "--listen",
                    "127.0.0.1:0",
                    "--policy",
                    rules,
                    "--broker-metrics",
                    f"http://127.0.0.1:{metrics}/metrics",
                ],
                tmp,
            )
            processes.append(console)
            urls.append(console.wait_for(r"console for \S+ at (\S+)", deadline).group(1))
        return ConsoleStack(
            home, address, urls[0].rstrip("/"), urls[1].rstrip("/"), processes, chromium
        )
    except BaseException:
        for proc in reversed(processes):
            proc.stop()
        raise


def log_in(page, base: str, username: str, password: str = PASSWORD) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form[action='/login'] button[type=submit]")
