"""statarb.alerts."""
