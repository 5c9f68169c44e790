"""Fetching, landing, gating and publishing the sources' payloads."""

KINDS = ("weather", "cases")  # what an ingest run loads: a source of each
