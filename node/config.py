"""The node's configuration file (TOML).

Example::

    department = "hlj.gat"        # must match the certificate CN in the home directory
    home = "/srv/tongdao-home"    # certificates and keys (tongdao init)
    listen = "127.0.0.1:7501"     # port 0 = any free port; the bound address is printed
    state_dir = "node-state"      # replay ids and per-grant use (relative to this file)
    policy = "heilongjiang-2025"  # masking and grade rules
    revocation_list = "crl.pem"   # the authority's revocation list, re-read every few seconds
                                  # (default: HOME/authority-ca/crl.pem)

    [[entries]]
    code = "gat.population"
    source = "csv:population.csv"           # or "sql:postgresql+psycopg://user@host/db#table"
    key_field = "id_number"
    casefold_keys = true                    # compare keys case-insensitively (ID check char x/X)

    region_field = "district"               # SHR-1: the column holding each record's region
    read_only = false                       # true: corrections (Art.24) are refused
    [entries.grades]                        # data item → sensitivity grade (as in the catalogue)
    name = "personal"                       # a column without a grade is never served
    [entries.region_codes]                  # optional: region_field's values → region codes
    "南岗区" = "230103"                     # (without it the column holds the codes)

Unknown keys are refused (a misspelt ``casefold_keys`` would otherwise be silently ignored).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tongdao.policies.i18n import msg, os_reason, syntax_error


class ConfigError(Exception):
    """The configuration file is wrong; the message names the file, key and problem."""


@dataclass(frozen=True)
class EntryConfig:
    code: str
    source: str
    key_field: str
    grades: dict[str, str]
    casefold_keys: bool = False
    region_field: str = ""
    region_codes: dict[str, str] = field(default_factory=dict)
    read_only: bool = False  # corrections (Art.24) are refused: the node never writes the source


@dataclass(frozen=True)
class NodeConfig:
    department: str
    home: Path
    listen: str
    state_dir: Path
    policy: str
    entries: list[EntryConfig] = field(default_factory=list)
    base_dir: Path = Path(".")
    revocation_list: Path | None = None

    @property
    def revocation_list_path(self) -> Path:
        """The revocation list file (default: the one in the home's authority-ca folder)."""
        return self.revocation_list or self.home / "authority-ca" / "crl.pem"


def _get(table: dict[str, Any], key: str, where: str, kind: type, default: Any = None) -> Any:
    value = table.get(key, default)
    if value is None:
        raise ConfigError(msg("{where}{key}: missing", where=where, key=key))
    if not isinstance(value, kind):
        raise ConfigError(
            msg(
                "{where}{key}: must be a {type_name}", where=where, key=key, type_name=kind.__name__
            )
        )
    return value


_TOP_KEYS = frozenset(
    {"department", "home", "listen", "state_dir", "policy", "entries", "revocation_list"}
)
_ENTRY_KEYS = frozenset(
    {
        "code",
        "source",
        "key_field",
        "grades",
        "casefold_keys",
        "region_field",
        "region_codes",
        "read_only",
    }
)
REGION_CODE = re.compile(r"[0-9]{6}")


def _refuse_unknown(table: dict[str, Any], known: frozenset[str], where: str) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(
            msg(
                "{where}{v1}: unknown key (expected one of {v2})",
                where=where,
                v1=unknown[0],
                v2=", ".join(sorted(known)),
            )
        )


def load_node_config(path: str | Path) -> NodeConfig:
    """Read and check a node configuration file.

    Raises:
        ConfigError: unreadable file or a missing/wrong key (named).
    """
    p = Path(path)
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(msg("{p}: no such file", p=p)) from None
    except OSError as exc:  # a directory, no permission …
        raise ConfigError(msg("{path}: {reason}", path=p, reason=os_reason(exc))) from None
    except UnicodeDecodeError:
        raise ConfigError(msg("{path}: not UTF-8 text", path=str(p))) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(syntax_error(exc, p)) from None
    where = f"{p}: "
    base = p.resolve().parent
    _refuse_unknown(raw, _TOP_KEYS, where)
    entries_raw = _get(raw, "entries", where, list)
    if not entries_raw:
        raise ConfigError(
            msg("{where}entries: a node serves at least one catalogue entry", where=where)
        )
    entries = []
    codes = set()
    for n, e in enumerate(entries_raw):
        w = f"{where}entries[{n}]."
        if not isinstance(e, dict):
            raise ConfigError(msg("{v1}: must be a table", v1=w[:-1]))
        _refuse_unknown(e, _ENTRY_KEYS, w)
        grades = _get(e, "grades", w, dict, {})
        if not all(isinstance(v, str) for v in grades.values()):
            raise ConfigError(msg("{w}grades: values must be grade names", w=w))
        region_codes = _get(e, "region_codes", w, dict, {})
        if not all(isinstance(v, str) and REGION_CODE.fullmatch(v) for v in region_codes.values()):
            raise ConfigError(msg("{w}region_codes: values must be six-digit region codes", w=w))
        region_field = _get(e, "region_field", w, str, "")
        if region_codes and not region_field:
            raise ConfigError(msg("{w}region_codes: needs region_field, the column they map", w=w))
        entry = EntryConfig(
            code=_get(e, "code", w, str),
            source=_get(e, "source", w, str),
            key_field=_get(e, "key_field", w, str),
            grades=dict(grades),
            casefold_keys=_get(e, "casefold_keys", w, bool, False),
            region_field=region_field,
            region_codes=dict(region_codes),
            read_only=_get(e, "read_only", w, bool, False),
        )
        if entry.code in codes:
            raise ConfigError(msg("{w}code: entry {code!r} is listed twice", w=w, code=entry.code))
        codes.add(entry.code)
        entries.append(entry)
    home = Path(_get(raw, "home", where, str))
    state = Path(_get(raw, "state_dir", where, str, "node-state"))
    crl_raw = raw.get("revocation_list")
    if crl_raw is not None and not isinstance(crl_raw, str):
        raise ConfigError(msg("{where}revocation_list: must be a str", where=where))
    crl = Path(crl_raw) if crl_raw else None
    return NodeConfig(
        department=_get(raw, "department", where, str),
        home=home if home.is_absolute() else base / home,
        listen=_get(raw, "listen", where, str, "127.0.0.1:0"),
        state_dir=state if state.is_absolute() else base / state,
        policy=_get(raw, "policy", where, str, "heilongjiang-2025"),
        entries=entries,
        base_dir=base,
        revocation_list=(crl if crl.is_absolute() else base / crl) if crl else None,
    )
