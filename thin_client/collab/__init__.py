"""Collab: a Postgres-native orchestration core for fleets of AI agents."""

from collab.aio_worker import AsyncJobContext, AsyncWorker
from collab.client import (
    ApiError,
    ClaimedJob,
    Client,
    Completion,
    Conflict,
    Event,
    Forbidden,
    IdempotencyConflict,
    IllegalTransition,
    InvalidInput,
    Invitation,
    Job,
    LeaseLost,
    NotCancellable,
    NotDead,
    NotFound,
    Queue,
    QueueStats,
    RateLimited,
)
from collab.errors import CollabError, SetupError
from collab.worker import JobAborted, JobContext, NonRetryable, Worker

__version__ = "0.1.0"

__all__ = [
    "ApiError",
    "AsyncJobContext",
    "AsyncWorker",
    "ClaimedJob",
    "Client",
    "CollabError",
    "Completion",
    "Conflict",
    "Event",
    "Forbidden",
    "IdempotencyConflict",
    "IllegalTransition",
    "InvalidInput",
    "Invitation",
    "Job",
    "JobAborted",
    "JobContext",
    "LeaseLost",
    "NonRetryable",
    "NotCancellable",
    "NotDead",
    "NotFound",
    "Queue",
    "QueueStats",
    "RateLimited",
    "SetupError",
    "Worker",
]
