"""Query relay context: unary, streamed and aggregate queries relayed to the providers' nodes,
their signed receipts, and the gateway to the nodes (PLT-1, PRIV-1..5)."""
