"""Collab: a Postgres-native orchestration core for fleets of AI agents."""

__version__ = "0.1.0"
