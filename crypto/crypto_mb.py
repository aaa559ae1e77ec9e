"""Multi-buffer X25519 from Intel's crypto_mb library (8 lanes of AVX-512 IFMA), through ctypes.

crypto_mb ships in the ``ipp-crypto`` wheel (Intel Cryptography Primitives Library, Apache-2.0;
the code behind Intel's QAT software engine for OpenSSL's X25519) and needs the Intel compiler
runtime from ``intel-cmplr-lib-rt``. ``mbx_x25519_mb8`` computes eight RFC 7748 X25519 functions
in one call, one per 52-bit lane of a 512-bit register; on a CPU with AVX-512 IFMA that is about
four times the throughput of OpenSSL's scalar x86-64 assembly.

This module only loads the library and runs the raw function over a contiguous buffer; input
validation (low-order points, which crypto_mb does not all refuse) is the caller's job, in
:mod:`crypto.psi`. :func:`load` checks the CPU and runs the RFC 7748 known answer before it hands
the library out, so a wrong or unusable build is never used silently.
"""

from __future__ import annotations

import ctypes
import importlib.metadata
import sys
from pathlib import Path

import numpy as np

from tongdao.crypto.errors import ParameterError
from tongdao.policies.i18n import msg

LANES = 8
POINT_BYTES = 32
# the compiler-runtime libraries crypto_mb needs (DT_NEEDED), in dependency order: loading them by
# path first lets the loader find them by soname, as the wheels set no RUNPATH
_RUNTIME = ("libintlc.so.5", "libirng.so", "libimf.so", "libsvml.so")
# RFC 7748 section 5.2, first vector
_KAT_SCALAR = bytes.fromhex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4")
_KAT_U = bytes.fromhex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c")
_KAT_OUT = bytes.fromhex("c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552")
_BASE_U = (9).to_bytes(POINT_BYTES, "little")  # padding for a partial group of 8


class CryptoMbUnavailable(Exception):
    """crypto_mb cannot be used here (not installed, no AVX-512 IFMA, or its self-test failed)."""


def _candidate_dirs() -> list[Path]:
    dirs: list[Path] = []
    for dist in ("ipp-crypto", "intel-cmplr-lib-rt"):
        try:
            files = importlib.metadata.distribution(dist).files or []
        except importlib.metadata.PackageNotFoundError:
            continue
        for f in files:
            if f.name.startswith(("libcrypto_mb.so", "libsvml.so")):
                dirs.append(Path(str(f.locate())).resolve().parent)
    dirs.append(Path(sys.prefix) / "lib")
    return list(dict.fromkeys(dirs))


def _find(name: str, dirs: list[Path]) -> Path:
    for d in dirs:
        if (d / name).is_file():
            return d / name
    raise CryptoMbUnavailable(msg("{name} not found (pip install 'tongdao[psi-fast]')", name=name))


class CryptoMb:
    """The loaded library: batched X25519 over contiguous buffers."""

    def __init__(self, lib: ctypes.CDLL) -> None:
        """Wrap a loaded ``libcrypto_mb``; use :func:`load` rather than this.

        Args:
            lib: the library handle (kept alive by this object).
        """
        self._lib = lib
        fn = lib.mbx_x25519_mb8
        fn.restype = ctypes.c_uint32
        fn.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
        self._x25519_mb8 = fn

    def x25519(self, scalar: bytes, points: bytes) -> tuple[bytes, int]:
        """X25519(scalar, u) for every 32-byte u-coordinate in ``points``.

        Args:
            scalar: 32 bytes (clamped by the library as RFC 7748 says).
            points: ``n × 32`` bytes of u-coordinates; the caller has refused low-order ones.

        Returns:
            ``(n × 32 bytes of results, the OR of the calls' status words)``; a non-zero status
            means some lane failed and the results must not be used.
        """
        if len(scalar) != POINT_BYTES or len(points) % POINT_BYTES:
            raise ParameterError("scalar must be 32 bytes and points a multiple of 32 bytes")
        n = len(points) // POINT_BYTES
        if n == 0:
            return b"", 0
        pad = -n % LANES
        src = np.frombuffer(points + _BASE_U * pad if pad else points, dtype=np.uint8)
        total = n + pad
        out = np.empty(total * POINT_BYTES, dtype=np.uint8)
        key = np.frombuffer(scalar, dtype=np.uint8)
        offsets = np.arange(total, dtype=np.uint64) * np.uint64(POINT_BYTES)
        # one array of pointers per side; call k reads the 8 pointers at entry 8k
        in_ptrs = offsets + np.uint64(src.ctypes.data)
        out_ptrs = offsets + np.uint64(out.ctypes.data)
        key_ptrs = np.full(LANES, key.ctypes.data, dtype=np.uint64)
        fn = self._x25519_mb8
        in_base, out_base, keys = in_ptrs.ctypes.data, out_ptrs.ctypes.data, key_ptrs.ctypes.data
        status = 0
        for offset in range(0, total * 8, LANES * 8):  # 8 lanes × 8-byte pointers
            status |= fn(out_base + offset, keys, in_base + offset)
        return out[: n * POINT_BYTES].tobytes(), status


_loaded: CryptoMb | None = None
_failure: str | None = None


def load() -> CryptoMb:
    """Load crypto_mb once per process, check the CPU, and run the RFC 7748 known answer.

    Returns:
        The loaded library.

    Raises:
        CryptoMbUnavailable: with the reason (kept: later calls raise it again at once).
    """
    global _loaded, _failure
    if _loaded is not None:
        return _loaded
    if _failure is not None:
        raise CryptoMbUnavailable(_failure)
    try:
        _loaded = _load()
    except CryptoMbUnavailable as exc:
        _failure = exc.args[0]
        raise
    return _loaded


def _load() -> CryptoMb:
    if sys.platform != "linux":
        raise CryptoMbUnavailable(msg("crypto_mb is used on Linux only"))
    dirs = _candidate_dirs()
    try:
        for name in _RUNTIME:
            ctypes.CDLL(str(_find(name, dirs)))
        lib = ctypes.CDLL(str(_find("libcrypto_mb.so", dirs)))
    except OSError as exc:
        raise CryptoMbUnavailable(msg("cannot load crypto_mb: {reason}", reason=str(exc))) from None
    lib.mbx_is_crypto_mb_applicable.restype = ctypes.c_int
    lib.mbx_is_crypto_mb_applicable.argtypes = [ctypes.c_uint64]
    if not lib.mbx_is_crypto_mb_applicable(0):
        raise CryptoMbUnavailable(
            msg("this CPU lacks the AVX-512 IFMA instructions crypto_mb needs")
        )
    mb = CryptoMb(lib)
    out, status = mb.x25519(_KAT_SCALAR, _KAT_U * LANES)
    if status or out != _KAT_OUT * LANES:
        raise CryptoMbUnavailable(msg("crypto_mb failed the RFC 7748 known-answer test"))
    return mb
