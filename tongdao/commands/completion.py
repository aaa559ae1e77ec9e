"""``tongdao completion bash|zsh``: a shell completion script, generated from the parser."""

from __future__ import annotations

import argparse

from tongdao.commands._grammar import add_json_argument

SHELLS = ("bash", "zsh")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = sub.add_parser(
        "completion",
        help="print a shell completion script (bash or zsh)",
        description=(
            "Print the completion script of every command and option for your shell. "
            'bash: `eval "$(tongdao completion bash)"` in ~/.bashrc; zsh: '
            "`tongdao completion zsh > ~/.zfunc/_tongdao` with ~/.zfunc on $fpath, then "
            "`autoload -U compinit && compinit`."
        ),
    )
    parser.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    add_json_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import json

    import shtab

    from tongdao.cli import build_parser

    script = shtab.complete(build_parser(), shell=args.shell)
    if args.json:
        print(json.dumps({"shell": args.shell, "script": script}))
    else:
        print(script)
    return 0
