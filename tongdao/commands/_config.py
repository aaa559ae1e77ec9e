"""Configuration files for long-running commands (``tongdao broker serve --config FILE``).

A command declares its options once, as :class:`Option` rows; the same rows make its flags and
name the keys its TOML file may hold, so a key is always spelled like its flag without the dashes
(``--database-url`` ↔ ``database-url = "…"``). A value is taken from, in order: the command line,
the option's environment variable (where it has one), the file, the built-in default. An unknown
key, a value of the wrong type or a value outside the allowed choices is refused, naming the key.
"""

from __future__ import annotations

import argparse
import difflib
import os
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tongdao.cli import CommandError
from tongdao.policies.i18n import msg, os_reason, syntax_error


@dataclass(frozen=True)
class Option:
    """One flag and the config-file key of the same name."""

    key: str  # e.g. "database-url"
    default: Any
    help: str
    kind: type = str  # str, int or float
    env: str | None = None
    choices: tuple[str, ...] | None = None
    metavar: str | None = None

    @property
    def dest(self) -> str:
        return self.key.replace("-", "_")


def add_options(parser: argparse.ArgumentParser, options: Sequence[Option]) -> None:
    """Add ``--config FILE`` and one flag per option (defaults resolved later, see module)."""
    parser.add_argument(
        "--config",
        default=None,
        metavar="FILE",
        help="TOML file whose keys are this command's flags without the dashes (flags, then "
        "environment variables, override it)",
    )
    for option in options:
        default = option.default if option.default != "" else '""'
        env = f"env {option.env}; " if option.env else ""
        parser.add_argument(
            f"--{option.key}",
            dest=option.dest,
            default=None,
            type=option.kind,
            choices=option.choices,
            metavar=option.metavar,
            help=f"{option.help} ({env}default {default})",
        )


def read_config(path: str, options: Sequence[Option]) -> dict[str, Any]:
    """The validated keys of a config file.

    Raises:
        CommandError: unreadable, not TOML, an unknown key, or a value of the wrong kind.
    """
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CommandError(
            msg("cannot read config file {path}: {v3}", path=path, v3=os_reason(exc))
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CommandError(syntax_error(exc, path)) from None
    known = {o.key: o for o in options}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        option = known.get(key)
        if option is None:
            close = difflib.get_close_matches(key.replace("_", "-"), list(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise CommandError(
                msg(
                    "{path}: unknown key {key!r}{hint}; the keys are {v5}",
                    path=path,
                    key=key,
                    hint=hint,
                    v5=", ".join(sorted(known)),
                )
            )
        values[option.dest] = _checked(path, option, value)
    return values


def _checked(path: str, option: Option, value: Any) -> Any:
    kind = option.kind
    ok = (
        isinstance(value, str)
        if kind is str
        else isinstance(value, int) and not isinstance(value, bool)
        if kind is int
        else isinstance(value, int | float) and not isinstance(value, bool)
    )
    if not ok:
        want = {str: "a string", int: "an integer", float: "a number"}[kind]
        raise CommandError(
            msg(
                "{path}: {key} must be {want}, not {value!r}",
                path=path,
                key=option.key,
                want=want,
                value=value,
            )
        )
    if option.choices is not None and value not in option.choices:
        raise CommandError(
            msg(
                "{path}: {key} must be one of {v4}",
                path=path,
                key=option.key,
                v4=", ".join(option.choices),
            )
        )
    return kind(value)


def resolve(
    args: argparse.Namespace,
    options: Sequence[Option],
    file_values: dict[str, Any] | None = None,
) -> argparse.Namespace:
    """Fill every option's value in ``args``: flag, environment, config file, default.

    ``file_values`` are the config file's values when the caller read the file itself (another
    command's file, e.g. ``tongdao backup --config broker.toml``); otherwise ``args.config`` is
    read against ``options``.
    """
    if file_values is not None:
        config = file_values
    elif getattr(args, "config", None):
        config = read_config(args.config, options)
    else:
        config = {}
    for option in options:
        if getattr(args, option.dest, None) is not None:
            continue
        env = os.environ.get(option.env) if option.env else None
        if env:
            try:
                value: Any = option.kind(env)
            except ValueError:
                raise CommandError(
                    msg("{env} must be {name__}", env=option.env, name__=option.kind.__name__)
                ) from None
            if option.choices is not None and value not in option.choices:
                choices = ", ".join(option.choices)
                raise CommandError(
                    msg(
                        "{env} must be one of {choices}, not {value!r}",
                        env=option.env,
                        choices=choices,
                        value=value,
                    )
                )
        elif option.dest in config:
            value = config[option.dest]
        else:
            value = option.default
        setattr(args, option.dest, value)
    return args
