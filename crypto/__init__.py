"""Tongdao crypto core: primitives and protocols with no knowledge of gRPC or SQL.

Modules:
    randomness  -- the CSPRNG source, injectable for known-answer tests only.
    envelope    -- ECDH (X25519) + HKDF-SHA256 + AES-256-GCM sealing with associated data.
    signing     -- Ed25519 signing and verification keys.
    grant_token -- the broker-signed grant token that nodes verify themselves.
"""
