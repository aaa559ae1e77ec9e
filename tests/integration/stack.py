"""The in-process stack the integration tests use (shared with the engine benchmark)."""

from tongdao.local_stack import BASIS, PURPOSE, SCENARIO, Stack, start_stack

__all__ = ["BASIS", "PURPOSE", "SCENARIO", "Stack", "start_stack"]
