"""What ``/readyz`` checks: the store answers, its schema is at the latest migration, and the rule
file the broker loaded is in force today."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, inspect, text

from tongdao.policies.model import Policy


@dataclass(frozen=True)
class Check:
    """One readiness check's outcome. ``detail`` names what was checked, never a secret."""

    name: str
    ok: bool
    detail: str


def safe_url(engine: Engine) -> str:
    """The engine's URL with the password removed."""
    return engine.url.render_as_string(hide_password=True)


def check_database(engine: Engine) -> Check:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        return Check("database", False, f"{safe_url(engine)} unreachable ({type(exc).__name__})")
    return Check("database", True, safe_url(engine))


def check_migrations(engine: Engine) -> Check:
    from alembic.script import ScriptDirectory

    from tongdao.broker.kernel.db import MIGRATIONS_DIR

    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    try:
        with engine.connect() as connection:
            # read directly: Alembic's MigrationContext logs two lines per call, and probes
            # come every few seconds
            if not inspect(connection).has_table("alembic_version"):
                current = None
            else:
                current = connection.execute(
                    text("SELECT version_num FROM alembic_version")
                ).scalar_one_or_none()
    except Exception as exc:
        return Check("migrations", False, f"cannot read the schema revision ({type(exc).__name__})")
    if current != head:
        return Check(
            "migrations", False, f"schema at {current or 'nothing'}, latest is {head}: upgrade it"
        )
    return Check("migrations", True, f"schema at {head}")


def check_policy(policy: Policy, today: dt.date) -> Check:
    span = f"{policy.valid_from} to {policy.valid_until}"
    if not policy.is_valid_on(today):
        return Check("policy", False, f"{policy.source}: in force {span}, not on {today}")
    return Check("policy", True, f"{policy.source}: in force {span}")


def readiness_checks(
    engine: Engine, policy_on: Callable[[dt.date], Policy], today: Callable[[], dt.date]
) -> Callable[[], list[Check]]:
    """All checks, run afresh on every call; ``policy_on`` names the rule file in force on a day
    (a successor installed with `tongdao policy install` takes over when its predecessor ends)."""

    def run() -> list[Check]:
        day = today()
        return [check_database(engine), check_migrations(engine), check_policy(policy_on(day), day)]

    return run
