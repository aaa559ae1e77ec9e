"""A real stack in one process: broker and two nodes on loopback port 0, mutual TLS, real store."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from broker.server import BrokerConfig, RunningBroker, start_broker
from broker.services import BrokerSettings
from node.client import ConsumerClient
from node.config import EntryConfig, NodeConfig
from node.server import RunningNode, build_engine, start_node
from proto.tongdao.v1 import broker_pb2, broker_pb2_grpc
from proto.transport import secure_channel
from tongdao import synthetic
from tongdao.commands.catalogue import entry_from_dict
from tongdao.demo import ENTRIES, GAT, MZT, RSJ
from tongdao.home import AUTHORITY, Home

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

    def stub(self, party: str) -> broker_pb2_grpc.BrokerStub:
        return broker_pb2_grpc.BrokerStub(secure_channel(self.broker.target, self.home.tls(party)))

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


def start_stack(tmp: Path, database_url: str | None = None, records: int = 60) -> Stack:
    home = Home(tmp / "home")
    home.create_authority()
    for profile in (GAT, MZT, RSJ):
        home.add_department(profile)
    people = synthetic.population(records)
    marriages = synthetic.marriages(people)
    synthetic.write_csv(tmp / "population.csv", people)
    synthetic.write_csv(tmp / "marriage.csv", marriages)
    nodes: dict[str, RunningNode] = {}
    for profile, entry, csv_name in (
        (GAT, "gat.population", "population.csv"),
        (MZT, "mzt.marriage", "marriage.csv"),
    ):
        config = NodeConfig(
            department=profile.code,
            home=home.root,
            listen="127.0.0.1:0",
            state_dir=tmp / f"state-{profile.code}",
            policy="heilongjiang-2025",
            entries=[EntryConfig(entry, f"csv:{csv_name}", "id_number", _grades(entry))],
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
            settings=BrokerSettings(locale="en"),
        )
    )
    stack = Stack(home, broker, nodes, people, marriages, url)
    authority = stack.stub(AUTHORITY)
    for profile in (GAT, MZT, RSJ):
        authority.RegisterDepartment(
            broker_pb2.RegisterDepartmentRequest(
                department=broker_pb2.Department(
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
        provider = stack.stub(data["provider"])
        provider.CreateCatalogueEntry(
            broker_pb2.CreateCatalogueEntryRequest(entry=entry_from_dict(data)), timeout=10
        )
        provider.SubmitCatalogueEntry(broker_pb2.SubmitCatalogueEntryRequest(code=code), timeout=10)
        authority.PublishCatalogueEntry(
            broker_pb2.PublishCatalogueEntryRequest(code=code), timeout=10
        )
    return stack
