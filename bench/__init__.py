"""Benchmarks: each measures statarb against its baseline in the same process (``make bench``)."""
