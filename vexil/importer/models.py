"""What an import run remembers: which Vexil object each Flagsmith object became.

The mapping makes ``vexil import-flagsmith`` idempotent and resumable: a second run (or a run
after an interruption) finds what it already created and updates it in place instead of
creating it again.
"""

from __future__ import annotations

from django.db import models


class ImportedObject(models.Model):
    """A Flagsmith object (``kind`` and ``source_id`` within the installation at ``source``) and
    the Vexil object it became (``target_id`` in that kind's table)."""

    source = models.CharField(max_length=2000)  # the Flagsmith API base URL, normalised
    kind = models.CharField(max_length=40)
    source_id = models.CharField(max_length=200)
    target_id = models.PositiveBigIntegerField()
    # What the object looked like in Flagsmith when last imported: a second run skips it
    # unchanged (a digest of its source JSON).
    fingerprint = models.CharField(max_length=64, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("id",)
        constraints = [
            models.UniqueConstraint(
                fields=["source", "kind", "source_id"], name="one_mapping_per_source_object"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.source_id} -> {self.target_id}"
