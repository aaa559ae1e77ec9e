"""``tongdao backup`` / ``tongdao restore``: the broker's store and the broker's part of the home.

A backup is one ``.tar.gz`` (written with mode 0600: it holds the broker's private keys) with
``manifest.json``, ``store/`` (see :mod:`tongdao.broker.ops.store_backup`) and ``home/``:

* ``authority-ca/ca.crt`` and the broker's own folder (its TLS certificate and key, its
  grant-signing key) — what a restored broker needs to serve and sign;
* of every other party only what is public (certificates, ``department.json``, public keys).

Never in a backup: a department's private keys, the authority operator's client key, or the CA's
private key ``authority-ca/ca.key`` (which the authority keeps offline, apart from the broker).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import stat
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from tongdao import __version__
from tongdao.cli import CommandError
from tongdao.commands._config import Option, add_options, read_config
from tongdao.commands._grammar import add_json_argument
from tongdao.home import BROKER, Home
from tongdao.i18n import explained, say, tr
from tongdao.policies.i18n import msg

FORMAT = "tongdao-broker-backup"
FORMAT_VERSION = 1
SECRET_MARK = b"PRIVATE KEY"


def _options() -> tuple[Option, ...]:
    from tongdao.commands.broker import SERVE_OPTIONS

    return tuple(o for o in SERVE_OPTIONS if o.key in ("home", "database-url"))


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    backup = sub.add_parser(
        "backup",
        help="back up the broker's store and keys into one file",
        description=(
            "Write the broker's store (SQLite: online backup; PostgreSQL: one consistent logical "
            "snapshot) and the broker's part of the home (CA certificate, the broker's keys, "
            "other parties' public certificates) into FILE (.tar.gz, mode 0600). Safe while the "
            "broker serves. Never copied: a department's private keys and the CA's private key. "
            "--config reads home and database-url from the broker's config file."
        ),
    )
    backup.add_argument("file", help="the backup file to write (.tar.gz); must not exist")
    add_options(backup, _options())
    add_json_argument(backup, lines=True)
    backup.set_defaults(handler=backup_command)

    restore = sub.add_parser(
        "restore",
        help="restore a backup into a new home and an empty store, then verify the ledger",
        description=(
            "Restore a file written by `tongdao backup`: the home files into --home (which must "
            "not exist yet) and the store into --database-url (a new SQLite file, or an empty "
            "PostgreSQL database or schema, of the same kind as the backup's), migrate it to the "
            "latest schema and verify the ledger with the restored broker key."
        ),
    )
    restore.add_argument("file", help="a file written by `tongdao backup`")
    add_options(restore, _options())
    add_json_argument(restore, lines=True)
    restore.set_defaults(handler=restore_command)


def _resolve(args: argparse.Namespace) -> tuple[Home, str]:
    from tongdao.broker.kernel.db import resolve_database_url
    from tongdao.commands._config import resolve
    from tongdao.commands.broker import SERVE_OPTIONS

    # the broker's own config file: every key checked, only home and database-url used
    values = read_config(args.config, SERVE_OPTIONS) if args.config else {}
    resolve(args, _options(), file_values=values)
    return Home(args.home), resolve_database_url(args.database_url or None)


def broker_home_files(home: Home) -> list[Path]:
    """The home's files a broker backup holds (relative to the home), see the module."""
    broker_dir = home.party_dir(BROKER).resolve()
    ca_key = (home.ca_dir / "ca.key").resolve()
    chosen = []
    for path in sorted(home.root.rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        real = path.resolve()
        if real.is_relative_to(broker_dir):
            chosen.append(path.relative_to(home.root))
            continue
        if real == ca_key or path.suffix == ".key" or SECRET_MARK in path.read_bytes():
            continue
        chosen.append(path.relative_to(home.root))
    return chosen


def _is_secret(data: bytes, name: str) -> bool:
    return name.endswith(".key") or SECRET_MARK in data


def backup_command(args: argparse.Namespace) -> int:
    from tongdao.broker.ops.startup import STORE_ERRORS, explain
    from tongdao.broker.ops.store_backup import BackupError, backup_store

    home, url = _resolve(args)
    if not home.exists():
        raise CommandError(msg("{root} is not a Tongdao home (give --home)", root=home.root))
    target = Path(args.file)
    if target.exists():
        raise CommandError(msg("{target} exists: choose a new file name", target=target))
    files = broker_home_files(home)
    with tempfile.TemporaryDirectory(prefix="tongdao-backup-") as tmp:
        store_dir = Path(tmp) / "store"
        store_dir.mkdir()
        try:
            manifest = backup_store(url, store_dir)
        except BackupError as exc:
            raise CommandError(explained(exc, "cannot back up the store: {reason}")) from None
        except STORE_ERRORS as exc:
            raise CommandError(explain(url, exc)) from None
        info: dict[str, Any] = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "tongdao": __version__,
            "store": manifest.to_dict(),
            "home": [str(f) for f in files],
        }
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            _add_bytes(tar, "manifest.json", json.dumps(info, indent=2).encode())
            for path in sorted(store_dir.iterdir()):
                _add_bytes(tar, f"store/{path.name}", path.read_bytes())
            for rel in files:
                _add_bytes(tar, f"home/{rel.as_posix()}", (home.root / rel).read_bytes())
    rows = sum(manifest.rows.values())
    print(
        tr(
            "backed up the {kind} store ({rows} rows, schema {revision}) and {files} home files "
            "to {target}",
            kind=manifest.kind,
            rows=rows,
            revision=manifest.revision,
            files=len(files),
            target=target,
        )
    )
    return 0


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    member = tarfile.TarInfo(name)
    member.size = len(data)
    member.mode = 0o600 if _is_secret(data, name) else 0o644
    member.mtime = int(dt.datetime.now(dt.UTC).timestamp())
    tar.addfile(member, io.BytesIO(data))


