"""Structured logging: one configuration for Vexil, Django, Celery and the server's access log."""

from __future__ import annotations

import logging.config
import sys
from typing import Any

import structlog
from django.conf import settings

_SHARED_PROCESSORS: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def _renderer(log_format: str) -> Any:
    if log_format == "json":
        return structlog.processors.JSONRenderer()
    return structlog.dev.ConsoleRenderer(colors=False)


def logging_dict_config(log_level: str, log_format: str, access_log: str = "") -> dict[str, Any]:
    """The ``logging.config.dictConfig`` shared by Django processes and the server's workers."""
    level = log_level.upper()
    config: dict[str, Any] = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structured": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    _renderer(log_format),
                ],
                "foreign_pre_chain": _SHARED_PROCESSORS,
            },
            "access": {"format": "%(message)s"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "stream": sys.stderr,
                "formatter": "structured",
            },
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.server": {"level": "WARNING"},
            "granian.access": {"handlers": [], "level": "INFO", "propagate": False},
        },
    }
    if access_log:
        config["handlers"]["access"] = (
            {"class": "logging.StreamHandler", "stream": sys.stdout, "formatter": "access"}
            if access_log == "-"
            else {"class": "logging.FileHandler", "filename": access_log, "formatter": "access"}
        )
        config["loggers"]["granian.access"]["handlers"] = ["access"]
    return config


def configure() -> None:
    logging.config.dictConfig(
        logging_dict_config(settings.LOG_LEVEL, settings.LOG_FORMAT, settings.ACCESS_LOG_LOCATION)
    )
    structlog.configure(
        processors=[*_SHARED_PROCESSORS, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
