from django.db import migrations, models


def stamp_told(apps, schema_editor):
    """Offers accepted or marked expired before these fields existed are not announced to their
    givers now."""
    TicketGift = apps.get_model("bookings", "TicketGift")
    for gift in TicketGift.objects.filter(status="accepted", accepted_email_sent_at__isnull=True):
        gift.accepted_email_sent_at = gift.accepted_at or gift.updated_at
        gift.save(update_fields=["accepted_email_sent_at"])
    TicketGift.objects.filter(status="expired").update(expired_email_sent_at=models.F("updated_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0017_ticket_gifts"),
    ]

    operations = [
        migrations.AddField(
            model_name="ticketgift",
            name="accepted_email_sent_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="ticketgift",
            name="expired_email_sent_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(stamp_told, migrations.RunPython.noop),
    ]
