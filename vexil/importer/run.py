"""The import itself: Flagsmith's objects, created or updated through Vexil's own services.

Each object graph (an organisation, a project with its tags, a feature with its options, a
segment with its rules, an environment, the states of one feature in one environment) is
written in one transaction together with its mapping row (``ImportedObject``); identities, with
their traits and overrides, a page at a time in one transaction (vexil.importer.identities). A
run that stops half way leaves every graph whole or absent, and the next run carries on. A graph
whose source is unchanged since it was last imported (the mapping's fingerprint) is not touched,
so a second run changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from itertools import islice
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model

from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.environments.services import (
    environment_api_key_create,
    environment_create,
    environment_update,
)
from vexil.features.models import (
    Feature,
    FeatureSegment,
    FeatureState,
    FeatureValue,
    MultivariateFeatureOption,
    value_from_text,
)
from vexil.features.services import (
    Allocation,
    OptionSpec,
    feature_create,
    feature_segment_priorities_update,
    feature_state_update,
    feature_update,
    mv_option_create,
    mv_option_update,
    segment_override_create,
)
from vexil.identities.models import Identity
from vexil.importer.hashing import (
    feature_state_hashing_ids_set,
    segment_hashing_id_set,
)
from vexil.importer.identities import IdentityWriter, SourceIdentity
from vexil.importer.models import ImportedObject
from vexil.importer.report import Progress, Report
from vexil.importer.source import FlagsmithSource, SourceError, SourceShapeError
from vexil.importer.values import error_messages, fingerprint, typed_value
from vexil.organisations.models import Organisation
from vexil.organisations.services import organisation_create, organisation_operator_update
from vexil.projects.models import Project
from vexil.projects.services import project_create, project_update
from vexil.segments.models import Segment
from vexil.segments.services import segment_create, segment_update
from vexil.tags.models import Tag
from vexil.tags.services import tag_create, tag_update
from vexil.users.models import User

M = TypeVar("M", bound=Model)
T = TypeVar("T")

ORGANISATION_FIELDS = (
    "force_2fa",
    "restrict_project_create_to_admin",
    "webhook_notification_email",
    "feature_analytics",
)
PROJECT_FIELDS = ("hide_disabled_flags", "enable_realtime_updates", "prevent_flag_defaults")
# Applied after the features: Flagsmith checks names only when a feature is created, so older
# features may not follow rules set later.
PROJECT_NAMING_FIELDS = ("feature_name_regex", "only_allow_lower_case_feature_names")
ENVIRONMENT_FIELDS = (
    "description",
    "allow_client_traits",
    "hide_disabled_flags",
    "hide_sensitive_data",
    "use_identity_composite_key_for_hashing",
    "use_identity_overrides_in_local_eval",
    "banner_text",
    "banner_colour",
)
TAG_FIELDS = ("color", "description", "is_permanent")
SERVER_KEY_NAME = "Imported from Flagsmith"
READ_THREADS = 8  # concurrent reads of identities' traits and overrides from the source
MAX_CONCURRENCY = 64
IDENTITY_PAGE = 100  # identities written per transaction


@dataclass(frozen=True)
class ImportOptions:
    organisations: frozenset[int] = frozenset()  # empty: every organisation the key can read
    projects: frozenset[int] = frozenset()  # empty: every project of those organisations
    identities: bool = False
    concurrency: int = READ_THREADS  # identities read from the source at once
    dry_run: bool = False


@dataclass
class ImportedEnvironment:
    """An environment this run imported, for the verification."""

    environment_id: int
    client_key: str
    name: str
    document: dict[str, Any]
    identifiers: list[str]


class _DryRunRollbackError(Exception):
    """Raised at the end of a dry run to undo everything it did."""


class ImportFailedError(Exception):
    """The import cannot go on (the source is unreadable or answers in an unknown shape)."""


class Importer:
    def __init__(
        self,
        source: FlagsmithSource,
        *,
        actor: Actor,
        owner: User,
        options: ImportOptions,
        progress: Progress,
    ) -> None:
        self.source = source
        self.actor = actor
        self.owner = owner
        self.options = options
        self.progress = progress
        self.report = Report(source=source.base, dry_run=options.dry_run)
        self.environments: list[ImportedEnvironment] = []
        self._users_by_email: dict[str, User] | None = None
        self._features: dict[object, Feature] = {}

    # --- the run -------------------------------------------------------------------------------
    def run(self) -> Report:
        """Import everything selected; a dry run does it all in a transaction rolled back."""
        try:
            if self.options.dry_run:
                try:
                    with transaction.atomic():
                        self._import_all()
                        raise _DryRunRollbackError
                except _DryRunRollbackError:
                    pass
            else:
                self._import_all()
        except SourceError as exc:
            self.report.error = str(exc)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            # An answer the shape checks let through but the import cannot use.
            self.report.error = (
                f"an answer from {self.source.base} in an unexpected shape "
                f"({exc.__class__.__name__}: {exc}); this Flagsmith version may differ"
            )
        except KeyboardInterrupt:
            self.report.error = "interrupted; run the command again to carry on"
        finally:
            self.progress.done()
        return self.report

    def _import_all(self) -> None:
        organisations = self.source.organisations()
        wanted = self.options.organisations
        if wanted:
            missing = wanted - {o["id"] for o in organisations}
            if missing:
                raise SourceError(
                    f"No organisation {', '.join(map(str, sorted(missing)))} is visible with "
                    "these credentials."
                )
        for organisation in organisations:
            if wanted and organisation["id"] not in wanted:
                continue
            target = self._graph("organisation", organisation, self._organisation)
            if target is None:
                continue
            for project in self.source.projects(organisation["id"]):
                if self.options.projects and project["id"] not in self.options.projects:
                    continue
                self._project_tree(target, project)

    # --- mapping ---------------------------------------------------------------------------------
    def _mapping(self, kind: str, source_id: object) -> ImportedObject | None:
        return ImportedObject.objects.filter(
            source=self.source.base, kind=kind, source_id=str(source_id)
        ).first()

    def _target(self, kind: str, source_id: object, model: type[M]) -> M | None:
        mapping = self._mapping(kind, source_id)
        if mapping is None:
            return None
        return model._default_manager.filter(pk=mapping.target_id).first()

    def _remember(self, kind: str, source_id: object, target: Model, digest: str) -> None:
        ImportedObject.objects.update_or_create(
            source=self.source.base,
            kind=kind,
            source_id=str(source_id),
            defaults={"target_id": target.pk, "fingerprint": digest},
        )

    def _graph(
        self,
        kind: str,
        item: Mapping[str, Any],
        write: Callable[[Mapping[str, Any], Any], Model],
        *parts: object,
        model: type[Model] | None = None,
        source_id: object = None,
    ) -> Any:
        """Import one object graph in one transaction: created, updated, or left unchanged when
        its source (``item`` and ``parts``) is what was imported last time. Returns the Vexil
        object, or None when it was skipped (the reason is in the report)."""
        source_id = item["id"] if source_id is None else source_id
        model = model or _MODELS[kind]
        digest = fingerprint(item, *parts)
        mapping = self._mapping(kind, source_id)
        existing = model._default_manager.filter(pk=mapping.target_id).first() if mapping else None
        if existing is not None and mapping is not None and mapping.fingerprint == digest:
            self.report.count(kind, "unchanged")
            return existing
        try:
            with transaction.atomic():
                target = write(item, existing)
                self._remember(kind, source_id, target, digest)
        except ValidationError as exc:
            self.report.skip(kind, source_id, str(item.get("name") or ""), error_messages(exc))
            return None
        self.report.count(kind, "created" if existing is None else "updated")
        return target

    # --- organisations and projects ------------------------------------------------------------
    def _organisation(self, item: Mapping[str, Any], existing: Organisation | None) -> Organisation:
        fields = _present(item, ORGANISATION_FIELDS)
        fields["webhook_notification_email"] = fields.get("webhook_notification_email") or ""
        if existing is None:
            organisation = organisation_create(
                name=item["name"], creator=self.owner, actor=self.actor, **fields
            )
        else:
            organisation = existing
            fields["name"] = item["name"]
        changes = {k: v for k, v in fields.items() if getattr(organisation, k) != v}
        if "persist_trait_data" in item and item["persist_trait_data"] != (
            organisation.persist_trait_data
        ):
            changes["persist_trait_data"] = item["persist_trait_data"]
        if changes:
            organisation_operator_update(organisation=organisation, actor=self.actor, **changes)
        return organisation

    def _project_tree(self, organisation: Organisation, item: Mapping[str, Any]) -> None:
        project_id = item["id"]
        tags = self.source.tags(project_id)
        project = self._graph(
            "project", item, lambda i, e: self._project(organisation, i, e, tags), tags
        )
        if project is None:
            return
        features = self.source.features(project_id)
        for done, feature in enumerate(features, 1):
            self._graph("feature", feature, lambda i, e: self._feature(project, i, e))
            self.progress.update(f"features of {item['name']}", done, len(features))
        self._graph(
            "project naming",
            item,
            lambda i, e: self._project_naming(project, i),
            model=Project,
        )
        segments = self.source.segments(project_id)
        for done, segment in enumerate(segments, 1):
            self._graph("segment", segment, lambda i, e: self._segment(project, i, e))
            self.progress.update(f"segments of {item['name']}", done, len(segments))
        for environment in self.source.environments(project_id):
            self._environment_tree(organisation, project, environment)

    def _project(
        self,
        organisation: Organisation,
        item: Mapping[str, Any],
        existing: Project | None,
        tags: Sequence[Mapping[str, Any]],
    ) -> Project:
        fields = _present(item, PROJECT_FIELDS)
        if "stale_flags_limit_days" in item and item["stale_flags_limit_days"] is not None:
            fields["stale_flags_limit_days"] = item["stale_flags_limit_days"]
        if existing is None:
            project = project_create(
                organisation=organisation, name=item["name"], actor=self.actor, **fields
            )
        else:
            project = existing
            fields["name"] = item["name"]
            changes = {k: v for k, v in fields.items() if getattr(project, k) != v}
            if changes:
                project_update(project=project, actor=self.actor, **changes)
        for tag in tags:
            self._tag(project, tag)
        return project

    def _project_naming(self, project: Project, item: Mapping[str, Any]) -> Project:
        fields = _present(item, PROJECT_NAMING_FIELDS)
        fields["feature_name_regex"] = fields.get("feature_name_regex") or ""
        changes = {k: v for k, v in fields.items() if getattr(project, k) != v}
        if changes:
            project_update(project=project, actor=self.actor, **changes)
        return project

    def _tag(self, project: Project, item: Mapping[str, Any]) -> None:
        fields = _present(item, TAG_FIELDS)
        fields["description"] = fields.get("description") or ""
        existing = self._target("tag", item["id"], Tag)
        if existing is None:
            existing = Tag.objects.filter(project=project, label=item["label"]).first()
        if existing is None:
            tag = tag_create(project=project, label=item["label"], actor=self.actor, **fields)
        else:
            tag = existing
            fields["label"] = item["label"]
            changes = {k: v for k, v in fields.items() if getattr(tag, k) != v}
            if changes:
                tag_update(tag=tag, actor=self.actor, **changes)
        self._remember("tag", item["id"], tag, fingerprint(item))

    # --- features --------------------------------------------------------------------------------
    def _feature(
        self, project: Project, item: Mapping[str, Any], existing: Feature | None
    ) -> Feature:
        tags = [t for t in (self._target("tag", i, Tag) for i in item.get("tags") or []) if t]
        owners = self._owners(item.get("owners") or [])
        fields: dict[str, Any] = {
            "description": item.get("description") or "",
            "initial_value": _initial_value(item.get("initial_value")),
            "default_enabled": bool(item.get("default_enabled")),
            "is_archived": bool(item.get("is_archived")),
            "is_server_key_only": bool(item.get("is_server_key_only")),
        }
        if existing is None:
            existing = Feature.objects.filter(project=project, name__iexact=item["name"]).first()
        if existing is None:
            feature = feature_create(
                project=project,
                name=item["name"],
                actor=self.actor,
                tags=tags,
                owners=owners,
                **fields,
            )
        else:
            feature = existing
            fields["name"] = item["name"]
            changes = {k: v for k, v in fields.items() if getattr(feature, k) != v}
            feature_update(feature=feature, actor=self.actor, tags=tags, owners=owners, **changes)
        for option in sorted(item.get("multivariate_options") or [], key=lambda o: o["id"]):
            self._option(feature, option)
        return feature

    def _owners(self, owners: Iterable[Any]) -> list[User]:
        if self._users_by_email is None:
            self._users_by_email = {u.email.lower(): u for u in User.objects.all()}
        emails = [o.get("email", "") if isinstance(o, dict) else "" for o in owners]
        return [
            self._users_by_email[e.lower()] for e in emails if e.lower() in self._users_by_email
        ]

    def _option(self, feature: Feature, item: Mapping[str, Any]) -> None:
        value = typed_value(item)
        allocation = float(item.get("default_percentage_allocation", 100))
        key = item.get("key")
        option = self._target("mv_option", item["id"], MultivariateFeatureOption)
        if option is None:
            option = mv_option_create(
                feature=feature,
                spec=OptionSpec(value, allocation, key=key),
                actor=self.actor,
            )
        elif (option.value, option.key, option.default_percentage_allocation) != (
            value,
            key,
            allocation,
        ):
            mv_option_update(
                option=option,
                actor=self.actor,
                value=value,
                key=key,
                default_percentage_allocation=allocation,
            )
        self._remember("mv_option", item["id"], option, fingerprint(item))

    # --- segments --------------------------------------------------------------------------------
    def _segment(
        self, project: Project, item: Mapping[str, Any], existing: Segment | None
    ) -> Segment:
        feature = None
        if item.get("feature") is not None:
            feature = self._target("feature", item["feature"], Feature)
            if feature is None:
                raise ValidationError(
                    {"feature": [f"its feature {item['feature']} was not imported"]}
                )
        rules = [_rule(rule) for rule in item["rules"]]
        description = item.get("description") or ""
        if existing is None:
            segment = segment_create(
                project=project,
                name=item["name"],
                rules=rules,
                description=description,
                feature=feature,
                actor=self.actor,
            )
        else:
            segment = segment_update(
                segment=existing,
                actor=self.actor,
                name=item["name"],
                description=description,
                feature=feature,
                rules=rules,
            )
        segment_hashing_id_set(segment=segment, hashing_id=int(item["id"]))
        return segment

    # --- environments ----------------------------------------------------------------------------
    def _environment_tree(
        self, organisation: Organisation, project: Project, item: Mapping[str, Any]
    ) -> None:
        environment = self._graph(
            "environment", item, lambda i, e: self._environment(project, i, e)
        )
        if environment is None:
            return
        document = self.source.document(item["api_key"])
        self._server_key(organisation, project, environment)
        self._states(environment, document)
        identifiers = self._identities(environment, document) if self.options.identities else []
        self.environments.append(
            ImportedEnvironment(
                environment.pk, environment.api_key, environment.name, document, identifiers
            )
        )

    def _environment(
        self, project: Project, item: Mapping[str, Any], existing: Environment | None
    ) -> Environment:
        fields = _present(item, ENVIRONMENT_FIELDS)
        for text in ("description", "banner_text", "banner_colour"):
            if text in fields:
                fields[text] = fields[text] or ""
        if existing is None:
            taken = Environment.objects.filter(api_key=item["api_key"]).first()
            if taken is not None:
                raise ValidationError(
                    {
                        "api_key": [
                            f"the client key is already used by the Vexil environment "
                            f"{taken.name!r}, which this import did not create"
                        ]
                    }
                )
            return environment_create(
                project=project,
                name=item["name"],
                actor=self.actor,
                api_key=item["api_key"],
                **fields,
            )
        fields["name"] = item["name"]
        changes = {k: v for k, v in fields.items() if getattr(existing, k) != v}
        if changes:
            environment_update(environment=existing, actor=self.actor, **changes)
        return existing

    def _server_key(
        self, organisation: Organisation, project: Project, environment: Environment
    ) -> None:
        if self._mapping("server key", environment.api_key) is not None:
            return
        entry = {
            "organisation": organisation.name,
            "project": project.name,
            "environment": environment.name,
            "client_key": environment.api_key,
        }
        if self.options.dry_run:
            self.report.server_keys.append({**entry, "server_key": "(created by a real run)"})
            return
        with transaction.atomic():
            key, plaintext = environment_api_key_create(
                environment=environment, name=SERVER_KEY_NAME, actor=self.actor
            )
            self._remember("server key", environment.api_key, key, "")
        self.report.server_keys.append({**entry, "server_key": plaintext})
        self.report.count("server key", "created")

    def _states(self, environment: Environment, document: Mapping[str, Any]) -> None:
        """Each feature's default and segment overrides in this environment: one graph each."""
        overrides: dict[int, list[tuple[Mapping[str, Any], Mapping[str, Any]]]] = {}
        for segment in document["project"]["segments"]:
            for state in segment["feature_states"]:
                overrides.setdefault(state["feature"]["id"], []).append((segment, state))
        defaults = document["feature_states"]
        for done, state in enumerate(defaults, 1):
            feature_id = state["feature"]["id"]
            feature_overrides = overrides.get(feature_id, [])
            self._graph(
                "feature states",
                state,
                partial(self._feature_states, environment, overrides=feature_overrides),
                [(s["id"], st) for s, st in feature_overrides],
                model=Environment,
                source_id=f"{environment.api_key}:{feature_id}",
            )
            self.progress.update(f"states of {environment.name}", done, len(defaults))

    def _feature_states(
        self,
        environment: Environment,
        default: Mapping[str, Any],
        _existing: object,
        *,
        overrides: Sequence[tuple[Mapping[str, Any], Mapping[str, Any]]],
    ) -> Environment:
        feature = self._mapped_feature(default["feature"])
        state = FeatureState.objects.get(
            feature=feature, environment=environment, identity=None, feature_segment=None
        )
        self._state_write(state, default)
        ranked = sorted(overrides, key=lambda pair: _priority(pair[1]))
        placed: list[tuple[FeatureSegment, int]] = []
        for rank, (segment_item, override) in enumerate(ranked):
            segment = self._target("segment", segment_item["id"], Segment)
            if segment is None:
                raise ValidationError(
                    {"segment": [f"segment {segment_item['id']} was not imported"]}
                )
            feature_segment = FeatureSegment.objects.filter(
                feature=feature, segment=segment, environment=environment
            ).first()
            if feature_segment is None:
                override_state = segment_override_create(
                    feature=feature, segment=segment, environment=environment, actor=self.actor
                )
                feature_segment = override_state.feature_segment
                assert feature_segment is not None
            else:
                override_state = FeatureState.objects.get(feature_segment=feature_segment)
            self._state_write(override_state, override)
            placed.append((feature_segment, rank))
        if placed:
            feature_segment_priorities_update(priorities=placed, actor=self.actor)
        return environment

    def _mapped_feature(self, feature: Mapping[str, Any]) -> Feature:
        found = self._target("feature", feature["id"], Feature)
        if found is None:
            raise ValidationError({"feature": [f"feature {feature['id']} was not imported"]})
        return found

    def _state_write(self, state: FeatureState, item: Mapping[str, Any]) -> None:
        allocations: dict[int, float] = {}
        allocation_ids: dict[int, int] = {}
        for value in item.get("multivariate_feature_state_values") or []:
            option_ref = value["multivariate_feature_option"]
            option_id = option_ref["id"] if isinstance(option_ref, dict) else option_ref
            option = self._target("mv_option", option_id, MultivariateFeatureOption)
            if option is None:
                raise ValidationError(
                    {"multivariate_feature_option": [f"option {option_id} was not imported"]}
                )
            allocations[option.pk] = float(value["percentage_allocation"])
            if value.get("id") is not None:
                allocation_ids[option.pk] = int(value["id"])
        options = MultivariateFeatureOption.objects.filter(feature_id=state.feature_id)
        feature_state_update(
            feature_state=state,
            actor=self.actor,
            enabled=bool(item["enabled"]),
            value=item["feature_state_value"],
            allocations=[Allocation(o, allocations.get(o.pk, 0.0)) for o in options],
        )
        if item.get("django_id") is not None:
            feature_state_hashing_ids_set(
                state=state, hashing_id=int(item["django_id"]), allocation_ids=allocation_ids
            )

    # --- identities ------------------------------------------------------------------------------
    def _identities(self, environment: Environment, document: Mapping[str, Any]) -> list[str]:
        """Page by page: each page's traits and overrides are read concurrently, and the next
        page is read while this one is written (in bulk, see vexil.importer.identities)."""
        from_document = {
            o["identifier"]: o.get("identity_features") or []
            for o in document.get("identity_overrides") or []
            if isinstance(o, dict) and "identifier" in o
        }
        complete = bool(document.get("use_identity_overrides_in_local_eval"))
        key = environment.api_key

        def details(item: Mapping[str, Any]) -> SourceIdentity:
            traits = self.source.traits(key, item["id"])
            if item["identifier"] in from_document or complete:
                overrides = from_document.get(item["identifier"], [])
            else:
                overrides = self.source.identity_overrides(key, item["id"])
            return SourceIdentity.read(key, item, traits, overrides)

        writer = IdentityWriter(
            source=self.source.base,
            environment=environment,
            actor=self.actor,
            report=self.report,
            feature=self._imported_feature,
        )
        identifiers: list[str] = []
        done = 0
        with ThreadPoolExecutor(max_workers=self.options.concurrency) as pool:
            pending: list[Future[SourceIdentity]] = []
            for page in _pages(self.source.identities(key), IDENTITY_PAGE):
                reading = [pool.submit(details, item) for item in page]
                identifiers += writer.write([future.result() for future in pending])
                done += len(pending)
                pending = reading
                self.progress.update(f"identities of {environment.name}", done)
            identifiers += writer.write([future.result() for future in pending])
            done += len(pending)
            self.progress.update(f"identities of {environment.name}", done)
        return identifiers

    def _imported_feature(self, source_id: object) -> Feature:
        """The feature a Flagsmith feature id became, remembered for the identities' overrides
        (features are imported before any identity)."""
        feature = self._features.get(source_id)
        if feature is None:
            feature = self._features[source_id] = self._mapped_feature({"id": source_id})
        return feature


