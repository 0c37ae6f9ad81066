"""statarb.analytics."""
