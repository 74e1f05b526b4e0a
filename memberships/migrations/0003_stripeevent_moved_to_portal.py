# StripeEvent now lives in portal (portal 0003 renamed its table): only the model state goes here.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("memberships", "0002_stripe_event_unprocessed_index"),
        ("portal", "0003_stripeevent"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="StripeEvent")],
        ),
    ]
