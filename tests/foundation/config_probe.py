"""Run ``vexil check`` once per configuration, in one interpreter, and print the results as JSON.

Reads a JSON list of ``{"NAME": "value"}`` objects on stdin. Each run gets the starting
environment plus its variables and goes through ``vexil.cli.main`` exactly as the command does.
A configuration error stops the run while Django imports the settings, before any app loads, so
the next run starts as clean as a new process; a run that gets further is reported as
``"loaded": true`` and ends the batch (test such a case in its own process).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import traceback

from django.apps import apps

from vexil import cli


def main() -> None:
    cases = json.load(sys.stdin)
    start = dict(os.environ)
    results = []
    for variables in cases:
        os.environ.clear()
        os.environ.update({**start, **variables})
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                code: int | str = cli.main(["check"])
            except BaseException:  # what the real command would die of, traceback included
                traceback.print_exc()
                code = "uncaught"
        results.append(
            {
                "code": code,
                "stdout": stdout.getvalue(),
                "stderr": stderr.getvalue(),
                "loaded": apps.ready,
            }
        )
        if apps.ready:
            break
    sys.stdout.write(json.dumps(results))


if __name__ == "__main__":
    main()
