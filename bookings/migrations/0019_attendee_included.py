from django.db import migrations, models


def mark_included(apps, schema_editor):
    """Bookings made before tickets recorded it: the included bookings paid for the dearest
    tickets first (as `pricing.booking_price` spends them; equal prices in booking order), as
    many as make up the booking's `included_amount`."""
    Booking = apps.get_model("bookings", "Booking")
    Attendee = apps.get_model("bookings", "Attendee")
    for booking in Booking.objects.filter(included_amount__gt=0).only("pk", "included_amount").iterator():
        left, paid = booking.included_amount, []
        attendees = Attendee.objects.filter(booking_id=booking.pk, price__gt=0).order_by("-price", "pk")
        for attendee in attendees.only("pk", "price"):
            if attendee.price > left:
                continue
            paid.append(attendee.pk)
            left -= attendee.price
            if not left:
                break
        Attendee.objects.filter(pk__in=paid).update(included=True)


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0018_ticket_gift_giver_emails"),
    ]

    operations = [
        migrations.AddField(
            model_name="attendee",
            name="included",
            field=models.BooleanField(
                default=False,
                help_text="Paid by a member's included booking.",
                verbose_name="included in a membership",
            ),
        ),
        migrations.AddField(
            model_name="ticketcancellation",
            name="included_back",
            field=models.PositiveSmallIntegerField(
                default=0, help_text="A member's included bookings given back with the tickets."
            ),
        ),
        migrations.RunPython(mark_included, migrations.RunPython.noop),
    ]
