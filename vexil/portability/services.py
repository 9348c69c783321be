"""Writes for Flagsmith-format feature exports and imports (protocol notes §7).

Both run at once, inside the request: an export is a few queries, an import file is at most
1 MB. An import matches features by name in the environment's project and treats each entry on
its own (a savepoint each), so one bad entry fails alone and the import reports, per feature,
what it did. Every change goes through the feature services, which bump the environment's
revision and write their audit rows; the import and the export add one audit row each.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from vexil.audit.models import AuditAction
from vexil.audit.services import Actor, audit_record
from vexil.environments.models import Environment
from vexil.features import services as feature_services
from vexil.features.models import Feature, FeatureSegment, FeatureState, MultivariateFeatureOption
from vexil.portability.feature_file import (
    FeatureEntry,
    FeatureFileError,
    feature_entry_of,
    parse_file,
)
from vexil.portability.models import (
    IMPORT_FILE_MAX_BYTES,
    FeatureExport,
    FeatureImport,
    FileStatus,
    ImportStrategy,
)
from vexil.portability.selectors import environment_feature_file
from vexil.tags.models import Tag

# An import still PROCESSING after this long died with its process; it no longer blocks.
IMPORT_STALE_AFTER = timedelta(minutes=10)


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


def _audit(
    row: FeatureExport | FeatureImport, actor: Actor, log: str, after: dict[str, Any]
) -> None:
    environment = row.environment
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        resource_type="feature_export" if isinstance(row, FeatureExport) else "feature_import",
        resource_id=row.pk,
        log=log,
        organisation_id=environment.project.organisation_id,
        environment=environment,
        after=after,
    )


@transaction.atomic
def feature_export_create(
    *, environment: Environment, tag_ids: Sequence[int], actor: Actor
) -> FeatureExport:
    """Write the environment's export file; tags must be the project's."""
    tag_ids = list(dict.fromkeys(tag_ids))
    known = Tag.objects.filter(project_id=environment.project_id, id__in=tag_ids).count()
    if known != len(tag_ids):
        raise _invalid("tag_ids", "Tags must belong to the environment's project.")
    name = f"{environment.name} | {timezone.now():%Y-%m-%d %H:%M} UTC"
    data = environment_feature_file(environment=environment, tag_ids=tag_ids)
    export = FeatureExport.objects.create(
        environment=environment,
        name=name,
        tag_ids=tag_ids,
        status=FileStatus.SUCCESS,
        data=data,
    )
    _audit(export, actor, f"Feature export {name!r} created", {"features": len(data)})
    return export


# --- Import -------------------------------------------------------------------------------------


def _file_entries(content: bytes) -> list[Any]:
    if len(content) > IMPORT_FILE_MAX_BYTES:
        raise _invalid("file", "File size is too large.")
    try:
        return parse_file(content)
    except FeatureFileError as error:
        raise _invalid("file", str(error)) from None


def _busy(environment: Environment) -> bool:
    return FeatureImport.objects.filter(
        environment=environment,
        status=FileStatus.PROCESSING,
        created_at__gt=timezone.now() - IMPORT_STALE_AFTER,
    ).exists()


def _options_for(
    feature: Feature, entry: FeatureEntry, actor: Actor
) -> dict[int, tuple[MultivariateFeatureOption, float]]:
    """Each option of the file, matched by (type, value) or created; with its allocation.

    A new option starts at 0% in every state, so other environments keep what they serve; its
    default allocation (for environments created later) is then set to the file's.
    """
    options = list(feature.multivariate_options.all())
    chosen: dict[int, tuple[MultivariateFeatureOption, float]] = {}
    for item in entry.multivariate:
        option = next(
            (o for o in options if o.pk not in chosen and _same_value(o.value, item.value)), None
        )
        if option is None:
            spec = feature_services.OptionSpec(value=item.value, default_percentage_allocation=0)
            option = feature_services.mv_option_create(feature=feature, spec=spec, actor=actor)
            option = feature_services.mv_option_update(
                option=option,
                actor=actor,
                default_percentage_allocation=item.default_percentage_allocation,
            )
            options.append(option)
        chosen[option.pk] = (option, item.percentage_allocation)
    for option in options:
        chosen.setdefault(option.pk, (option, 0.0))
    return chosen


def _same_value(a: object, b: object) -> bool:
    return type(a) is type(b) and a == b


def _overrides_delete(feature: Feature, environment: Environment, actor: Actor) -> None:
    slots = FeatureSegment.objects.filter(feature=feature, environment=environment)
    for slot in slots.order_by("-priority"):
        feature_services.feature_segment_delete(feature_segment=slot, actor=actor)
    identity_states = FeatureState.objects.filter(
        feature=feature, environment=environment, identity__isnull=False
    ).select_related("environment__project", "feature")
    for state in identity_states:
        feature_services.override_state_delete(feature_state=state, actor=actor)


def _state_overwrite(
    feature: Feature, environment: Environment, entry: FeatureEntry, actor: Actor
) -> None:
    """OVERWRITE_DESTRUCTIVE for one feature, in the target environment only."""
    _overrides_delete(feature, environment, actor)
    options = _options_for(feature, entry, actor)
    state = FeatureState.objects.select_related("environment__project", "feature").get(
        feature=feature, environment=environment, identity=None, feature_segment=None
    )
    # Lowered ones first: the total of the allocations stays within 100% at every step.
    allocations = [
        feature_services.Allocation(option=option, percentage_allocation=percentage)
        for option, percentage in sorted(options.values(), key=lambda item: item[1])
    ]
    feature_services.feature_state_update(
        feature_state=state,
        actor=actor,
        enabled=entry.enabled,
        value=entry.value,
        allocations=allocations or None,
    )


def _entry_import(
    environment: Environment, strategy: str, entry: FeatureEntry, actor: Actor
) -> str:
    feature = Feature.objects.filter(
        project_id=environment.project_id, name__iexact=entry.name.strip()
    ).first()
    if feature is not None and strategy == ImportStrategy.SKIP:
        return "SKIPPED"
    result = "UPDATED"
    if feature is None:
        feature = feature_services.feature_create(
            project=environment.project,
            name=entry.name,
            actor=actor,
            initial_value=entry.initial_value,
            default_enabled=entry.default_enabled,
            is_server_key_only=entry.is_server_key_only,
        )
        result = "CREATED"
    _state_overwrite(feature, environment, entry, actor)
    return result


def _error_text(error: Exception) -> str:
    if isinstance(error, ValidationError) and hasattr(error, "message_dict"):
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


def _entry_result(
    environment: Environment, strategy: str, raw: object, index: int, actor: Actor
) -> dict[str, Any]:
    name = raw.get("name") if isinstance(raw, dict) else None
    result: dict[str, Any] = {"index": index, "name": name if isinstance(name, str) else None}
    try:
        entry = feature_entry_of(raw)
        with transaction.atomic():
            result["result"] = _entry_import(environment, strategy, entry, actor)
    except (FeatureFileError, ValidationError) as error:
        result.update(result="FAILED", detail=_error_text(error))
    return result


def feature_import_create(
    *, environment: Environment, strategy: str, content: bytes, actor: Actor
) -> FeatureImport:
    """Import a Flagsmith feature export into ``environment``; each feature on its own.

    Refused (``ValidationError``, nothing changed) for an unknown strategy, a file over 1 MB or
    one that is not a JSON array, and while another import of the environment is running. The
    import ends ``SUCCESS`` when no entry failed, ``FAILED`` otherwise; its ``results`` say for
    every entry ``CREATED``, ``UPDATED``, ``SKIPPED`` or ``FAILED`` (with ``detail``). Entries
    that succeeded are kept either way.
    """
    if strategy not in ImportStrategy.values:
        raise _invalid("strategy", f'"{strategy}" is not a valid choice.')
    entries = _file_entries(content)
    with transaction.atomic():
        Environment.objects.select_for_update().filter(pk=environment.pk).first()
        if _busy(environment):
            raise ValidationError(
                ["Can't import features, since already processing a feature import."]
            )
        row = FeatureImport.objects.create(
            environment=environment, strategy=strategy, data=content.decode("utf-8")
        )
    with transaction.atomic():
        results = [
            _entry_result(environment, strategy, raw, index, actor)
            for index, raw in enumerate(entries)
        ]
        failed = any(result["result"] == "FAILED" for result in results)
        row.status = FileStatus.FAILED if failed else FileStatus.SUCCESS
        row.results = results
        row.save(update_fields=["status", "results"])
        counts: dict[str, int] = {}
        for result in results:
            counts[result["result"]] = counts.get(result["result"], 0) + 1
        _audit(row, actor, f"Feature import ({strategy}) into {environment.name!r}", counts)
    return row
