# StripeEvent moves from memberships to portal (the platform's one Stripe webhook): its table is
# renamed, its rows stay, and memberships 0003 drops the model from its own state.

from django.db import migrations, models


def content_type_to_portal(apps, schema_editor):
    # Admin history and permissions keep pointing at the model, now portal's.
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="portal", model="stripeevent").exists():
        ContentType.objects.filter(app_label="memberships", model="stripeevent").update(app_label="portal")


def content_type_to_memberships(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="memberships", model="stripeevent").exists():
        ContentType.objects.filter(app_label="portal", model="stripeevent").update(app_label="memberships")


class Migration(migrations.Migration):

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("memberships", "0002_stripe_event_unprocessed_index"),
        ("portal", "0002_organiser_currency_stripe"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="StripeEvent",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("event_id", models.CharField(max_length=255, unique=True)),
                        ("type", models.CharField(max_length=100)),
                        ("created", models.DateTimeField()),
                        ("data", models.JSONField(default=dict)),
                        ("processed_at", models.DateTimeField(blank=True, null=True)),
                    ],
                    options={
                        "ordering": ["-created"],
                        "indexes": [
                            models.Index(
                                condition=models.Q(("processed_at__isnull", True)),
                                fields=["created_at"],
                                name="stripe_event_unprocessed",
                            )
                        ],
                    },
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE memberships_stripeevent RENAME TO portal_stripeevent",
                    reverse_sql="ALTER TABLE portal_stripeevent RENAME TO memberships_stripeevent",
                ),
            ],
        ),
        migrations.RunPython(content_type_to_portal, content_type_to_memberships),
    ]
