"""Catalogue context: entry lifecycle, revocation, search and matching, bulk import/export and
the open catalogue (CAT-1..8, OPN-1)."""
