"""On-demand benchmarks (not timed tests): `tongdao bench crypto`."""
