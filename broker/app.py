"""The composition root: every context's service, wired together.

The contexts depend on each other only through their service objects, and only downwards:
directory ← supervision ← catalogue ← sharing ← relay, each appending to the ledger. The one
upward question (how many live grants use an entry, asked by catalogue revocation) is a port the
catalogue declares (:class:`~tongdao.broker.catalogue.base.GrantsInUse`) and this module wires
to the sharing service.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from tongdao.broker.cases.service import TypicalCaseService
from tongdao.broker.catalogue.service import CatalogueService
from tongdao.broker.directory.accounts import TOTP_PURPOSE, AccountService
from tongdao.broker.directory.service import DirectoryService
from tongdao.broker.disputes.service import DisputeService
from tongdao.broker.kernel.context import AUTHORITY, Kernel
from tongdao.broker.kernel.paging import Pager
from tongdao.broker.kernel.settings import BrokerSettings
from tongdao.broker.ledger.chain import Ledger
from tongdao.broker.ledger.service import LedgerService
from tongdao.broker.opendata.service import OpenDataService
from tongdao.broker.opendata.withdrawals import OpenDataWithdrawals
from tongdao.broker.relay.service import RelayService
from tongdao.broker.sharing.requests import ServiceRequests
from tongdao.broker.sharing.service import SharingService
from tongdao.broker.supervision.findings import MisuseDetector
from tongdao.broker.supervision.orders import RectificationOrders
from tongdao.broker.supervision.service import SupervisionService
from tongdao.crypto.at_rest import SealedSecrets
from tongdao.crypto.signing import SigningKey, VerifyKey
from tongdao.policies.calendar import WorkingDayCalendar
from tongdao.policies.i18n import msg
from tongdao.policies.lifecycle import PolicySchedule
from tongdao.policies.model import Policy
from tongdao.proto.errors import NotFound


@dataclass(frozen=True)
class BrokerServices:
    """The broker's contexts, one service each (see docs/architecture.md)."""

    kernel: Kernel
    directory: DirectoryService
    accounts: AccountService
    supervision: SupervisionService
    catalogue: CatalogueService
    sharing: SharingService
    requests: ServiceRequests
    relay: RelayService
    ledger: LedgerService
    findings: MisuseDetector
    orders: RectificationOrders
    disputes: DisputeService
    cases: TypicalCaseService
    opendata: OpenDataService


def build_services(
    *,
    policy: Policy,
    calendar: WorkingDayCalendar,
    signing_key: SigningKey,
    ledger: Ledger,
    settings: BrokerSettings | None = None,
    clock: Callable[[], dt.datetime] | None = None,
    policies: PolicySchedule | None = None,
    authority_ca_pem: bytes = b"",
) -> BrokerServices:
    """Wire every context's service over one kernel and one ledger chain.

    ``policies``: the series of rule files starting with ``policy`` (its installed successors);
    without it ``policy`` alone applies. ``authority_ca_pem`` is the CA that departments'
    certificates must come from when the directory registers them from a certificate.
    """
    kernel = Kernel(
        policy,
        calendar,
        settings or BrokerSettings(),
        policies=policies,
        pager=Pager.from_seed(signing_key.private_key),
    )
    if clock is not None:
        kernel.clock = clock
    directory = DirectoryService(kernel=kernel, ledger=ledger, authority_ca_pem=authority_ca_pem)
    supervision = SupervisionService(kernel=kernel, ledger=ledger, directory=directory)
    catalogue = CatalogueService(
        kernel=kernel, ledger=ledger, directory=directory, supervision=supervision
    )
    sharing = SharingService(
        kernel=kernel,
        ledger=ledger,
        directory=directory,
        catalogue=catalogue,
        supervision=supervision,
        signing_key=signing_key,
    )
    catalogue.grants_in_use = sharing.grants_in_use  # the catalogue's port, answered by sharing
    supervision.due_moved.append(sharing.due_moved)  # a recounted clock's date, shown by sharing
    # misuse detection's port on the grants, answered by sharing
    findings = MisuseDetector(kernel=kernel, ledger=ledger, directory=directory, grants=sharing)
    disputes = DisputeService(
        kernel=kernel, ledger=ledger, directory=directory, supervision=supervision
    )
    requests = ServiceRequests(sharing)

    def dispute_parties(session: Session, kind: str, subject_id: str) -> tuple[str, str]:
        # the user and the provider of what a dispute is about, asked of the context that owns it
        if kind == "share_request":
            req = sharing.get_share_request(session, subject_id)
            return req.consumer, req.provider
        if kind == "grant":
            g = sharing.grant_view(session, subject_id)
            return g.consumer, g.provider
        if kind == "correction":
            sr = requests.get(session, AUTHORITY, subject_id)
            if sr.kind != "correction":
                raise NotFound(
                    msg("no correction {subject_id!r}", subject_id=subject_id), field="subject_id"
                )
            return sr.filed_by, sr.provider
        finding = findings.finding(session, subject_id)
        return finding.consumer, finding.provider

    disputes.parties_of = dispute_parties

    def grant_facts(session: Session, grant_id: str) -> tuple[str, str]:
        grant = sharing.grant(session, grant_id)
        return grant.consumer, grant.entry_code

    cases = TypicalCaseService(
        kernel=kernel, ledger=ledger, directory=directory, grant_facts=grant_facts
    )
    withdrawals = OpenDataWithdrawals(
        kernel=kernel, ledger=ledger, directory=directory, catalogue=catalogue
    )
    catalogue.open_withdrawn = withdrawals.withdrawn_entries  # the catalogue's port
    relay = RelayService(
        kernel=kernel, ledger=ledger, directory=directory, catalogue=catalogue, sharing=sharing
    )
    return BrokerServices(
        kernel=kernel,
        directory=directory,
        accounts=AccountService(
            kernel=kernel,
            ledger=ledger,
            directory=directory,
            sealer=SealedSecrets.derive(signing_key.private_key, TOTP_PURPOSE),
        ),
        supervision=supervision,
        catalogue=catalogue,
        sharing=sharing,
        requests=requests,
        disputes=disputes,
        cases=cases,
        opendata=OpenDataService(
            kernel=kernel,
            ledger=ledger,
            directory=directory,
            catalogue=catalogue,
            sharing=sharing,
            requests=requests,
            withdrawals=withdrawals,
        ),
        relay=relay,
        ledger=LedgerService(
            chain=ledger,
            directory=directory,
            verify_key=VerifyKey(signing_key.verify_key.public_key),
            rules=policy.ledger,
        ),
        findings=findings,
        orders=RectificationOrders(
            kernel=kernel,
            supervision=supervision,
            grant_view=sharing.grant_view,
            change_status=lambda session, actor, grant_id, change, ground, reason: (
                sharing.change_grant_status(
                    session, actor, grant_id, change, ground, reason, on_behalf_of_rules=True
                )
            ),
        ),
    )
