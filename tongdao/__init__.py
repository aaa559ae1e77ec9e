"""Tongdao (通道): a privacy-computing data-sharing broker for government departments.

Everything the project installs lives under this one import name: ``tongdao.crypto``,
``tongdao.policies``, ``tongdao.proto`` (gRPC plumbing), ``tongdao.v1`` (the generated wire
modules), ``tongdao.broker``, ``tongdao.node`` (provider node and consumer SDK),
``tongdao.benchmarks`` and the command line (``tongdao.cli``, ``tongdao.commands``).

In the repository those packages are the design card's top-level folders (``crypto/``,
``broker/``, …); the wheel maps them under ``tongdao`` (``[tool.setuptools.package-dir]`` in
pyproject.toml). When this package is imported straight from a checkout — the tests, or
``python -m tongdao`` at the repository root — the same mapping is made here, so a checkout and
an installed wheel import identically.
"""

from __future__ import annotations

from pathlib import Path as _Path

__version__ = "0.1.0"


def _map_checkout_folders() -> None:
    here = _Path(__file__).resolve().parent
    root = here.parent
    if not (root / "pyproject.toml").is_file() or not (root / "crypto" / "__init__.py").is_file():
        return  # an installed wheel: the subpackages are inside this directory already
    # tongdao.<folder> → <root>/<folder>; tongdao.v1 → <root>/proto/tongdao/v1.
    for extra in (root, root / "proto" / "tongdao"):
        if str(extra) not in __path__:
            __path__.append(str(extra))


_map_checkout_folders()
