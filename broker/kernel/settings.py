"""Operator settings of the broker (not regulation rules: those live in the policy file)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tongdao.policies.lifecycle import EXPIRY_WARNING_DAYS
from tongdao.proto.edge import ServerLimits


@dataclass
class BrokerSettings:
    """Operator settings (not regulation rules, which live in the policy file)."""

    issuer: str = "broker"
    default_validity_days: int = 365
    max_validity_days: int = 3 * 365
    default_quota: int = 1000
    max_quota: int = 1_000_000
    locale: str = "zh-CN"
    # warn (start log, supervise, health details) this many days before the last rule file ends
    policy_expiry_warning_days: int = EXPIRY_WARNING_DAYS
    server: ServerLimits = field(default_factory=ServerLimits)
    """Threads, concurrent calls, stream caps, keepalive and idle timeouts of the listener."""
