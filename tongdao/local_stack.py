"""An in-process stack: broker and nodes on loopback, mutual TLS, real store (tests, bench).

Every party is enrolled through a CA home of its own (``tmp/ca``): keys are made in ``tmp/home``
(one folder standing in for every party's machine), only requests and bundles pass to the CA. The
broker and nodes check the CA's revocation list (``tmp/home/authority-ca/crl.pem``) on the trust
rule file's interval; :meth:`Stack.revoke` revokes and publishes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tongdao import demo_open, synthetic
from tongdao.broker.kernel.settings import BrokerSettings
from tongdao.broker.server import BrokerConfig, RunningBroker, start_broker
from tongdao.ca_home import CaHome
from tongdao.commands.catalogue import entry_from_dict
from tongdao.crypto.pki import BROKER_SERVER_NAME
from tongdao.demo import CITY_MZJ, ENTRIES, GAT, MZT, RSJ, SW, city_entry
from tongdao.home import AUTHORITY, BROKER, Home
from tongdao.node.client import ConsumerClient
from tongdao.node.config import EntryConfig, NodeConfig
from tongdao.node.server import RunningNode, build_engine, start_node
from tongdao.policies.i18n import msg
from tongdao.policies.trust import load_trust_rules
from tongdao.proto.identity import IdentityInterceptor, RevocationWatcher, file_source, only_broker
from tongdao.proto.stubs import BrokerStubs
from tongdao.proto.transport import secure_channel
from tongdao.v1 import catalogue_pb2, directory_pb2

PURPOSE = "城乡最低生活保障资格审核"
SCENARIO = "低保复核"
BASIS = "《社会救助暂行办法》第十一条"


@dataclass
class Stack:
    home: Home
    broker: RunningBroker
    nodes: dict[str, RunningNode]
    people: list[dict[str, str]]
    marriages: list[dict[str, str]]
    database_url: str
    incomes: list[dict[str, str]]
    households: dict[str, list[dict[str, str]]]
    ca: CaHome | None = None
    watchers: tuple[RevocationWatcher, ...] = ()

    def channel(self, party: str):  # type: ignore[no-untyped-def]
        return secure_channel(
            self.broker.target, self.home.tls(party), server_name=BROKER_SERVER_NAME
        )

    def stub(self, party: str) -> BrokerStubs:
        return BrokerStubs.over(self.channel(party))

    def revoke(self, party: str) -> list[str]:
        """Revoke every certificate of ``party`` and publish the list to the broker and nodes."""
        assert self.ca is not None
        serials = self.ca.revoke(party=party, reason="key_compromise")
        self.ca.publish_to(self.home)
        return serials

    def consumer(self, code: str = RSJ.code, **kwargs) -> ConsumerClient:
        return ConsumerClient(
            self.broker.target, self.home.tls(code), self.home.encryption_keys(code), code, **kwargs
        )

    def stop(self) -> None:
        for watcher in self.watchers:
            watcher.stop()
        self.broker.stop(0)
        for node in self.nodes.values():
            node.stop(0)


def _grades(code: str) -> dict[str, str]:
    return {i["name"]: i["sensitivity"] for i in ENTRIES[code]["data_items"]}


def start_stack(
    tmp: Path,
    database_url: str | None = None,
    records: int = 60,
    cities: bool = False,
    public: bool = False,
    settings: BrokerSettings | None = None,
    policy: str = "heilongjiang-2025",
    clock: Callable[[], dt.datetime] | None = None,
    node_overrides: Mapping[str, Mapping[str, Any]] | None = None,
    open_data: bool = False,
) -> Stack:
    home = Home(tmp / "home")
    ca = CaHome(tmp / "ca")
    ca.init()
    loopback = ("127.0.0.1",)
    ca.enrol_locally(home, BROKER, role="broker", server_names=loopback)
    ca.enrol_locally(home, AUTHORITY, role="administrator")
    city_profiles = CITY_MZJ if cities else []
    profiles = (GAT, MZT, RSJ, SW, *city_profiles)
    for profile in profiles:
        ca.enrol_locally(
            home, profile.code, role="department", profile=profile, server_names=loopback
        )
    crl = str(ca.publish_to(home))
    interval = load_trust_rules().refresh_seconds
    ca_pem = home.tls(BROKER).ca_pem
    node_watcher = RevocationWatcher(ca_pem, file_source(crl), interval=interval).start()
    broker_watcher = RevocationWatcher(ca_pem, file_source(crl), interval=interval).start()
    node_identity = IdentityInterceptor(
        node_watcher, accept=only_broker, describe=msg("only the broker may call a node")
    )
    people = synthetic.population(records)
    marriages = synthetic.marriages(people)
    incomes = synthetic.incomes(people)
    synthetic.write_csv(tmp / "population.csv", people)
    synthetic.write_csv(tmp / "marriage.csv", marriages)
    synthetic.write_csv(tmp / "income.csv", incomes)
    served = [
        (GAT, "gat.population", "population.csv", "id_number"),
        (MZT, "mzt.marriage", "marriage.csv", "id_number"),
        (SW, "sw.income", "income.csv", "id_number"),
    ]
    households = {}
    for n, profile in enumerate(city_profiles):
        rows = synthetic.subsistence_households(profile.region, 40 + 5 * n, seed=n)
        households[profile.code] = rows
        synthetic.write_csv(tmp / f"{profile.code}.csv", rows)
        served.append((profile, city_entry(profile)["code"], f"{profile.code}.csv", "household_id"))
    extra: dict[str, list[EntryConfig]] = {}
    if open_data:  # 民政厅 also serves its open entries (tongdao/demo_open.py)
        homes = demo_open.care_homes(30)
        tables = (homes, demo_open.care_subsidies(homes))
        for data, rows in zip(demo_open.OPEN_ENTRIES, tables, strict=True):
            synthetic.write_csv(tmp / f"{data['code']}.csv", rows)
            grades = {i["name"]: i["sensitivity"] for i in data["data_items"]}
            extra.setdefault(MZT.code, []).append(
                EntryConfig(data["code"], f"csv:{data['code']}.csv", data["key_field"], grades)
            )
    nodes: dict[str, RunningNode] = {}
    for profile, entry, csv_name, key in served:
        config = NodeConfig(
            department=profile.code,
            home=home.root,
            listen="127.0.0.1:0",
            state_dir=tmp / f"state-{profile.code}",
            policy="heilongjiang-2025",
            entries=[
                dataclasses.replace(
                    EntryConfig(entry, f"csv:{csv_name}", key, _grades(entry)),
                    **(node_overrides or {}).get(entry, {}),
                ),
                *extra.get(profile.code, []),
            ],
            base_dir=tmp,
        )
        engine = build_engine(
            config,
            signing_key=home.signing_key(profile.code),
            encryption_keys=home.encryption_keys(profile.code),
            broker_key=home.broker_verify_key(),
        )
        if clock is not None:
            engine.clock = clock
        nodes[profile.code] = start_node(
            engine,
            home.tls_source(profile.code, server=True),
            "127.0.0.1:0",
            identity=node_identity,
        )
    url = database_url or f"sqlite:///{tmp / 'broker.db'}"
    broker = start_broker(
        BrokerConfig(
            tls=home.tls(BROKER),
            server_tls=home.tls_source(BROKER, server=True),
            identity=IdentityInterceptor(broker_watcher),
            signing_key=home.signing_key(BROKER),
            database_url=url,
            settings=settings or BrokerSettings(locale="en"),
            public_listen="127.0.0.1:0" if public else "",
            policy=policy,
            clock=clock,
        )
    )
    stack = Stack(
        home,
        broker,
        nodes,
        people,
        marriages,
        url,
        incomes,
        households,
        ca,
        (node_watcher, broker_watcher),
    )
    authority = stack.stub(AUTHORITY)
    for profile in profiles:
        # the broker takes the profile and keys from the department's CA-signed certificate
        authority.directory.RegisterDepartment(
            directory_pb2.RegisterDepartmentRequest(
                department=directory_pb2.Department(
                    code=profile.code,
                    node_endpoint=nodes[profile.code].target if profile.code in nodes else "",
                ),
                certificate_pem=home.tls(profile.code).certificate_pem,
            ),
            timeout=10,
        )
    published = list(ENTRIES.items())
    if open_data:
        published += [(d["code"], d) for d in demo_open.OPEN_ENTRIES]
    for code, data in published:
        if data["provider"] not in {p.code for p in profiles}:
            continue
        provider = stack.stub(data["provider"])
        provider.catalogue.CreateCatalogueEntry(
            catalogue_pb2.CreateCatalogueEntryRequest(entry=entry_from_dict(data)), timeout=10
        )
        provider.catalogue.SubmitCatalogueEntry(
            catalogue_pb2.SubmitCatalogueEntryRequest(code=code), timeout=10
        )
        authority.catalogue.PublishCatalogueEntry(
            catalogue_pb2.PublishCatalogueEntryRequest(code=code), timeout=10
        )
    return stack
