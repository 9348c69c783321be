"""Enqueueing background work.

Work is always enqueued when the surrounding transaction commits, so a task never sees data that
was rolled back. With ``CELERY_BROKER_URL`` set it goes to the broker and ``vexil worker`` runs it;
without a broker it runs in this process, on a small thread pool, so the embedded default needs
no extra service and requests do not wait for it.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from celery import Task
from django.conf import settings
from django.db import close_old_connections, connections, transaction

logger = logging.getLogger(__name__)

_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()
_pending: set[Future[Any]] = set()


def enqueue(task: Task, *args: Any, **kwargs: Any) -> None:
    """Run ``task(*args, **kwargs)`` in the background once the current transaction commits."""
    transaction.on_commit(lambda: _dispatch(task, args, kwargs))


def _dispatch(task: Task, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if settings.CELERY_BROKER_URL:
        task.apply_async(args=args, kwargs=kwargs)
        return
    future = _in_process_executor().submit(_run_in_process, task, args, kwargs)
    _pending.add(future)
    future.add_done_callback(_pending.discard)


def _run_in_process(task: Task, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    close_old_connections()
    try:
        result = task.apply(args=args, kwargs=kwargs)
        if result.failed():
            logger.error("Background task %s failed: %r", task.name, result.result)
    finally:
        # This pool thread may idle for a long time: keep no connection open (and none that
        # would block dropping or migrating the database) between tasks.
        connections.close_all()


def _in_process_executor() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="vexil-task")
        return _executor


def wait_for_in_process_tasks(timeout: float = 30.0) -> None:
    """Block until in-process background work has finished (tests, graceful shutdown)."""
    for future in list(_pending):
        future.result(timeout=timeout)
