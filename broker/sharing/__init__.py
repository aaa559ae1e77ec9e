"""Sharing context: share requests, the provider's decisions and grants (SHR-1, SHR-2), and the
other requests filed with a provider under a working-day clock (data needs, corrections,
open-data requests)."""
