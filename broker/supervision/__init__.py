"""Supervision context: working-day deadlines and the overdue report (SUP-1, Art.42); misuse
findings and rectification orders belong here too."""
