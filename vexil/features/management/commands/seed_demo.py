"""``vexil seed-demo``: a realistic, deterministic demo organisation, made through the services."""

from __future__ import annotations

import json
import random
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.environments.services import environment_api_key_create, environment_create
from vexil.features.models import Feature
from vexil.features.services import (
    OptionSpec,
    features_bulk_create,
    identity_override_create,
    segment_override_create,
)
from vexil.identities.models import TraitValue
from vexil.identities.services import identities_bulk_create
from vexil.organisations.models import Organisation
from vexil.organisations.services import organisation_create
from vexil.projects.services import project_create
from vexil.segments.models import Segment
from vexil.segments.services import segments_bulk_create
from vexil.users.models import User

SEED = 20_260_801
DEMO_ORGANISATION = "Demo"
ACTOR = Actor(api_key_name="seed-demo")
PLANS = ["free", "pro", "team", "enterprise"]
COUNTRIES = ["GB", "FR", "DE", "US", "JP", "BR", "IN"]
WORDS = ["checkout", "banner", "search", "billing", "onboarding", "export", "profile", "cart"]


def _feature_specs(rng: random.Random, count: int) -> list[dict[str, Any]]:
    specs = []
    for index in range(count):
        name = f"{WORDS[index % len(WORDS)]}_{index:04d}"
        spec: dict[str, Any] = {"name": name, "default_enabled": rng.random() < 0.5}
        kind = rng.choice(["string", "int", "bool", "none"])
        spec["initial_value"] = {
            "string": f"value-{index}",
            "int": rng.randint(0, 1000),
            "bool": rng.random() < 0.5,
            "none": None,
        }[kind]
        if index % 5 == 0:  # 20% multivariate
            options = rng.choice([2, 3])
            share = 90 // options
            spec["multivariate_options"] = [
                OptionSpec(f"variant-{letter}", share, f"variant_{letter}")
                for letter in "abc"[:options]
            ]
        specs.append(spec)
    return specs


def _condition(rng: random.Random) -> dict[str, str]:
    return rng.choice(
        [
            {"operator": "EQUAL", "property": "plan", "value": rng.choice(PLANS)},
            {"operator": "NOT_EQUAL", "property": "country", "value": rng.choice(COUNTRIES)},
            {"operator": "GREATER_THAN", "property": "orders", "value": str(rng.randint(1, 50))},
            {
                "operator": "LESS_THAN_INCLUSIVE",
                "property": "age",
                "value": str(rng.randint(18, 70)),
            },
            {"operator": "IN", "property": "country", "value": ",".join(rng.sample(COUNTRIES, 3))},
            {"operator": "REGEX", "property": "email", "value": r".*@example\.(com|org)$"},
            {"operator": "PERCENTAGE_SPLIT", "property": "", "value": str(rng.randint(5, 50))},
            {
                "operator": "GREATER_THAN_INCLUSIVE",
                "property": "app_version",
                "value": "2.1.0:semver",
            },
            {"operator": "MODULO", "property": "orders", "value": f"{rng.randint(2, 5)}|0"},
            {"operator": "IS_SET", "property": "beta_opt_in", "value": ""},
            {"operator": "IS_NOT_SET", "property": "churned_at", "value": ""},
            {"operator": "CONTAINS", "property": "email", "value": "example"},
        ]
    )


def _segment_specs(rng: random.Random, count: int) -> list[dict[str, Any]]:
    specs = []
    for index in range(count):
        inner = [
            {
                "type": rng.choice(["ANY", "ALL", "NONE"]),
                "conditions": [_condition(rng) for _ in range(rng.randint(1, 3))],
                "rules": [],
            }
            for _ in range(rng.randint(1, 3))
        ]
        specs.append({"name": f"segment_{index:03d}", "rules": [{"type": "ALL", "rules": inner}]})
    return specs


def _traits(rng: random.Random, index: int) -> dict[str, TraitValue]:
    return {
        "email": f"user{index}@example.{rng.choice(['com', 'org', 'net'])}",
        "plan": rng.choice(PLANS),
        "country": rng.choice(COUNTRIES),
        "orders": rng.randint(0, 100),
        "age": rng.randint(18, 80),
        "app_version": f"{rng.randint(1, 3)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}",
        "lifetime_value": round(rng.uniform(0, 5000), 2),
        "beta_opt_in": rng.random() < 0.3,
        "signup_year": rng.randint(2015, 2026),
        "locale": rng.choice(["en", "fr", "de", "ja", "pt"]),
    }


