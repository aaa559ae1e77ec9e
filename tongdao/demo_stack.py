"""The demo's processes: start them, wait for each to listen, stop them — or keep them running.

Every child writes its ``listening on HOST:PORT`` line to ``logs/<name>.out`` and its log to
``logs/<name>.log``. With ``tongdao demo --keep`` the children run in their own session, so they
outlive the demo and the terminal; ``demo-stack.json`` in the demo directory records their
process ids and addresses, and ``tongdao demo --stop`` reads it to stop them.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tongdao.policies.i18n import msg

STATE_FILE = "demo-stack.json"
STOP_SECONDS = 10.0


class StackError(Exception):
    """A process did not start, or a kept stack cannot be found."""


@dataclass
class Process:
    """A child process whose first ``listening on HOST:PORT`` line gives its address."""

    name: str
    popen: subprocess.Popen[bytes]
    address: str
    log_path: Path


@dataclass
class Launch:
    """A child process started but not yet confirmed listening."""

    name: str
    popen: subprocess.Popen[bytes]
    out_path: Path
    log_path: Path


def launch(name: str, args: list[str], cwd: Path, *, detach: bool = False) -> Launch:
    """Start ``tongdao ARGS`` in ``cwd``; ``detach`` puts it in a session of its own."""
    logs = cwd / "logs"
    logs.mkdir(exist_ok=True)
    out_path, log_path = logs / f"{name}.out", logs / f"{name}.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with out_path.open("wb") as out, log_path.open("wb") as log:
        popen = subprocess.Popen(
            [sys.executable, "-m", "tongdao", *args],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=log,
            env=env,
            start_new_session=detach,
        )
    return Launch(name, popen, out_path, log_path)


def _listening(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    for line in text.splitlines():
        if "listening on" in line:
            return line.rsplit(" ", 1)[-1].strip()
    return ""


def await_listening(started: Launch, deadline: float) -> Process:
    """Wait until the child prints its address (or exits, or the deadline passes)."""
    while time.monotonic() < deadline:
        address = _listening(started.out_path)
        if address:
            return Process(started.name, started.popen, address, started.log_path)
        if started.popen.poll() is not None:
            break
        time.sleep(0.2)
    started.popen.kill()
    tail = started.log_path.read_text(errors="replace")[-2000:]
    raise StackError(
        msg(
            "{name} did not start; see {log_path}:\n{tail}",
            name=started.name,
            log_path=started.log_path,
            tail=tail,
        )
    )


def start_all(
    specs: list[tuple[str, list[str]]],
    cwd: Path,
    started: list[Process],
    *,
    timeout: float,
    detach: bool = False,
) -> None:
    """Start every process at once (they import in parallel), then wait for each to listen."""
    launches = [launch(name, args, cwd, detach=detach) for name, args in specs]
    deadline = time.monotonic() + timeout
    try:
        for item in launches:
            started.append(await_listening(item, deadline))
    except StackError:
        for item in launches:
            if item.popen.poll() is None:
                item.popen.kill()
                item.popen.wait()
        raise


def stop(processes: list[Process]) -> None:
    """Stop child processes: SIGTERM, then SIGKILL after a grace period."""
    for proc in processes:
        if proc.popen.poll() is None:
            proc.popen.send_signal(signal.SIGTERM)
    for proc in processes:
        try:
            proc.popen.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            proc.popen.kill()
            proc.popen.wait()


def save_state(directory: Path, processes: list[Process]) -> Path:
    """Record the kept processes (name, pid, address) for ``tongdao demo --stop``."""
    path = directory / STATE_FILE
    rows = [{"name": p.name, "pid": p.popen.pid, "address": p.address} for p in processes]
    path.write_text(json.dumps({"processes": rows}, indent=2) + "\n", encoding="utf-8")
    return path


def _alive(pid: int) -> bool:
    """The process exists, is not a zombie, and runs ``tongdao`` (a reused pid is left alone)."""
    proc = Path(f"/proc/{pid}")
    if proc.exists():
        try:
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
            cmdline = (proc / "cmdline").read_bytes()
        except (OSError, IndexError):
            return False
        return state != "Z" and b"tongdao" in cmdline
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def stop_kept(directory: Path) -> list[str]:
    """Stop the processes ``tongdao demo --keep`` left running in ``directory``; return their
    names. The homes, logs and store stay."""
    path = directory / STATE_FILE
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))["processes"]
    except FileNotFoundError:
        raise StackError(
            msg(
                "no running demo in {directory} (start one with `tongdao demo --keep`)",
                directory=directory,
            )
        ) from None
    except (OSError, ValueError, KeyError) as exc:
        raise StackError(msg("{path} is unreadable: {exc}", path=path, exc=exc)) from None
    alive = [(str(r["name"]), int(r["pid"])) for r in rows if _alive(int(r["pid"]))]
    for _, pid in alive:
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    while time.monotonic() < deadline and any(_alive(pid) for _, pid in alive):
        time.sleep(0.1)
    for _, pid in alive:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
    path.unlink()
    return [name for name, _ in alive]


def command(*words: str) -> str:
    """A ``tongdao`` command line, quoted for a POSIX shell."""
    return " ".join(["tongdao", *(shlex.quote(w) for w in words)])
