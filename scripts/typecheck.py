"""Type-check the packages as the wheel lays them out (``tongdao.crypto``, ``tongdao.policies`` …).

Usage: python scripts/typecheck.py [PACKAGE …]   (default: the strict core, tongdao.crypto and
tongdao.policies; any other tongdao.* package may be named, e.g. tongdao.node)

The repository keeps the design card's top-level folders (``crypto/``, ``policies/`` …) and the
wheel installs them under ``tongdao`` (pyproject.toml, ``[tool.setuptools.package-dir]``). mypy
cannot follow that mapping in a checkout, so this script lays the same tree out as symbolic links
in a temporary directory and runs mypy there with the project's configuration.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# import name under tongdao → folder in the repository (the wheel's package-dir mapping)
FOLDERS = {
    "crypto": "crypto",
    "policies": "policies",
    "proto": "proto",
    "v1": "proto/tongdao/v1",
    "broker": "broker",
    "node": "node",
    "benchmarks": "benchmarks",
    "console": "console",
}
DEFAULT = ["tongdao.crypto", "tongdao.policies"]


def lay_out(target: Path) -> Path:
    """Build ``target/tongdao`` from symbolic links and return ``target``."""
    package = target / "tongdao"
    package.mkdir()
    for entry in (ROOT / "tongdao").iterdir():
        if entry.name != "__pycache__":
            (package / entry.name).symlink_to(entry)
    for name, folder in FOLDERS.items():
        (package / name).symlink_to(ROOT / folder)
    return target


def main(argv: list[str] | None = None) -> int:
    packages = (argv if argv is not None else sys.argv[1:]) or DEFAULT
    with tempfile.TemporaryDirectory(prefix="tongdao-typecheck-") as tmp:
        tree = lay_out(Path(tmp))
        env = dict(os.environ, MYPYPATH=str(tree))
        args = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml")]
        for package in packages:
            args += ["-p", package]
        return subprocess.run(args, cwd=ROOT, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