SAMPLE_IDENTITIES = 3  # listed in the output, so a user has identities with traits to try


class Command(BaseCommand):
    help = (
        "Create a deterministic demo organisation with features, segments and identities, and "
        "print its keys and a few identities to try. It refuses a name an organisation already "
        "has; pass --organisation to make another."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--organisation",
            default=DEMO_ORGANISATION,
            help=f"the new organisation's name (default: {DEMO_ORGANISATION!r})",
        )
        parser.add_argument(
            "--features", type=int, default=100, help="features to create (default: 100)"
        )
        parser.add_argument(
            "--segments", type=int, default=50, help="segments to create (default: 50)"
        )
        parser.add_argument(
            "--identities",
            type=int,
            default=1000,
            help="identities with ten traits each, per environment (default: 1000)",
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        if min(options["features"], options["segments"], options["identities"]) < 0:
            raise CommandError("Counts cannot be negative.")
        rng = random.Random(SEED)
        with transaction.atomic():
            existing = Organisation.objects.filter(name=options["organisation"]).first()
            if existing is not None:
                raise CommandError(
                    f"An organisation called {existing.name!r} exists already (id {existing.pk}); "
                    "nothing was created. Run again with --organisation NAME for another one."
                )
            result = self._seed(rng, options)
        if connection.vendor == "postgresql":
            # Planner statistics of a bulk load: without them the identify read scanned every
            # identity of the environment instead of using the (environment, identifier) index.
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(f"Organisation {result['organisation']['name']!r} created.")
        for environment in result["environments"]:
            self.stdout.write(
                f"{environment['name']}: client key {environment['client_key']}, "
                f"server key (shown once) {environment['server_key']}"
            )
            for identity in environment["identities"]:
                self.stdout.write(f"  identity {identity['identifier']}: {identity['traits']}")

    def _seed(self, rng: random.Random, options: dict[str, Any]) -> dict[str, Any]:
        admin = User.objects.filter(is_superuser=True).order_by("id").first()
        organisation = organisation_create(name=options["organisation"], creator=admin, actor=ACTOR)
        project = project_create(organisation=organisation, name="Demo project", actor=ACTOR)
        environments = [
            environment_create(project=project, name=name, actor=ACTOR)
            for name in ("Development", "Production")
        ]
        keys = [
            environment_api_key_create(environment=e, name="Demo server key", actor=ACTOR)[1]
            for e in environments
        ]
        specs = _feature_specs(rng, options["features"])
        features = features_bulk_create(project=project, specs=specs, actor=ACTOR) if specs else []
        segment_specs = _segment_specs(rng, options["segments"])
        segments = (
            segments_bulk_create(project=project, specs=segment_specs, actor=ACTOR)
            if segment_specs
            else []
        )
        samples = []
        for environment in environments:
            self._overrides(rng, environment, features, segments)
            samples.append(self._identities(rng, environment, features, options["identities"]))
        return {
            "organisation": {"id": organisation.pk, "name": organisation.name},
            "project": {"id": project.pk, "name": project.name},
            "environments": [
                {"name": e.name, "client_key": e.api_key, "server_key": key, "identities": sample}
                for e, key, sample in zip(environments, keys, samples, strict=True)
            ],
        }

    def _overrides(
        self,
        rng: random.Random,
        environment: Environment,
        features: list[Feature],
        segments: list[Segment],
    ) -> None:
        if not segments:
            return
        for feature in features[:20]:
            for priority, segment in enumerate(rng.sample(segments, min(len(segments), 3))):
                segment_override_create(
                    feature=feature,
                    segment=segment,
                    environment=environment,
                    enabled=True,
                    value=f"{segment.name}-override",
                    priority=priority,
                    actor=ACTOR,
                )

    def _identities(
        self, rng: random.Random, environment: Environment, features: list[Feature], count: int
    ) -> list[dict[str, Any]]:
        """Create the identities; return the first few, with their traits, for the output."""
        if count == 0:
            return []
        traits = {f"user{index}@example.com": _traits(rng, index) for index in range(count)}
        identities = identities_bulk_create(environment=environment, identities=traits, actor=ACTOR)
        samples = [
            {"identifier": identifier, "traits": traits[identifier]}
            for identifier in list(traits)[:SAMPLE_IDENTITIES]
        ]
        if not features:
            return samples
        for identity in identities[:20]:
            identity_override_create(
                feature=rng.choice(features),
                identity_id=identity.pk,
                environment=environment,
                enabled=True,
                value="identity-override",
                actor=ACTOR,
            )
        return samples
