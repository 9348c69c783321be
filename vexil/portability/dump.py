"""``vexil dump``: every object of an organisation (or of the install) as one JSON document.

The format (docs/backup.md) is Django's serialisation of each row, ``{"model", "pk", "fields"}``
with foreign keys as ids and many-to-many fields as lists of ids, in an envelope that names the
format and its version. Every concrete field of every dumped model is written, whatever app adds
it, so new fields travel without a change here. Ids are kept: they are what the SDKs see and
what the engine hashes (multivariate seeds, segment ids, legacy identity ids), so an install
loaded from a dump answers exactly as the one dumped.

Rows are read and written a chunk at a time, so memory stays flat however large the dump.
Secrets are never written: only hashed keys are in the tables dumped, the models that hold a
secret in the clear are left out (:data:`EXCLUDED`) or have it blanked (:data:`BLANKED`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, TextIO

from django.apps import apps
from django.core import serializers
from django.db import connection, models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from vexil import __version__

FORMAT = "vexil-dump"
FORMAT_VERSION = 1
CHUNK_SIZE = 2000

Scope = Sequence[int] | None  # organisation ids, or None for the whole install


@dataclass(frozen=True)
class Dumped:
    """A model in the dump: ``organisation`` is the lookup from its rows to their
    organisation's id, or a function giving the rows of some organisations, or None for rows
    that belong to no organisation (they are in whole-install dumps only)."""

    label: str
    organisation: str | Callable[[Sequence[int]], QuerySet[Any]] | None


def _segment_rules(organisation_ids: Sequence[int]) -> QuerySet[Any]:
    """Rules nest to any depth: the top level by segment, then level by level by parent."""
    rule = apps.get_model("segments", "SegmentRule")
    level = set(
        rule.objects.filter(segment__project__organisation_id__in=organisation_ids).values_list(
            "id", flat=True
        )
    )
    found: set[int] = set()
    while level:
        found |= level
        level = set(rule.objects.filter(rule_id__in=level).values_list("id", flat=True)) - found
    return rule.objects.filter(id__in=found)


def _conditions(organisation_ids: Sequence[int]) -> QuerySet[Any]:
    condition = apps.get_model("segments", "Condition")
    return condition.objects.filter(rule__in=_segment_rules(organisation_ids))


def _users(organisation_ids: Sequence[int]) -> QuerySet[Any]:
    """Members, and the users the organisation's rows name (audit authors, owners, grants)."""
    user = apps.get_model("users", "User")
    in_org = Q(memberships__organisation_id__in=organisation_ids)
    named = (
        Q(owned_features__project__organisation_id__in=organisation_ids)
        | Q(user_groups__organisation_id__in=organisation_ids)
        | Q(
            id__in=apps.get_model("audit", "AuditLog")
            .objects.filter(organisation_id__in=organisation_ids)
            .values("author_id")
        )
    )
    return user.objects.filter(in_org | named).distinct()


_PROJECT = "project__organisation_id"
_ENVIRONMENT = "environment__project__organisation_id"

#: What a dump holds, in an order that loads parents before children.
DUMPED: tuple[Dumped, ...] = (
    Dumped("users.user", _users),
    Dumped("organisations.organisation", "id"),
    Dumped("organisations.organisationmembership", "organisation_id"),
    Dumped("organisations.usergroup", "organisation_id"),
    Dumped("api_keys.masterapikey", "organisation_id"),
    Dumped("projects.project", "organisation_id"),
    Dumped("environments.environment", _PROJECT),
    Dumped("environments.environmentapikey", _ENVIRONMENT),
    Dumped("permissions.projectgrant", _PROJECT),
    Dumped("permissions.environmentgrant", _ENVIRONMENT),
    Dumped("tags.tag", _PROJECT),
    Dumped("features.feature", _PROJECT),
    Dumped("features.multivariatefeatureoption", "feature__project__organisation_id"),
    Dumped("segments.segment", _PROJECT),
    Dumped("segments.segmentrule", _segment_rules),
    Dumped("segments.condition", _conditions),
    Dumped("identities.identity", _ENVIRONMENT),
    Dumped("identities.trait", "identity__environment__project__organisation_id"),
    Dumped("features.featuresegment", _ENVIRONMENT),
    Dumped("features.featurestate", _ENVIRONMENT),
    Dumped(
        "features.multivariatefeaturestatevalue",
        "feature_state__environment__project__organisation_id",
    ),
    Dumped("analytics.featureevaluationcount", _ENVIRONMENT),
    Dumped("webhooks.webhook", "organisation_id"),
    Dumped("audit.auditlog", "organisation_id"),
    # Which Vexil row each Flagsmith object became (ids are kept, so it stays true).
    Dumped("importer.importedobject", None),
)

