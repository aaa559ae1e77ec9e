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


# what the fresh virtualenv imports must come from its site-packages, never from a checkout
# named on the PYTHONPATH of the test run
INSTALLED_ONLY = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def test_wheel_installs_beside_proto_plus(venv_with_wheel, tmp_path):
    code = (
        "import proto, tongdao.proto.transport, tongdao.v1.catalogue_pb2, tongdao.node.client\n"
        "import tongdao.broker.server, tongdao.cli\n"
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
