"""Directory context: departments, their node endpoints and public keys (authority-run)."""
