"""E-mail backends of Vexil's own."""

from __future__ import annotations

import sys
from typing import Any

from django.core.mail.backends.console import EmailBackend as DjangoConsoleBackend


class ConsoleEmailBackend(DjangoConsoleBackend):
    """Django's console backend, writing to stderr with the logs.

    The default when no SMTP server is configured. Django's own writes to stdout, which would
    break commands whose stdout is machine-read (``vexil bootstrap --json`` sends the set-up
    e-mail).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream", sys.stderr)
        super().__init__(*args, **kwargs)
