"""One organisation-level Grafana integration per organisation, enforced by the database.

Before this constraint only a check in the service kept it so, and two concurrent creates could
both pass it: such a duplicate (the later rows) is removed first, keeping the oldest.
"""

from typing import Any

from django.db import migrations, models


def drop_duplicate_organisation_grafana(apps: Any, schema_editor: Any) -> None:
    webhook = apps.get_model("webhooks", "Webhook")
    rows = webhook.objects.filter(
        kind="grafana", project__isnull=True, environment__isnull=True
    ).order_by("organisation_id", "id")
    seen: set[int] = set()
    for pk, organisation_id in rows.values_list("pk", "organisation_id"):
        if organisation_id in seen:
            webhook.objects.filter(pk=pk).delete()
        seen.add(organisation_id)
    if schema_editor.connection.vendor == "postgresql":
        # The deletes leave deferred foreign-key checks pending, and PostgreSQL will not build
        # the index below on a table with pending trigger events: run them now.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    dependencies = [
        ("environments", "0001_initial"),
        ("organisations", "0001_initial"),
        ("projects", "0001_initial"),
        ("webhooks", "0002_integrations"),
    ]

    operations = [
        migrations.RunPython(drop_duplicate_organisation_grafana, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="webhook",
            constraint=models.UniqueConstraint(
                condition=models.Q(
                    ("environment__isnull", True), ("kind", "grafana"), ("project__isnull", True)
                ),
                fields=("kind", "organisation"),
                name="one_grafana_per_organisation",
            ),
        ),
    ]
