"""What an import did, for the final report (text or ``--json``), and its progress display."""

from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TextIO

OUTCOMES = ("created", "updated", "unchanged")


@dataclass
class Report:
    source: str
    dry_run: bool
    counts: dict[str, Counter[str]] = field(default_factory=dict)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    server_keys: list[dict[str, Any]] = field(default_factory=list)
    verification: dict[str, Any] | None = None
    error: str | None = None

    def count(self, kind: str, outcome: str) -> None:
        self.counts.setdefault(kind, Counter())[outcome] += 1

    def skip(self, kind: str, source_id: object, name: str, reason: str) -> None:
        self.skipped.append({"kind": kind, "id": source_id, "name": name, "reason": reason})

    @property
    def mismatches(self) -> int:
        return int((self.verification or {}).get("mismatches", 0))

    @property
    def ok(self) -> bool:
        return self.error is None and not self.skipped and self.mismatches == 0

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "dry_run": self.dry_run,
            "ok": self.ok,
            "error": self.error,
            "counts": {
                kind: {outcome: counter[outcome] for outcome in OUTCOMES}
                for kind, counter in self.counts.items()
            },
            "skipped": self.skipped,
            "server_keys": self.server_keys,
            "verification": self.verification,
        }

    def as_text(self) -> str:
        verb = "would be" if self.dry_run else "was"
        lines = [
            f"Import from {self.source}" + (" (dry run: nothing changed)" if self.dry_run else "")
        ]
        for kind, counter in self.counts.items():
            parts = ", ".join(f"{counter[o]} {o}" for o in OUTCOMES if counter[o])
            lines.append(f"  {kind}: {parts or 'none'}")
        if self.skipped:
            lines.append(f"Skipped ({len(self.skipped)}):")
            lines += [f"  {s['kind']} {s['id']} {s['name']!r}: {s['reason']}" for s in self.skipped]
        if self.server_keys:
            lines.append(
                "New server-side keys (shown once; Flagsmith's cannot be read back, so each "
                "replaces every server-side key of that environment):"
            )
            lines += [
                f"  {k['organisation']} / {k['project']} / {k['environment']} "
                f"(client key {k['client_key']}): {k['server_key']}"
                for k in self.server_keys
            ]
        if self.verification is not None:
            v = self.verification
            lines.append(
                f"Verification: {v['mismatches']} mismatches in {v['environments']} environment "
                f"flag lists, {v['identities']} imported identities and {v['transient']} "
                "transient identities"
            )
            lines += [f"  {m}" for m in v["details"]]
        if self.error:
            lines.append(f"Error: {self.error}")
        lines.append("OK" if self.ok else f"Not everything {verb} imported as it is in Flagsmith.")
        return "\n".join(lines)


class Progress:
    """A one-line bar on a terminal, plain lines (at most one a second per stage) otherwise."""

    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.quiet = quiet
        self._last = 0.0
        self._stage = ""

    def update(self, stage: str, done: int, total: int | None = None) -> None:
        if self.quiet:
            return
        now = time.monotonic()
        new_stage = stage != self._stage
        if not new_stage and now - self._last < (0.1 if self.tty else 1.0) and done != total:
            return
        self._last, self._stage = now, stage
        if self.tty:
            self.stream.write("\r\033[K" + _bar(stage, done, total))
        else:
            self.stream.write(_plain(stage, done, total) + "\n")
        self.stream.flush()

    def done(self) -> None:
        if self.tty and not self.quiet and self._stage:
            self.stream.write("\n")
            self.stream.flush()


def _bar(stage: str, done: int, total: int | None) -> str:
    if not total:
        return f"{stage}: {done}"
    filled = int(30 * done / total)
    return f"{stage}: [{'#' * filled}{'.' * (30 - filled)}] {done}/{total}"


def _plain(stage: str, done: int, total: int | None) -> str:
    return f"{stage}: {done}" + (f"/{total}" if total else "")
