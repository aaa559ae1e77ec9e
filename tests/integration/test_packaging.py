"""The wheel installs one import name, ``tongdao``, and lives beside proto-plus.

proto-plus (every Google Cloud client library depends on it) installs a top-level ``proto``
package; a wheel that also wrote ``site-packages/proto/`` would have one overwrite the other. This
builds the wheel, installs it with proto-plus into a fresh virtual environment and imports both.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FOLDER_OF = {
    "tongdao": "tongdao",
    "tongdao/proto": "proto",
    "tongdao/v1": "proto/tongdao/v1",
    "tongdao/crypto": "crypto",
    "tongdao/policies": "policies",
    "tongdao/broker": "broker",
    "tongdao/node": "node",
    "tongdao/benchmarks": "benchmarks",
    "tongdao/console": "console",
}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (built,) = out.glob("tongdao-*.whl")
    return built


@pytest.fixture(scope="module")
def venv_with_wheel(wheel, tmp_path_factory) -> Path:
    """A fresh venv holding only the wheel and proto-plus; third-party deps come from ours."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    # The test environment's packages (grpcio, protobuf …) without its editable tongdao: a path
    # added by a .pth file is not itself a site directory, so the editable finder stays out.
    (site / "test-environment.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--target",
            str(site),
            str(wheel),
            "proto-plus",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return python


def test_wheel_holds_every_package_of_the_checkout_and_nothing_else_at_top_level(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top == {"tongdao"}
    shipped = {Path(n).parent.as_posix() for n in names if n.endswith("__init__.py")}
    for prefix, folder in FOLDER_OF.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder).as_posix()
            package = prefix if relative == "." else f"{prefix}/{relative}"
            if package.startswith("tongdao/proto/tongdao"):
                continue  # the generated modules ship once, as tongdao/v1
            assert package in shipped, f"{init.relative_to(ROOT)} is not in the wheel"
    for marker in ("tongdao/py.typed", "tongdao/crypto/py.typed", "tongdao/node/py.typed"):
        assert marker in names, marker
    assert "tongdao/policies/rules/heilongjiang-2025.toml" in names
    # the console's templates, style sheet and both catalogues
    for data in (
        "tongdao/console/templates/base.html",
        "tongdao/console/static/console.css",
        "tongdao/policies/locales/zh_CN/LC_MESSAGES/console.po",
        "tongdao/policies/locales/en/LC_MESSAGES/console.po",
    ):
        assert data in names, data


# what the fresh virtualenv imports must come from its site-packages, never from a checkout
# named on the PYTHONPATH of the test run
INSTALLED_ONLY = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def test_wheel_installs_beside_proto_plus(venv_with_wheel, tmp_path):
    code = (
        "import proto, tongdao.proto.transport, tongdao.v1.catalogue_pb2, tongdao.node.client\n"
        "import tongdao.broker.server, tongdao.cli, tongdao.console.app\n"
        "assert hasattr(proto, 'Message'), proto.__file__  # proto-plus, untouched\n"
        f"assert not tongdao.v1.catalogue_pb2.__file__.startswith({str(ROOT)!r})\n"
        "print(proto.__file__)\n"
    )
    result = subprocess.run(
        [str(venv_with_wheel), "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env=INSTALLED_ONLY,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "proto/__init__.py" in result.stdout


CONSUMER_PROGRAM = '''\
"""An integrator's program: every public call of the consumer SDK, typed end to end."""

from decimal import Decimal

from tongdao.crypto.envelope import EncryptionKeyPair
from tongdao.node.client import ClientError, ConsumerClient
from tongdao.node.results import Aggregate, FetchedRecord, Intersection, Verification
from tongdao.proto.transport import TlsMaterial


def use(client: ConsumerClient) -> list[str]:
    request = client.file_share_request(
        "gat.population", ["name"], ["fetch", "verify"], "purpose", "scenario", "basis"
    )
    status: str = request.status
    articles: list[str] = list(request.decision.articles)
    again = client.get_share_request(request.id)
    mine = client.list_share_requests(role="consumer", status=status)
    decided = client.decide_share_request(again.id, approve=False, reason="no")
    grant = client.get_grant(decided.grant_id)
    token: str = grant.token
    expires: str = grant.expires_at
    rows: list[FetchedRecord] = client.fetch(token, ["230102199001011234"], ["name"], "purpose")
    names = [str(r["fields"].get("name")) for r in rows if r["found"]]
    check: Verification = client.verify(token, "230102199001011234", {"name": "x"}, "purpose")
    matched: bool = all(check["matches"].values())
    psi: Intersection = client.intersection(token, ["a", "b"], "id_number", "purpose")
    members: list[str] = psi.get("members", [])
    both = client.intersection_sum(token, ["a"], "annual_income", "purpose")
    total: Decimal = both["sum"]
    stats: Aggregate = client.aggregate([token], "allowance", "purpose", bounds=(0, 3000))
    mean: Decimal | None = stats.get("mean")
    histogram: dict[str, int] = stats["histogram"]
    print(articles, mine, expires, matched, members, total, mean, histogram, psi["size"])
    return names


def main() -> None:
    tls = TlsMaterial(b"ca", b"certificate", b"key")
    with ConsumerClient("127.0.0.1:9", tls, EncryptionKeyPair.generate(), "hrb.rsj") as client:
        try:
            print(use(client))
        except ClientError as exc:
            code: str = exc.code
            print(code, exc.message)
'''

LEAKING_PROGRAM = """\
from tongdao.node.client import ConsumerClient


def leak(client: ConsumerClient) -> None:
    print(client._call(print, None))  # the private transport helper is untyped on purpose
"""


def _mypy(venv_python: Path, program: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--python-executable",
            str(venv_python),
            "--strict",
            "--disallow-any-expr",
            "--no-incremental",
            "--cache-dir",
            os.devnull,
            str(program),
        ],
        cwd=program.parent,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        env=INSTALLED_ONLY,
    )


def test_a_consumer_program_type_checks_against_the_installed_sdk(venv_with_wheel, tmp_path):
    program = tmp_path / "consumer.py"
    program.write_text(CONSUMER_PROGRAM, encoding="utf-8")
    result = _mypy(venv_with_wheel, program)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found in 1 source file" in result.stdout
    # the same check does see Any where the SDK lets it out (so the success above means it)
    leaking = tmp_path / "leaking.py"
    leaking.write_text(LEAKING_PROGRAM, encoding="utf-8")
    result = _mypy(venv_with_wheel, leaking)
    assert result.returncode == 1 and 'has type "Any"' in result.stdout, result.stdout
