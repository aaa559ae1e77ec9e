"""Every service, RPC, message and field of the v1 contract carries a leading comment, so the
generated stubs and a descriptor set built with source info explain themselves."""

from __future__ import annotations

from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2

ROOT = Path(__file__).resolve().parents[2]
PROTO_ROOT = ROOT / "proto"

# SourceCodeInfo paths: FileDescriptorProto field numbers
MESSAGE, SERVICE = 4, 6
FIELD, NESTED, METHOD = 2, 3, 2


def _descriptor_set(tmp_path: Path) -> descriptor_pb2.FileDescriptorSet:
    from grpc_tools import protoc

    out = tmp_path / "v1.pb"
    sources = sorted(
        p.relative_to(PROTO_ROOT).as_posix() for p in PROTO_ROOT.glob("tongdao/v1/*.proto")
    )
    code = protoc.main(
        [
            "grpc_tools.protoc",
            f"-I{PROTO_ROOT}",
            f"-I{Path(protoc.__file__).parent / '_proto'}",
            "--include_source_info",
            f"--descriptor_set_out={out}",
            *sources,
        ]
    )
    assert code == 0
    return descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())


def _uncommented(file: descriptor_pb2.FileDescriptorProto) -> list[str]:
    comments = {
        tuple(loc.path): loc.leading_comments.strip() for loc in file.source_code_info.location
    }
    missing = []

    def message(msg: descriptor_pb2.DescriptorProto, path: tuple[int, ...], name: str) -> None:
        if not comments.get(path):
            missing.append(name)
        for i, f in enumerate(msg.field):
            if not comments.get((*path, FIELD, i)):
                missing.append(f"{name}.{f.name}")
        for i, nested in enumerate(msg.nested_type):
            message(nested, (*path, NESTED, i), f"{name}.{nested.name}")

    for i, msg in enumerate(file.message_type):
        message(msg, (MESSAGE, i), msg.name)
    for i, service in enumerate(file.service):
        if not comments.get((SERVICE, i)):
            missing.append(service.name)
        for j, method in enumerate(service.method):
            if not comments.get((SERVICE, i, METHOD, j)):
                missing.append(f"{service.name}.{method.name}")
    return missing


def test_every_service_rpc_message_and_field_is_commented(tmp_path: Path) -> None:
    files = _descriptor_set(tmp_path).file
    assert {f.name for f in files} >= {"tongdao/v1/catalogue.proto", "tongdao/v1/query.proto"}
    missing = {f.name: _uncommented(f) for f in files}
    assert not {name: items for name, items in missing.items() if items}


@pytest.mark.parametrize(
    "service", ["Directory", "Catalogue", "Sharing", "Query", "Supervision", "Ledger"]
)
def test_one_service_per_context_in_its_own_file(service: str, tmp_path: Path) -> None:
    files = _descriptor_set(tmp_path).file
    (owner,) = [f.name for f in files if any(s.name == service for s in f.service)]
    assert owner == f"tongdao/v1/{service.lower()}.proto"
