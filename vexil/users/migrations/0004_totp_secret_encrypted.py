"""Two-factor secrets encrypted at rest: widen the column, encrypt existing rows, then read and
write through the encrypting field (the last step changes nothing in the database)."""

from django.db import migrations, models

import vexil.common.encryption

PURPOSE = "totp-secret"


def encrypt_existing(apps, schema_editor):
    device_model = apps.get_model("users", "TOTPDevice")
    for pk, secret in device_model.objects.values_list("pk", "secret"):
        if secret:
            ciphertext = vexil.common.encryption.encrypt(secret, purpose=PURPOSE)
            device_model.objects.filter(pk=pk).update(secret=ciphertext)


def decrypt_existing(apps, schema_editor):
    device_model = apps.get_model("users", "TOTPDevice")
    for pk, secret in device_model.objects.values_list("pk", "secret"):
        if secret:
            plaintext = vexil.common.encryption.decrypt(secret, purpose=PURPOSE)
            device_model.objects.filter(pk=pk).update(secret=plaintext)


class Migration(migrations.Migration):

    dependencies = [
        ("users", "0003_totp"),
    ]

    operations = [
        migrations.AlterField(
            model_name="totpdevice", name="secret", field=models.TextField()
        ),
        migrations.RunPython(encrypt_existing, decrypt_existing),
        migrations.AlterField(
            model_name="totpdevice",
            name="secret",
            field=vexil.common.encryption.EncryptedTextField(purpose=PURPOSE),
        ),
    ]
