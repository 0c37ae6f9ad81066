"""statarb.api."""
