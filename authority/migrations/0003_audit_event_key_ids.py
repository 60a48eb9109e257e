"""Audit rows name the audit keys of their MAC and chain hash, so the audit key can rotate.

Rows written before carry "legacy" in both (authority.services.audit.keys.LEGACY_KEY_ID): verify
checks them under every key of the ring. A constant default, so PostgreSQL adds each column
without rewriting the table (its default is dropped again: new rows always name their key).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("authority", "0002_audit_event_lighter_writes"),
    ]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="row_mac_key_id",
            field=models.CharField(default="legacy", max_length=16),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="auditevent",
            name="hash_key_id",
            field=models.CharField(blank=True, default="legacy", max_length=16),
            preserve_default=False,
        ),
    ]
