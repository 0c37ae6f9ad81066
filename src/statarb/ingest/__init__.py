"""statarb.ingest."""
