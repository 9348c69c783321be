"""Flagsmith semantics of the flag services: states everywhere, allocations, revisions, audit."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from vexil.audit.models import AuditAction, AuditLog
from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.environments.services import (
    environment_api_key_create,
    environment_clone,
    environment_create,
    environment_update,
)
from vexil.features.models import (
    Feature,
    FeatureSegment,
    FeatureState,
    FeatureType,
    MultivariateFeatureOption,
    MultivariateFeatureStateValue,
    ValueType,
)
from vexil.features.services import (
    Allocation,
    OptionSpec,
    feature_create,
    feature_delete,
    feature_segment_create,
    feature_segment_delete,
    feature_segment_priorities_update,
    feature_state_update,
    features_bulk_create,
    identity_override_create,
    mv_option_create,
    segment_override_create,
)
from vexil.identities.models import Identity
from vexil.identities.services import identities_bulk_create
from vexil.projects.models import Project
from vexil.segments.models import Condition, Segment, SegmentRule
from vexil.segments.services import segment_create, segment_update

pytestmark = pytest.mark.django_db


def _revision(environment: Environment) -> int:
    environment.refresh_from_db(fields=["revision"])
    return environment.revision


def _default_state(feature: Feature, environment: Environment) -> FeatureState:
    return FeatureState.objects.get(
        feature=feature, environment=environment, identity=None, feature_segment=None
    )


# --- Features ------------------------------------------------------------------------------------


def test_feature_create__two_environments__state_in_each_with_defaults(
    project: Project, environment: Environment, actor: Actor
) -> None:
    # Given
    production = environment_create(project=project, name="Production", actor=actor)
    # When
    feature = feature_create(
        project=project, name="max_items", initial_value="25", default_enabled=True, actor=actor
    )
    # Then
    states = FeatureState.objects.filter(feature=feature).order_by("environment_id")
    assert [(s.environment_id, s.enabled, s.type, s.value) for s in states] == [
        (environment.pk, True, ValueType.INTEGER, 25),
        (production.pk, True, ValueType.INTEGER, 25),
    ]
    assert feature.initial_value == 25


@pytest.mark.parametrize(
    ("initial", "expected"),
    [("true", True), ("False", False), ("-7", -7), ("2147483648", "2147483648"), ("x", "x")],
)
def test_feature_create__initial_value_text__auto_typed(
    project: Project, environment: Environment, actor: Actor, initial: str, expected: object
) -> None:
    feature = feature_create(project=project, name="f", initial_value=initial, actor=actor)
    assert _default_state(feature, environment).value == expected


def test_feature_create__bumps_revisions_and_audits(
    project: Project, environment: Environment, actor: Actor
) -> None:
    before = _revision(environment)
    feature = feature_create(project=project, name="new_flag", actor=actor)
    assert _revision(environment) == before + 1
    log = AuditLog.objects.get(resource_type="feature", resource_id=str(feature.pk))
    assert log.after is not None
    assert (log.action, log.author, log.after["name"]) == (
        AuditAction.CREATE,
        actor.user,
        "new_flag",
    )


@pytest.mark.parametrize("name", ["Checkout_Button", "checkout_button", " CHECKOUT_button "])
def test_feature_create__duplicate_name_any_case__refused(
    project: Project, feature: Feature, actor: Actor, name: str
) -> None:
    project.only_allow_lower_case_feature_names = False
    project.save()
    with pytest.raises(ValidationError) as error:
        feature_create(project=project, name=name, actor=actor)
    assert error.value.message_dict == {
        "name": ["A feature with this name already exists in this project."]
    }
    assert Feature.objects.filter(project=project).count() == 1


def test_feature_create__upper_case_in_lower_case_project__refused(
    project: Project, actor: Actor
) -> None:
    with pytest.raises(ValidationError):
        feature_create(project=project, name="Shouty", actor=actor)
    assert not Feature.objects.exists()


def test_feature_create__name_not_matching_project_regex__refused(
    project: Project, actor: Actor
) -> None:
    project.feature_name_regex = r"[a-z]+_[a-z]+"
    project.save()
    with pytest.raises(ValidationError):
        feature_create(project=project, name="nounderscore", actor=actor)
    assert feature_create(project=project, name="has_one", actor=actor).name == "has_one"


def test_feature_create__multivariate__allocations_in_every_state(
    project: Project, environment: Environment, actor: Actor
) -> None:
    feature = feature_create(
        project=project,
        name="colour",
        initial_value="blue",
        multivariate_options=[OptionSpec("green", 30, "g"), OptionSpec("red", 20)],
        actor=actor,
    )
    state = _default_state(feature, environment)
    values = list(
        state.multivariate_feature_state_values.order_by("id").values_list(
            "multivariate_feature_option__string_value", "percentage_allocation"
        )
    )
    assert feature.type == FeatureType.MULTIVARIATE
    assert values == [("green", 30.0), ("red", 20.0)]


def test_feature_create__options_over_100__refused_nothing_created(
    project: Project, environment: Environment, actor: Actor
) -> None:
    with pytest.raises(ValidationError):
        feature_create(
            project=project,
            name="colour",
            multivariate_options=[OptionSpec("a", 60), OptionSpec("b", 41)],
            actor=actor,
        )
    assert not Feature.objects.exists()
    assert not FeatureState.objects.exists()


def test_feature_delete__removes_states_and_overrides(
    feature: Feature, environment: Environment, segment: Segment, identity: Identity, actor: Actor
) -> None:
    segment_override_create(
        feature=feature, segment=segment, environment=environment, enabled=True, actor=actor
    )
    identity_override_create(
        feature=feature, identity_id=identity.pk, environment=environment, actor=actor
    )
    before = _revision(environment)
    feature_delete(feature=feature, actor=actor)
    assert not FeatureState.objects.exists()
    assert not FeatureSegment.objects.exists()
    assert _revision(environment) == before + 1


def test_features_bulk_create__query_count_independent_of_size(
    project: Project, environment: Environment, actor: Actor
) -> None:
    def run(prefix: str, count: int) -> int:
        specs = [
            {"name": f"{prefix}{i}", "multivariate_options": [OptionSpec("a", 10)]}
            for i in range(count)
        ]
        with CaptureQueriesContext(connection) as queries:
            features_bulk_create(project=project, specs=specs, actor=actor)
        return len(queries) - count  # one duplicate-name check per feature

    assert run("small_", 2) == run("large_", 20)
    assert FeatureState.objects.count() == 22
    assert MultivariateFeatureStateValue.objects.count() == 22


# --- Multivariate options -------------------------------------------------------------------


def test_mv_option_create__adds_allocation_to_every_default_state(
    project: Project, feature: Feature, environment: Environment, actor: Actor
) -> None:
    production = environment_create(project=project, name="Production", actor=actor)
    option = mv_option_create(feature=feature, spec=OptionSpec("green", 40), actor=actor)
    allocations = MultivariateFeatureStateValue.objects.filter(multivariate_feature_option=option)
    assert sorted(a.feature_state.environment_id for a in allocations) == [
        environment.pk,
        production.pk,
    ]
    assert {a.percentage_allocation for a in allocations} == {40.0}
    feature.refresh_from_db()
    assert feature.type == FeatureType.MULTIVARIATE


def test_mv_option_create__would_exceed_100__refused_nothing_changed(
    feature: Feature, feature_state: FeatureState, actor: Actor
) -> None:
    option = mv_option_create(feature=feature, spec=OptionSpec("a", 50), actor=actor)
    feature_state_update(
        feature_state=feature_state, allocations=[Allocation(option, 80)], actor=actor
    )
    with pytest.raises(ValidationError):
        mv_option_create(feature=feature, spec=OptionSpec("b", 30), actor=actor)
    assert MultivariateFeatureOption.objects.count() == 1
    assert MultivariateFeatureStateValue.objects.get().percentage_allocation == 80


# --- Feature states -----------------------------------------------------------------------------


def test_feature_state_update__value_and_enabled__stored_typed_revision_audit(
    feature_state: FeatureState, environment: Environment, actor: Actor
) -> None:
    before = _revision(environment)
    feature_state_update(feature_state=feature_state, enabled=True, value=True, actor=actor)
    feature_state.refresh_from_db()
    assert (feature_state.enabled, feature_state.type, feature_state.value) == (
        True,
        ValueType.BOOLEAN,
        True,
    )
    assert _revision(environment) == before + 1
    log = AuditLog.objects.filter(resource_type="feature_state").get()
    assert log.before is not None
    assert log.after is not None
    assert (log.before["feature_state_value"], log.after["feature_state_value"]) == ("blue", True)
    assert log.environment == environment


@pytest.mark.parametrize("value", [2**31, 1.5, ["a"], "x" * 20_001])
def test_feature_state_update__invalid_value__refused_nothing_changed(
    feature_state: FeatureState, environment: Environment, actor: Actor, value: object
) -> None:
    before = _revision(environment)
    with pytest.raises(ValidationError):
        feature_state_update(feature_state=feature_state, value=value, actor=actor)  # type: ignore[arg-type]
    feature_state.refresh_from_db()
    assert feature_state.value == "blue"
    assert _revision(environment) == before


def test_feature_state_update__allocations_over_100__refused(
    feature: Feature, feature_state: FeatureState, actor: Actor
) -> None:
    a = mv_option_create(feature=feature, spec=OptionSpec("a", 10), actor=actor)
    b = mv_option_create(feature=feature, spec=OptionSpec("b", 10), actor=actor)
    with pytest.raises(ValidationError):
        feature_state_update(
            feature_state=feature_state,
            allocations=[Allocation(a, 60), Allocation(b, 50)],
            actor=actor,
        )
    assert set(
        MultivariateFeatureStateValue.objects.values_list("percentage_allocation", flat=True)
    ) == {10.0}


# --- Segment overrides ----------------------------------------------------------------------------


def _segments(project: Project, actor: Actor, count: int) -> list[Segment]:
    return [segment_create(project=project, name=f"s{i}", actor=actor) for i in range(count)]


def test_feature_segment_create__priorities__appended_or_inserted(
    project: Project, feature: Feature, environment: Environment, actor: Actor
) -> None:
    s0, s1, s2 = _segments(project, actor, 3)
    a = feature_segment_create(feature=feature, segment=s0, environment=environment, actor=actor)
    b = feature_segment_create(feature=feature, segment=s1, environment=environment, actor=actor)
    c = feature_segment_create(
        feature=feature, segment=s2, environment=environment, priority=0, actor=actor
    )
    order = list(FeatureSegment.objects.order_by("priority").values_list("id", "priority"))
    assert order == [(c.pk, 0), (a.pk, 1), (b.pk, 2)]


def test_feature_segment_priorities_update__reorders_and_renumbers(
    project: Project, feature: Feature, environment: Environment, actor: Actor
) -> None:
    fss = [
        feature_segment_create(feature=feature, segment=s, environment=environment, actor=actor)
        for s in _segments(project, actor, 3)
    ]
    before = _revision(environment)
    feature_segment_priorities_update(priorities=[(fss[2], 0), (fss[0], 2)], actor=actor)
    order = list(FeatureSegment.objects.order_by("priority").values_list("id", flat=True))
    assert order == [fss[2].pk, fss[1].pk, fss[0].pk]
    assert _revision(environment) == before + 1


def test_feature_segment_delete__weaker_overrides_move_up(
    project: Project, feature: Feature, environment: Environment, actor: Actor
) -> None:
    fss = [
        feature_segment_create(feature=feature, segment=s, environment=environment, actor=actor)
        for s in _segments(project, actor, 3)
    ]
    feature_segment_delete(feature_segment=fss[0], actor=actor)
    assert list(FeatureSegment.objects.values_list("id", "priority")) == [
        (fss[1].pk, 0),
        (fss[2].pk, 1),
    ]


def test_feature_segment_create__segment_of_other_project__refused(
    feature: Feature, environment: Environment, other_project: Project, other_admin, actor: Actor
) -> None:
    foreign = segment_create(project=other_project, name="x", actor=Actor(user=other_admin))
    with pytest.raises(ValidationError):
        feature_segment_create(
            feature=feature, segment=foreign, environment=environment, actor=actor
        )
    assert not FeatureSegment.objects.exists()


def test_segment_override_create__mv_feature__copies_default_allocations(
    feature: Feature, environment: Environment, segment: Segment, actor: Actor
) -> None:
    mv_option_create(feature=feature, spec=OptionSpec("green", 25), actor=actor)
    state = segment_override_create(
        feature=feature, segment=segment, environment=environment, value="red", actor=actor
    )
    assert list(
        state.multivariate_feature_state_values.values_list("percentage_allocation", flat=True)
    ) == [25.0]
    assert state.feature_segment is not None
    assert state.feature_segment.priority == 0


def test_identity_override_create__twice__refused(
    feature: Feature, environment: Environment, identity: Identity, actor: Actor
) -> None:
    identity_override_create(
        feature=feature, identity_id=identity.pk, environment=environment, value=1, actor=actor
    )
    with pytest.raises(ValidationError):
        identity_override_create(
            feature=feature, identity_id=identity.pk, environment=environment, actor=actor
        )
    assert FeatureState.objects.filter(identity=identity).count() == 1


# --- Environments -------------------------------------------------------------------------------


def test_environment_create__existing_features__states_created(
    project: Project, feature: Feature, actor: Actor
) -> None:
    production = environment_create(project=project, name="Production", actor=actor)
    assert _default_state(feature, production).value == "blue"


def test_environment_create__query_count_independent_of_feature_count(
    project: Project, actor: Actor
) -> None:
    def run(name: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            environment_create(project=project, name=name, actor=actor)
        return len(queries)

    features_bulk_create(
        project=project,
        specs=[{"name": "a", "multivariate_options": [OptionSpec(1, 5)]}],
        actor=actor,
    )
    small = run("one")
    features_bulk_create(
        project=project,
        specs=[{"name": f"f{i}", "multivariate_options": [OptionSpec(i, 5)]} for i in range(30)],
        actor=actor,
    )
    assert run("two") == small


def test_environment_update__bumps_revision_and_updated_at(
    environment: Environment, actor: Actor
) -> None:
    before = (environment.revision, environment.updated_at)
    environment_update(environment=environment, name="Dev", allow_client_traits=False, actor=actor)
    environment.refresh_from_db()
    assert environment.revision == before[0] + 1
    assert environment.updated_at > before[1]
    assert (environment.name, environment.allow_client_traits) == ("Dev", False)


def test_environment_clone__copies_states_allocations_overrides_not_identities(
    feature: Feature,
    environment: Environment,
    segment: Segment,
    identity: Identity,
    actor: Actor,
) -> None:
    # Given
    option = mv_option_create(feature=feature, spec=OptionSpec("green", 30), actor=actor)
    feature_state_update(
        feature_state=_default_state(feature, environment), enabled=True, value="x", actor=actor
    )
    segment_override_create(
        feature=feature, segment=segment, environment=environment, value="seg", actor=actor
    )
    identity_override_create(
        feature=feature, identity_id=identity.pk, environment=environment, actor=actor
    )
    environment_api_key_create(environment=environment, name="server", actor=actor)
    # When
    clone = environment_clone(source=environment, name="Staging", actor=actor)
    # Then
    assert clone.api_key != environment.api_key
    default = _default_state(feature, clone)
    assert (default.enabled, default.value) == (True, "x")
    assert list(
        default.multivariate_feature_state_values.values_list(
            "multivariate_feature_option", "percentage_allocation"
        )
    ) == [(option.pk, 30.0)]
    override = FeatureState.objects.get(environment=clone, feature_segment__isnull=False)
    assert (override.value, override.feature_segment.segment_id) == ("seg", segment.pk)  # type: ignore[union-attr]
    assert override.multivariate_feature_state_values.count() == 1
    assert not FeatureState.objects.filter(environment=clone, identity__isnull=False).exists()
    assert not clone.identities.exists()
    assert not clone.api_keys.exists()


# --- Segments ---------------------------------------------------------------------------------


def test_segment_update__rules_replaced(segment: Segment, actor: Actor) -> None:
    segment_update(
        segment=segment,
        rules=[{"type": "ALL", "conditions": [{"operator": "IS_SET", "property": "plan"}]}],
        actor=actor,
    )
    assert list(SegmentRule.objects.values_list("type", flat=True)) == ["ALL"]
    assert list(Condition.objects.values_list("operator", "property", "value")) == [
        ("IS_SET", "plan", "")
    ]


@pytest.mark.parametrize(
    "condition",
    [
        {"operator": "REGEX", "property": "p", "value": "(unclosed"},
        {"operator": "PERCENTAGE_SPLIT", "value": "101"},
        {"operator": "MODULO", "property": "p", "value": "2"},
        {"operator": "NOPE", "property": "p", "value": "1"},
        {"operator": "EQUAL", "property": "p", "value": "x" * 1001},
    ],
)
def test_segment_update__invalid_condition__refused_rules_kept(
    segment: Segment, actor: Actor, condition: dict[str, str]
) -> None:
    with pytest.raises(ValidationError):
        segment_update(
            segment=segment, rules=[{"type": "ALL", "conditions": [condition]}], actor=actor
        )
    assert list(Condition.objects.values_list("operator", flat=True)) == ["GREATER_THAN_INCLUSIVE"]


def test_segment_update__nested_quantifier_regex__accepted_engine_runs_it_linearly(
    segment: Segment, actor: Actor
) -> None:
    # The engine evaluates REGEX with RE2 (linear time), so a pattern that would backtrack
    # exponentially in Python's re is safe to store: validation is the engine's own.
    condition = {"operator": "REGEX", "property": "p", "value": "(a+)+$"}
    segment_update(segment=segment, rules=[{"type": "ALL", "conditions": [condition]}], actor=actor)
    assert list(Condition.objects.values_list("operator", "value")) == [("REGEX", "(a+)+$")]


def test_segment_create__101_conditions__refused(project: Project, actor: Actor) -> None:
    conditions = [{"operator": "EQUAL", "property": "p", "value": str(i)} for i in range(101)]
    with pytest.raises(ValidationError):
        segment_create(
            project=project,
            name="big",
            rules=[{"type": "ANY", "conditions": conditions}],
            actor=actor,
        )
    assert not Segment.objects.exists()


def test_segment_create__bumps_every_environment(
    project: Project, environment: Environment, actor: Actor
) -> None:
    before = _revision(environment)
    segment_create(project=project, name="s", actor=actor)
    assert _revision(environment) == before + 1


# --- Identities -------------------------------------------------------------------------------


def test_identities_bulk_create__query_count_independent_of_size(
    environment: Environment, actor: Actor
) -> None:
    def run(prefix: str, count: int) -> int:
        identities: dict[str, dict[str, str | int | float | bool]] = {
            f"{prefix}{i}": {"plan": "free", "age": i, "score": 1.5} for i in range(count)
        }
        with CaptureQueriesContext(connection) as queries:
            identities_bulk_create(environment=environment, identities=identities, actor=actor)
        return len(queries)

    assert run("a", 2) == run("b", 30)  # below SQLite's bind-variable batch size
    assert Identity.objects.count() == 32
