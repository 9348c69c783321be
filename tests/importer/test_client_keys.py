"""An environment created with a client-side key issued elsewhere keeps it; a bad or taken key is
refused and nothing is created."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.environments.services import environment_create
from vexil.projects.models import Project

pytestmark = pytest.mark.django_db


def test_environment_create__client_key_given__kept(project: Project, actor: Actor) -> None:
    environment = environment_create(
        project=project, name="Production", actor=actor, api_key="K6xVbZ7nYq3bQeW3sA8u2d"
    )
    assert Environment.objects.get(pk=environment.pk).api_key == "K6xVbZ7nYq3bQeW3sA8u2d"


@pytest.mark.parametrize("key", ["", "ser.abcdef", "has space", "x" * 101, "é"])
def test_environment_create__malformed_client_key__refused(
    project: Project, actor: Actor, key: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        environment_create(project=project, name="Production", actor=actor, api_key=key)
    assert "api_key" in refused.value.message_dict
    assert not Environment.objects.filter(project=project).exists()


def test_environment_create__client_key_taken__refused(
    project: Project, environment: Environment, actor: Actor
) -> None:
    with pytest.raises(ValidationError) as refused:
        environment_create(project=project, name="Copy", actor=actor, api_key=environment.api_key)
    assert refused.value.message_dict == {"api_key": ["Another environment already has this key."]}
    assert Environment.objects.filter(project=project).count() == 1
