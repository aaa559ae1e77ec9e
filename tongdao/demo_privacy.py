"""The privacy-computing part of ``tongdao demo`` (PRIV-3..5): intersection, intersection-sum
and the aggregate across the cities' nodes, each checked against the plaintext."""

from __future__ import annotations

import datetime as dt
import itertools
import random

from tongdao import synthetic
from tongdao.crypto.pki import BROKER_SERVER_NAME
from tongdao.demo import (
    BASIS,
    CITY_MZJ,
    PURPOSE,
    RSJ,
    SCENARIO,
    SW,
    Report,
    city_entry,
)
from tongdao.home import HomeSet
from tongdao.i18n import current, tr
from tongdao.node.client import ConsumerClient
from tongdao.proto.stubs import BrokerStubs
from tongdao.proto.transport import secure_channel, with_locale
from tongdao.v1 import sharing_pb2


def privacy_scenario(
    report: Report,
    home: HomeSet,
    broker: str,
    people: list[dict[str, str]],
    incomes: list[dict[str, str]],
    households: dict[str, list[dict[str, str]]],
) -> None:
    """PRIV-3..5: intersection, intersection-sum and the 8-city aggregate, checked in plaintext."""
    from decimal import Decimal

    consumer = ConsumerClient(
        broker, home.tls(RSJ.code), home.encryption_keys(RSJ.code), RSJ.code, locale=current()
    )
    sw = BrokerStubs.over(
        with_locale(
            secure_channel(broker, home.tls(SW.code), server_name=BROKER_SERVER_NAME), current()
        )
    )
    applicants = [p["id_number"] for p in people[:80]] + [
        synthetic.make_id_number(random.Random(n), "230103", synthetic_date(n))  # noqa: S311
        for n in range(10)
    ]

    report.section(
        tr("Private set intersection: which applicants are registered residents (PRIV-3)")
    )
    req = consumer.file_share_request(
        "gat.population", ["id_number"], ["intersection_size"], PURPOSE, SCENARIO, BASIS
    )
    grant = consumer.get_grant(req.grant_id)
    result = consumer.intersection(grant.token, applicants, "id_number", PURPOSE)
    expected = len(set(applicants) & {p["id_number"] for p in people})
    report.line(
        tr(
            "{n_applicants} applicants ∩ {n_people} residents → size {size} (size-only grant: no "
            "member is revealed to either side)",
            n_applicants=len(applicants),
            n_people=len(people),
            size=result["size"],
        )
    )
    report.check(tr("PSI size equals the plaintext intersection"), result["size"] == expected)

    report.section(tr("Intersection-sum: applicants' taxable income, never disclosed (PRIV-4)"))
    req = consumer.file_share_request(
        "sw.income", ["annual_income"], ["intersection_sum"], PURPOSE, SCENARIO, BASIS
    )
    sw.sharing.DecideShareRequest(
        sharing_pb2.DecideShareRequestRequest(id=req.id, approve=True, reason="用途相符"),
        timeout=10,
    )
    grant = consumer.get_grant(consumer.get_share_request(req.id).grant_id)
    result = consumer.intersection_sum(grant.token, applicants, "annual_income", PURPOSE)
    income_by_id = {r["id_number"]: Decimal(r["annual_income"]) for r in incomes}
    matched = [income_by_id[a] for a in applicants if a in income_by_id]
    report.line(
        tr(
            "{n_applicants} applicants ∩ tax records → {size} people, total annual income "
            "¥{sum:,} (mean ¥{mean:,.2f}); 税务 learned only the sizes ({n_applicants} asked, "
            "{size} matched), no key and not which matched",
            n_applicants=len(applicants),
            size=result["size"],
            sum=result["sum"],
            mean=result["sum"] / max(result["size"], 1),
        )
    )
    report.check(
        tr("intersection size and income sum equal the plaintext answer"),
        result["size"] == len(matched) and result["sum"] == sum(matched),
    )

    report.section(
        tr(
            "Aggregate across {n_city_mzj} cities' nodes (PRIV-5, packed Paillier)",
            n_city_mzj=len(CITY_MZJ),
        )
    )
    tokens = []
    for profile in CITY_MZJ:
        r = consumer.file_share_request(
            city_entry(profile)["code"],
            ["monthly_allowance"],
            ["aggregate"],
            PURPOSE,
            SCENARIO,
            BASIS,
        )
        tokens.append(consumer.get_grant(r.grant_id).token)
    edges = [0, 300, 600, 900, 1200, 3000]
    result = consumer.aggregate(
        tokens, "monthly_allowance", PURPOSE, bounds=(0, 3000), buckets=edges
    )
    values = [Decimal(h["monthly_allowance"]) for rows in households.values() for h in rows]
    mean = sum(values) / len(values)
    variance = sum((v - mean) ** 2 for v in values) / len(values)
    report.line(
        tr(
            "households {count}, total ¥{sum:,}/month, mean ¥{mean:.2f}, standard deviation "
            "¥{deviation:.2f}",
            count=result["count"],
            sum=result["sum"],
            mean=result["mean"],
            deviation=result["variance"].sqrt(),
        )
    )
    bins = ", ".join(f"{k}: {v}" for k, v in result["histogram"].items())
    report.line(tr("histogram: {bins}", bins=bins))
    report.line(tr("the broker added 8 nodes' ciphertexts with the consumer's public key only"))
    expected_hist = [sum(1 for v in values if lo <= v < hi) for lo, hi in itertools.pairwise(edges)]
    report.check(
        tr("count, sum, mean, variance and histogram equal the plaintext answer"),
        result["count"] == len(values)
        and result["sum"] == sum(values)
        and abs(result["mean"] - mean) < Decimal("0.01")
        and abs(result["variance"] - variance) < Decimal("0.01")
        and list(result["histogram"].values()) == expected_hist,
    )


def synthetic_date(n: int) -> dt.date:
    """A birth date for a made-up applicant who is in no registry."""
    return dt.date(1960 + n, 1 + n % 12, 1 + n)
