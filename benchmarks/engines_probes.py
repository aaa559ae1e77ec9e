"""What the engines benchmark measures its runs with: each process's CPU and peak memory, and
the bytes a channel carries each way."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import grpc


class ProcessSampler:
    """Samples peak RSS (VmHWM) and CPU time of this process and all its descendants."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peaks: dict[int, dict[str, Any]] = {}
        self._baseline: dict[int, float] = {}  # CPU seconds of each process when the run began
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> ProcessSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._sample()
        self._stop.set()
        self._thread.join()

    def _descendants(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
        out, todo = [], [os.getpid()]
        while todo:  # breadth first: parents are labelled before their workers
            pid = todo.pop(0)
            out.append(pid)
            todo.extend(children.get(pid, []))
        return out

    def _sample(self) -> None:
        tick = os.sysconf("SC_CLK_TCK")
        for pid in self._descendants():
            try:
                with open(f"/proc/{pid}/status") as f:
                    status = dict(
                        line.split(":", 1) for line in f.read().splitlines() if ":" in line
                    )
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            hwm = int(status.get("VmHWM", "0 kB").split()[0]) // 1024
            cpu = (int(fields[11]) + int(fields[12])) / tick
            ppid = int(fields[1])
            label = _label(cmd, pid)
            if label == "worker pool process" and ppid in self.peaks:
                label = f"worker of {self.peaks[ppid]['cmd'].split(' (')[0]}"
            row = self.peaks.setdefault(pid, {"pid": pid, "cmd": label})
            row["peak_rss_mib"] = max(row.get("peak_rss_mib", 0), hwm)
            spent = cpu - self._baseline.get(pid, 0.0)
            row["cpu_seconds"] = max(row.get("cpu_seconds", 0.0), round(spent, 2))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def reset(self) -> None:
        """Start a run: peaks from here on (Linux resets VmHWM), CPU seconds from here on."""
        self.peaks.clear()
        for pid in self._descendants():
            try:
                with open(f"/proc/{pid}/clear_refs", "w") as f:
                    f.write("5")  # resets the peak RSS to the current RSS
            except OSError:
                pass
        self._baseline = {}
        self._sample()
        self._baseline = {pid: row["cpu_seconds"] for pid, row in self.peaks.items()}
        for row in self.peaks.values():
            row["cpu_seconds"] = 0.0


def _label(cmd: str, pid: int) -> str:
    if pid == os.getpid():
        return "consumer (SDK, this process)"
    if "multiprocessing" in cmd or "spawn_main" in cmd:
        return "worker pool process"
    if "broker serve" in cmd:
        return "broker"
    if "node serve" in cmd:
        return "node " + cmd.rsplit("node-", 1)[-1].removesuffix(".toml")
    return cmd[:60]


# ---------------------------------------------------------------- data


class WireCounter(grpc.UnaryUnaryClientInterceptor, grpc.StreamStreamClientInterceptor):
    """Bytes each way of the consumer's calls, counted at its channel (the broker's ledger holds
    no size of a stream, so the benchmark measures the wire itself)."""

    def __init__(self) -> None:
        self.up = 0
        self.down = 0

    def client(self, cls: Any, target: str, *args: Any, **kwargs: Any) -> Any:
        """``cls(target, …)`` with its channel counted."""
        from tongdao.node import client as client_module

        original = client_module.secure_channel

        def counted(*a: Any, **k: Any) -> Any:
            return grpc.intercept_channel(original(*a, **k), self)

        client_module.secure_channel = counted  # type: ignore[assignment]
        try:
            return cls(target, *args, **kwargs)
        finally:
            client_module.secure_channel = original  # type: ignore[assignment]

    def take(self) -> dict[str, int]:
        """The bytes since the last call, and start again."""
        out = {"bytes_to_provider": self.up, "bytes_to_consumer": self.down}
        self.up = self.down = 0
        return out

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        self.up += request.ByteSize()
        response = continuation(details, request)
        self.down += response.result().ByteSize()
        return response

    def intercept_stream_stream(self, continuation: Any, details: Any, requests: Any) -> Any:
        def counted_requests() -> Iterator[Any]:
            for request in requests:
                self.up += request.ByteSize()
                yield request

        call = continuation(details, counted_requests())
        counter = self

        class Counted:
            def __iter__(self) -> Iterator[Any]:
                for reply in call:
                    counter.down += reply.ByteSize()
                    yield reply

            def __getattr__(self, name: str) -> Any:
                return getattr(call, name)

        return Counted()


def process_rows(sampler: ProcessSampler, parties: Sequence[str]) -> list[dict[str, Any]]:
    """The processes of the parties that took part in a run (and their workers), largest first."""

    def took_part(label: str) -> bool:
        base = label.removeprefix("worker of ")
        return any(base == p or base.startswith(p + " (") for p in parties)

    found = [r for r in sampler.peaks.values() if took_part(r["cmd"])]
    return sorted(found, key=lambda r: -r["peak_rss_mib"])
