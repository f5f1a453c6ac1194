"""A process-wide handler registry for ``collab worker --import module``.

A module imported by the worker registers its handlers here::

    from collab import tasks

    @tasks.task("send_email")
    def send_email(ctx): ...
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

registry: dict[str, Callable[..., Any]] = {}


def task(type: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        registry[type] = fn
        return fn

    return register
