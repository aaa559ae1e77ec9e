"""An in-process stack: broker and nodes on loopback, mutual TLS, real store (tests, bench)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tongdao import synthetic
from tongdao.broker.kernel.settings import BrokerSettings
from tongdao.broker.server import BrokerConfig, RunningBroker, start_broker
from tongdao.commands.catalogue import entry_from_dict
from tongdao.demo import CITY_MZJ, ENTRIES, GAT, MZT, RSJ, SW, city_entry
from tongdao.home import AUTHORITY, Home
from tongdao.node.client import ConsumerClient
from tongdao.node.config import EntryConfig, NodeConfig
from tongdao.node.server import RunningNode, build_engine, start_node
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

    def stub(self, party: str) -> BrokerStubs:
        return BrokerStubs.over(secure_channel(self.broker.target, self.home.tls(party)))

    def consumer(self, code: str = RSJ.code, **kwargs) -> ConsumerClient:
        return ConsumerClient(
            self.broker.target, self.home.tls(code), self.home.encryption_keys(code), code, **kwargs
        )

    def stop(self) -> None:
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
) -> Stack:
    home = Home(tmp / "home")
    home.create_authority()
    city_profiles = CITY_MZJ if cities else []
    profiles = (GAT, MZT, RSJ, SW, *city_profiles)
    for profile in profiles:
        home.add_department(profile)
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
    nodes: dict[str, RunningNode] = {}
    for profile, entry, csv_name, key in served:
        config = NodeConfig(
            department=profile.code,
            home=home.root,
            listen="127.0.0.1:0",
            state_dir=tmp / f"state-{profile.code}",
            policy="heilongjiang-2025",
            entries=[EntryConfig(entry, f"csv:{csv_name}", key, _grades(entry))],
            base_dir=tmp,
        )
        engine = build_engine(
            config,
            signing_key=home.signing_key(profile.code),
            encryption_keys=home.encryption_keys(profile.code),
            broker_key=home.broker_verify_key(),
        )
        nodes[profile.code] = start_node(engine, home.tls(profile.code), "127.0.0.1:0")
    url = database_url or f"sqlite:///{tmp / 'broker.db'}"
    broker = start_broker(
        BrokerConfig(
            tls=home.tls("broker"),
            signing_key=home.signing_key("broker"),
            database_url=url,
            settings=settings or BrokerSettings(locale="en"),
            public_listen="127.0.0.1:0" if public else "",
        )
    )
    stack = Stack(home, broker, nodes, people, marriages, url, incomes, households)
    authority = stack.stub(AUTHORITY)
    for profile in profiles:
        authority.directory.RegisterDepartment(
            directory_pb2.RegisterDepartmentRequest(
                department=directory_pb2.Department(
                    code=profile.code,
                    name=profile.name,
                    region=profile.region,
                    level=profile.level,
                    node_endpoint=nodes[profile.code].target if profile.code in nodes else "",
                    encryption_public_key=home.encryption_keys(profile.code).public_key,
                    signing_public_key=home.signing_key(profile.code).verify_key.public_key,
                )
            ),
            timeout=10,
        )
    for code, data in ENTRIES.items():
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