#: Models of Vexil's apps left out of every dump, and why.
EXCLUDED: dict[str, str] = {
    "common.outboundemail": "the e-mail outbox: messages in flight, some with one-time links",
    "users.setuptoken": "the first-run token, gone once the install has an administrator",
    "users.ratelimitbucket": "rate-limit counters, which start afresh",
    "users.loginfailurecount": "failed-login counters, which start afresh",
    "users.totpdevice": "holds an authenticator secret in the clear: users enrol their app again",
    "webhooks.webhookdelivery": "the webhook outbox: deliveries in flight",
    "webhooks.webhookattempt": "the log of the outbox's delivery attempts",
    "invites.invite": "pending invitations: one-time credentials (their links are keyed by the "
    "SECRET_KEY); invite again after a load",
    "invites.invitelink": "shareable join links: credentials; make new links after a load",
    "users.pendingsignup": "sign-ups waiting for their e-mailed link: one-time credentials, "
    "short-lived; sign up again after a load",
    "portability.featureexport": "working files of Flagsmith-format exports",
    "portability.featureimport": "working files of Flagsmith-format imports",
}

#: Fields written with a fixed value instead of theirs: secrets kept in the clear.
BLANKED: dict[str, dict[str, Any]] = {
    "webhooks.webhook": {"secret": ""},
}


def dumped_models() -> list[type[models.Model]]:
    return [apps.get_model(spec.label) for spec in DUMPED]


def _fields(model: type[models.Model]) -> list[str]:
    """Every concrete field, and many-to-many fields between Vexil's own models."""
    names = [f.name for f in model._meta.local_fields if not f.primary_key]
    names += [
        f.name
        for f in model._meta.local_many_to_many
        if isinstance(f.related_model, type) and f.related_model.__module__.startswith("vexil.")
    ]
    return names


def _rows(spec: Dumped, scope: Scope) -> QuerySet[Any]:
    model = apps.get_model(spec.label)
    if scope is None:
        rows = model._base_manager.all()
    elif spec.organisation is None:
        rows = model._base_manager.none()
    elif callable(spec.organisation):
        rows = spec.organisation(scope)
    else:
        rows = model._base_manager.filter(**{f"{spec.organisation}__in": list(scope)})
    m2m = [f.name for f in model._meta.local_many_to_many if f.name in _fields(model)]
    return rows.order_by("pk").prefetch_related(*m2m)


def _encode(value: object) -> object:
    """Exact text for what JSON has no type for (datetimes keep their microseconds)."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _objects(spec: Dumped, scope: Scope) -> Iterator[dict[str, Any]]:
    model = apps.get_model(spec.label)
    fields = _fields(model)
    blanked = BLANKED.get(spec.label, {})
    serializer = serializers.get_serializer("python")()
    chunk: list[models.Model] = []
    for row in _rows(spec, scope).iterator(chunk_size=CHUNK_SIZE):
        chunk.append(row)
        if len(chunk) == CHUNK_SIZE:
            yield from _serialised(serializer, chunk, fields, blanked)
            chunk = []
    yield from _serialised(serializer, chunk, fields, blanked)


def _serialised(
    serializer: Any, chunk: list[models.Model], fields: list[str], blanked: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    for item in serializer.serialize(chunk, fields=fields):
        item["fields"].update(blanked)
        yield item


@dataclass
class DumpSummary:
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def installation_dump(*, stream: TextIO, organisation_ids: Scope = None) -> DumpSummary:
    """Write the dump of some organisations (or of everything) to ``stream``.

    One transaction, so the dump is consistent while the install runs: on PostgreSQL a
    read-only snapshot (REPEATABLE READ), on SQLite the database's write lock (changes made
    meanwhile wait for the dump).
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        return _dump(stream, organisation_ids)


def _dump(stream: TextIO, organisation_ids: Scope) -> DumpSummary:
    header = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "vexil_version": __version__,
        "created_at": timezone.now().isoformat(),
        "organisations": None if organisation_ids is None else sorted(organisation_ids),
        "models": [spec.label for spec in DUMPED],
    }
    head = json.dumps(header, indent=1)
    stream.write(head[: head.rindex("}")].rstrip() + ',\n "objects": [')
    counts: dict[str, int] = {}
    separator = "\n"
    for spec in DUMPED:
        counts[spec.label] = 0
        for item in _objects(spec, organisation_ids):
            stream.write(separator + json.dumps(item, default=_encode, separators=(",", ":")))
            separator = ",\n"
            counts[spec.label] += 1
    stream.write("\n]}\n")
    return DumpSummary(counts)
