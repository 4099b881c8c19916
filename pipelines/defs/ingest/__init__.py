"""Ingest stage: extract folder to validated staging tables and a quarantine."""
