"""Data for the resilience tests and bench/outage.py, written by a child process into the
database of its DATABASE_URL (the scratch cluster), through the services as the API does.

    python -m tests.resilience.world seed           -> JSON: keys and feature names
    python -m tests.resilience.world set FEATURE VALUE   (the environment default's value)
    python -m tests.resilience.world counts         -> JSON: stored evaluation counts per feature
"""

from __future__ import annotations

import json
import sys


def seed() -> dict[str, object]:
    from vexil.audit.services import Actor
    from vexil.environments.services import environment_api_key_create, environment_create
    from vexil.features.services import feature_create
    from vexil.organisations.services import organisation_create
    from vexil.projects.services import project_create

    actor = Actor(api_key_name="resilience")
    organisation = organisation_create(name="Resilience", creator=None, actor=actor)
    project = project_create(organisation=organisation, name="Shop", actor=actor)
    environment = environment_create(project=project, name="Production", actor=actor)
    _, server_key = environment_api_key_create(environment=environment, name="backend", actor=actor)
    for name in ("banner", "limit", "theme"):
        feature_create(
            project=project, name=name, initial_value="v0", default_enabled=True, actor=actor
        )
    return {"client_key": environment.api_key, "server_key": server_key}


def set_value(feature: str, value: str) -> None:
    from vexil.audit.services import Actor
    from vexil.features.models import FeatureState
    from vexil.features.services import feature_state_update

    state = FeatureState.objects.get(
        feature__name=feature, identity=None, feature_segment=None, environment__name="Production"
    )
    feature_state_update(feature_state=state, actor=Actor(api_key_name="resilience"), value=value)


def counts() -> dict[str, int]:
    from django.db.models import Sum

    from vexil.analytics.models import FeatureEvaluationCount

    rows = FeatureEvaluationCount.objects.values("feature__name").annotate(total=Sum("count"))
    return {row["feature__name"]: row["total"] for row in rows}


def main() -> None:
    import django

    django.setup()
    if sys.argv[1] == "seed":
        sys.stdout.write(json.dumps(seed()) + "\n")
    elif sys.argv[1] == "set":
        set_value(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "counts":
        sys.stdout.write(json.dumps(counts()) + "\n")


if __name__ == "__main__":
    main()
