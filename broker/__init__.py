"""The Tongdao broker: the data authority's single channel (PLT-1).

Layers, inward to outward: ``models`` (SQLAlchemy tables) → ``repositories``/``ledger`` (queries,
hash chain) → ``services`` (domain rules; plain Python with a caller-owned session) →
``servicer`` (protobuf ↔ domain, thin) → ``server`` (gRPC, mTLS, health, reflection).
"""
