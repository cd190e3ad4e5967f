# Slack incoming-webhook URLs are secrets: widen the columns to text (a Fernet token is ~1.6x the URL plus ~100
# characters, so it no longer fits varchar(300)), then encrypt the plaintext already stored. The reverse decrypts
# them back before the columns become varchar(300) again.

from django.db import migrations

import okrapp.crypto

TABLES = ("accounts_organization", "accounts_team")


def _rewrite(schema_editor, convert) -> None:
    """Read the raw column (the field class would try to decrypt it) and write convert(value) for non-empty rows."""
    with schema_editor.connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"SELECT id, slack_webhook_url FROM {table} WHERE slack_webhook_url <> ''")  # noqa: S608
            rows = [(new, pk) for pk, value in cursor.fetchall() if (new := convert(value)) != value]
            if rows:
                cursor.executemany(f"UPDATE {table} SET slack_webhook_url = %s WHERE id = %s", rows)  # noqa: S608


def _encrypt(value: str) -> str:
    try:
        okrapp.crypto.decrypt_str(value)
    except okrapp.crypto.DecryptionError:
        return okrapp.crypto.encrypt_str(value)
    return value  # already a token under a configured key (the migration ran before): don't encrypt twice


def encrypt_urls(apps, schema_editor) -> None:
    _rewrite(schema_editor, _encrypt)


def decrypt_urls(apps, schema_editor) -> None:
    # Raises DecryptionError (stopping the rollback) if a token was written under a key that is not configured.
    _rewrite(schema_editor, okrapp.crypto.decrypt_str)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_nudge_settings"),
    ]

    operations = [
        migrations.AlterField(
            model_name="organization",
            name="slack_webhook_url",
            field=okrapp.crypto.EncryptedTextField(blank=True, default=""),
        ),
        migrations.AlterField(
            model_name="team",
            name="slack_webhook_url",
            field=okrapp.crypto.EncryptedTextField(blank=True, default=""),
        ),
        migrations.RunPython(encrypt_urls, decrypt_urls),
    ]
