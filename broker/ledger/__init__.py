"""Ledger context: the tamper-evident, hash-chained record of decisions and relayed calls
(PRIV-7)."""
