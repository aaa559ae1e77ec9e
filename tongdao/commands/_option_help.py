"""The help of options and arguments that mean the same on every command (``--purpose``,
``--approve``, ``--limit`` …), and of those that take their meaning from the command they are on
(an ``id`` is a share request's on one command and a dispute's on another).

:func:`fill_missing_help` gives each option of the built parser that was registered without a help
text the one that fits it here, so ``--help`` explains every option; an option registered with its
own help keeps it. A test checks that no option of any command is left without one.
"""

from __future__ import annotations

import argparse

from tongdao.commands._grammar import leaf_commands

BY_OPTION = {
    "--purpose": "the purpose of use, as the grant states it (Art.30)",
    "--approve": "approve it",
    "--refuse": "refuse it (give --reason)",
    "--consent": "consent to the change",
    "--accept": "accept the consumer's rectification",
    "--reject": "reject the rectification (give --reason)",
    "--reason": "why (recorded with the decision and in the ledger)",
    "--comment": "a review comment (recorded with the decision)",
    "--limit": "how many to show",
    "--offset": "how many to skip",
    "--status": "only those in this state",
    "--kind": "only this kind",
    "--provider": "only this provider department's",
    "--share-type": "only entries of this share type (Art.21)",
    "--open-type": "only entries of this open type (Art.33)",
    "--scenario": "the application scenario (应用场景) the data is used in",
    "--legal-basis": "the law, regulation or duty relied on",
    "--description": "what is needed, in a sentence or two",
    "--entry": "catalogue entry code",
    "--grant": "grant id",
    "--key": "the record's key (e.g. an ID number)",
    "--claim": "FIELD=VALUE to check (repeatable)",
    "--keys-file": "a CSV file of your keys",
    "--column": "the CSV column holding the keys (default: the first; no header)",
    "--outcome": "the outcome the use achieved",
    "--witness-key": "pin a witness department's public key, CODE=HEX (repeatable)",
    "--database-url": "the broker's store, a SQLAlchemy URL (env TONGDAO_DATABASE_URL)",
    "--include-closed": "also deadlines already met",
    "--changes": "what the consumer changed (its answer to the order)",
    "--requester": "the person or organisation asking",
    "code": "catalogue entry code",
    "grant_id": "grant id",
    "username": "account name (login name)",
    "subject_kind": "what the dispute is about",
    "old": "the older log's size (entries)",
    "new": "the newer log's size (entries)",
}
"""Option (or positional argument) → its help on any command."""

BY_COMMAND = {
    ("consumer request", "--purpose"): "the purpose of use you ask for: one the entry permits",
    ("consumer status", "id"): "share request id",
    ("consumer grant", "id"): "grant id",
    ("requests need", "--provider"): "the department asked to provide the data",
    ("requests correction", "--provider"): "the provider department of the entry",
    ("requests open-data", "--provider"): "the provider department of the entry",
    ("requests mine", "--kind"): "only requests of this kind",
    ("requests inbox", "--kind"): "only requests of this kind",
    ("requests decide", "id"): "service request id",
    ("requests handle", "id"): "service request id (an urgent need)",
    ("requests fulfil", "id"): "service request id (a data need)",
    ("requests fulfil", "--entry"): "the published catalogue entry that meets the need",
    ("supervise findings", "--kind"): "only findings of this kind",
    ("supervise order answer", "id"): "rectification order id",
    ("supervise order decide", "id"): "rectification order id",
    ("supervise orders", "--grant"): "only this grant's orders",
    ("dispute refer", "id"): "dispute id",
    ("dispute resolve", "id"): "dispute id",
    ("dispute withdraw", "id"): "dispute id",
    ("dispute show", "id"): "dispute id",
    ("authority keygen", "--role"): "the staff member's role",
    ("account create", "--role"): "the person's role at that party",
    ("ca revoke", "--reason"): "the revocation reason (RFC 5280)",
    ("cases record", "--scenario"): "the application scenario of the case",
}
"""(command path, option) → its help on that command, where the option means something of its
own there."""


def fill_missing_help(parser: argparse.ArgumentParser) -> None:
    """Give every option of every command that has no help text the one that fits it."""
    for path, leaf in leaf_commands(parser):
        command = " ".join(path)
        for action in leaf._actions:
            if action.help or isinstance(action, argparse._HelpAction):
                continue
            name = action.option_strings[0] if action.option_strings else action.dest
            action.help = BY_COMMAND.get((command, name)) or BY_OPTION.get(name)
