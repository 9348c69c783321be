from django.apps import AppConfig

from vexil.common import logging as vexil_logging
from vexil.common import sentry


class CommonConfig(AppConfig):
    name = "vexil.common"
    label = "common"
    verbose_name = "Vexil common"

    def ready(self) -> None:
        from vexil.common import (
            checks,  # noqa: F401  (registers the system checks)
            schema,  # noqa: F401  (registers the OpenAPI extension)
        )

        vexil_logging.configure()
        sentry.configure()
