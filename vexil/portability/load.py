"""``vexil load``: a dump (see :mod:`vexil.portability.dump`) into an empty install.

The file is read twice as a stream (header, then objects), rows are inserted a batch at a time
with their ids and exact field values (``auto_now`` fields keep the dumped times), all in one
transaction: a load either completes or leaves the install as it was. Foreign keys are checked
at commit (both SQLite and PostgreSQL defer them), so rows may arrive in any order. On
PostgreSQL the id sequences are moved past the loaded ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import ijson
from django.core import serializers
from django.core.exceptions import FieldDoesNotExist
from django.core.management.color import no_style
from django.core.serializers.base import DeserializationError, DeserializedObject
from django.db import DatabaseError, IntegrityError, connection, models, transaction

from vexil.portability.dump import EXCLUDED, FORMAT, FORMAT_VERSION, dumped_models

BATCH_SIZE = 500


class LoadError(Exception):
    """The dump cannot be loaded here; the message says why, for the person running it."""


@dataclass
class LoadSummary:
    counts: dict[str, int]
    header: dict[str, Any]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _header(stream: BinaryIO) -> dict[str, Any]:
    """The envelope's fields before ``objects`` (the dump writes them first)."""
    header: dict[str, Any] = {}
    builder: list[Any] = []
    for prefix, event, value in ijson.parse(stream, use_float=True):
        if prefix == "" and event != "map_key" and event not in ("start_map", "end_map"):
            raise LoadError("This is not a Vexil dump: the file is not a JSON object.")
        if prefix == "" and event == "map_key":
            if value == "objects":
                break
            builder = [value]
        elif builder and prefix == builder[0] and event in ("string", "number", "boolean", "null"):
            header[builder[0]] = value
    return header


def _check_header(header: dict[str, Any]) -> None:
    if header.get("format") != FORMAT:
        raise LoadError('This is not a Vexil dump (no "format": "vexil-dump").')
    version = header.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise LoadError("This dump has no format version.")
    if version > FORMAT_VERSION:
        raise LoadError(
            f"This dump is in format version {version} (written by Vexil "
            f"{header.get('vexil_version', '?')}); this Vexil reads versions up to "
            f"{FORMAT_VERSION}. Load it with a Vexil at least as new as the one that wrote it."
        )


def _require_empty() -> None:
    for model in dumped_models():
        if model._base_manager.exists():
            raise LoadError(
                f"This install is not empty (it has {model._meta.verbose_name_plural}): "
                "load a dump only into a new, migrated database."
            )


def _objects(stream: BinaryIO) -> Iterator[DeserializedObject]:
    items = ijson.items(stream, "objects.item", use_float=True)
    allowed = {model._meta.label_lower for model in dumped_models()}
    for index, item in enumerate(items):
        label = item.get("model") if isinstance(item, dict) else None
        if not isinstance(label, str) or label.lower() not in allowed:
            reason = "is left out of dumps" if label in EXCLUDED else "is not in a dump"
            raise LoadError(f"Object {index} of the dump: {label!r} {reason}.")
        if not isinstance(item.get("fields"), dict) or item.get("pk") is None:
            raise LoadError(f"Object {index} of the dump ({label}) has no pk or no fields.")
        try:
            yield from serializers.deserialize("python", [item])
        except (DeserializationError, FieldDoesNotExist) as error:
            raise LoadError(f"Object {index} of the dump ({label}): {error}") from None


def _insert(model: type[models.Model], batch: list[DeserializedObject]) -> None:
    """Rows as they are in the dump: ids and every value (no ``auto_now``, no defaults)."""
    fields = [f for f in model._meta.local_concrete_fields if not f.generated]
    objs = [item.object for item in batch]
    size = max(1, connection.ops.bulk_batch_size(fields, objs))
    for start in range(0, len(objs), size):
        part = objs[start : start + size]
        model._base_manager._insert(part, fields=fields, raw=True, using=connection.alias)  # type: ignore[attr-defined]
    for field in model._meta.local_many_to_many:
        through: Any = field.remote_field.through
        source, target = field.m2m_field_name(), field.m2m_reverse_field_name()
        through._base_manager.bulk_create(
            through(**{f"{source}_id": item.object.pk, f"{target}_id": pk})
            for item in batch
            for pk in (item.m2m_data or {}).get(field.name, ())
        )


def _load_objects(stream: BinaryIO) -> dict[str, int]:
    counts: dict[str, int] = {}
    batch: list[DeserializedObject] = []
    for item in _objects(stream):
        if batch and type(batch[0].object) is not type(item.object):
            _insert(type(batch[0].object), batch)
            batch = []
        batch.append(item)
        label = item.object._meta.label_lower
        counts[label] = counts.get(label, 0) + 1
        if len(batch) >= BATCH_SIZE:
            _insert(type(item.object), batch)
            batch = []
    if batch:
        _insert(type(batch[0].object), batch)
    return counts


def _reset_sequences() -> None:
    statements = connection.ops.sequence_reset_sql(no_style(), dumped_models())
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def installation_load(*, path: Path) -> LoadSummary:
    """Load the dump at ``path`` into this (empty, migrated) install.

    Raises :class:`LoadError` with a message for a file that is not a dump, a newer format
    version, an install that is not empty, or rows that do not fit; nothing is written then.
    """
    try:
        with path.open("rb") as stream:
            header = _header(stream)
            _check_header(header)
            with transaction.atomic():
                _require_empty()
                stream.seek(0)
                counts = _load_objects(stream)
                _reset_sequences()
    except OSError as error:
        raise LoadError(f"Cannot read {path}: {error.strerror or error}") from None
    except ijson.JSONError as error:
        raise LoadError(
            f"This is not a Vexil dump: it is not valid JSON ({str(error).splitlines()[0]})."
        ) from None
    except IntegrityError as error:
        raise LoadError(f"The dump's rows do not fit together: {error}") from None
    except DatabaseError as error:
        raise LoadError(f"The database refused the dump: {error}") from None
    return LoadSummary(counts=counts, header=header)