def _safe_name(name: str) -> str:
    parts = Path(name).parts
    if not parts or Path(name).is_absolute() or ".." in parts:
        raise CommandError(msg("the backup holds an unsafe path {name!r}: refusing it", name=name))
    if parts[0] not in ("manifest.json", "store", "home"):
        raise CommandError(
            msg("the backup holds an unexpected path {name!r}: refusing it", name=name)
        )
    return name


def _read_backup(path: Path, folder: Path) -> dict[str, Any]:
    try:
        with tarfile.open(path, mode="r:gz") as tar:
            for member in tar.getmembers():
                name = _safe_name(member.name)
                if member.isdir():
                    continue
                if not member.isfile():
                    raise CommandError(
                        msg("the backup holds a link or device {name!r}: refusing it", name=name)
                    )
                source = tar.extractfile(member)
                assert source is not None  # a regular file
                out = folder / name
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(source.read())
        info = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, tarfile.TarError, ValueError) as exc:
        raise CommandError(
            msg("{path}: not a Tongdao backup ({exc})", path=path, exc=exc)
        ) from None
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise CommandError(msg("{path}: not a Tongdao broker backup", path=path))
    if info.get("version") != FORMAT_VERSION:
        raise CommandError(
            msg("{path}: backup format {v2} is not supported", path=path, v2=info.get("version"))
        )
    return info


def restore_command(args: argparse.Namespace) -> int:
    from tongdao.broker.kernel.db import make_engine, session_factory
    from tongdao.broker.ledger.chain import verify_ledger
    from tongdao.broker.ops.startup import STORE_ERRORS, explain
    from tongdao.broker.ops.store_backup import BackupError, StoreManifest, restore_store

    home, url = _resolve(args)
    if home.root.exists() and any(home.root.iterdir()):
        raise CommandError(
            msg("{root} exists and is not empty: restore into a new home", root=home.root)
        )
    with tempfile.TemporaryDirectory(prefix="tongdao-restore-") as tmp:
        folder = Path(tmp)
        info = _read_backup(Path(args.file), folder)
        manifest = StoreManifest.from_dict(info.get("store", {}))
        try:
            rows = restore_store(folder / "store", manifest, url)
        except BackupError as exc:
            raise CommandError(explained(exc, "cannot restore the store: {reason}")) from None
        except STORE_ERRORS as exc:
            raise CommandError(explain(url, exc)) from None
        source = folder / "home"
        count = 0
        for path in sorted(source.rglob("*")) if source.exists() else ():
            if not path.is_file():
                continue
            out = home.root / path.relative_to(source)
            out.parent.mkdir(parents=True, exist_ok=True)
            data = path.read_bytes()
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            if not _is_secret(data, path.name):
                out.chmod(stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP | stat.S_IROTH)
            count += 1
    engine = make_engine(url)
    try:
        with session_factory(engine).begin() as session:
            verification = verify_ledger(session, home.broker_verify_key())
    finally:
        engine.dispose()
    print(
        tr(
            "restored the {kind} store ({rows} rows) and {count} home files into {root}",
            kind=manifest.kind,
            rows=sum(rows.values()),
            count=count,
            root=home.root,
        )
    )
    if not verification.ok:
        print(tr("ledger BROKEN after restore: {problem}", problem=say(verification.problem)))
        return 1
    print(tr("ledger OK: {length} entries, signed by the broker", length=verification.length))
    return 0
