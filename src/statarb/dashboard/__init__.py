"""statarb.dashboard."""
