"""Regenerate the Python modules and .pyi stubs from proto/tongdao/v1/*.proto.

Usage: python scripts/gen_proto.py [--check]

--check regenerates into a temporary directory and exits 1 if the committed files differ
(the stale-generated-code test runs this).
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"  # the include root: sources are tongdao/v1/*.proto, package tongdao.v1
PROTO_DIR = PROTO_ROOT / "tongdao" / "v1"


def generate(out: Path) -> list[Path]:
    """Run protoc (from grpcio-tools) on every .proto, writing under ``out``."""
    from grpc_tools import protoc

    sources = sorted(PROTO_DIR.glob("*.proto"))
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{Path(protoc.__file__).parent / '_proto'}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
    ] + [str(s.relative_to(PROTO_ROOT)) for s in sources]
    code = protoc.main(args)
    if code != 0:
        raise SystemExit(f"protoc failed with exit code {code}")
    return sorted((out / "tongdao" / "v1").glob("*_pb2*.py*"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if generated files are stale")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files = generate(Path(tmp))
        stale = []
        for f in files:
            target = PROTO_DIR / f.name
            if args.check:
                if not target.exists() or not filecmp.cmp(f, target, shallow=False):
                    stale.append(f.name)
            else:
                shutil.copyfile(f, target)
        committed = {p.name for p in PROTO_DIR.glob("*_pb2*.py*")}
        extra = committed - {f.name for f in files}
        if args.check and (stale or extra):
            print("stale generated files: " + ", ".join(sorted(stale + list(extra))))
            print("run: python scripts/gen_proto.py")
            return 1
    if not args.check:
        print(f"generated {len(files)} files in {PROTO_DIR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
