"""Running the broker: metrics, per-call logs, HTTP health, the store's backups.

Nothing here is a bounded context of the data-sharing domain; these modules observe the broker
from outside (a gRPC interceptor, read-only store queries through the contexts' service APIs) so
that the contexts stay free of operational concerns.
"""
