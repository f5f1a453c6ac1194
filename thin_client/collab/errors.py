"""Errors shared by the client, the CLI and the embedded cluster."""

from __future__ import annotations


class CollabError(Exception):
    """Base class of every error Collab raises in Python."""


class SetupError(CollabError):
    """A local set-up problem (cluster, configuration, migration) with a one-line message."""