_MODELS: dict[str, type[Model]] = {
    "organisation": Organisation,
    "project": Project,
    "feature": Feature,
    "segment": Segment,
    "environment": Environment,
    "identity": Identity,
}


def _pages(items: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(items)
    while page := list(islice(iterator, size)):
        yield page


def _present(item: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    return {name: item[name] for name in names if name in item}


def _initial_value(value: object) -> FeatureValue:
    """Flagsmith serves ``initial_value`` as text (auto-typed on creation); Vexil as JSON."""
    if isinstance(value, str):
        return value_from_text(value)
    if value is None or isinstance(value, bool | int):
        return value
    raise SourceShapeError(f"A feature's initial_value is neither text nor a value: {value!r:.80}")


def _priority(state: Mapping[str, Any]) -> tuple[bool, float]:
    segment = state.get("feature_segment") or {}
    priority = segment.get("priority") if isinstance(segment, dict) else None
    return (priority is None, 0.0 if priority is None else float(priority))


def _rule(rule: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "type": rule["type"],
        "conditions": [_condition(c) for c in rule.get("conditions") or []],
        "rules": [_rule(r) for r in rule.get("rules") or []],
    }


def _condition(condition: Mapping[str, Any]) -> dict[str, Any]:
    value = condition.get("value")
    prop = condition.get("property", condition.get("property_"))
    return {
        "operator": condition["operator"],
        "property": prop,
        "value": value if value is None or isinstance(value, str) else _as_text(value),
        "description": condition.get("description") or "",
    }


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def import_flagsmith(
    source: FlagsmithSource,
    *,
    actor: Actor,
    owner: User,
    options: ImportOptions,
    progress: Progress,
) -> tuple[Report, list[ImportedEnvironment]]:
    importer = Importer(source, actor=actor, owner=owner, options=options, progress=progress)
    report = importer.run()
    return report, importer.environments


__all__ = [
    "ImportFailedError",
    "ImportOptions",
    "ImportedEnvironment",
    "Importer",
    "SourceError",
    "import_flagsmith",
]
