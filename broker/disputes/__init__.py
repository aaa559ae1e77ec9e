"""Disputes context: disputes between a data user and a data provider, handled by the data
authority of their level or the provincial authority and, failing that, the coordination
mechanism (SHR-6, Art.25). Every step is a ledger entry and runs on the deadline tracker."""
