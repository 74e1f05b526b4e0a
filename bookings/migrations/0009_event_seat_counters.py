"""The seat counters on the event row, counted from today's bookings and waiting-list offers."""

from django.db import migrations, models
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce


def count_seats(apps, schema_editor):
    Event = apps.get_model("bookings", "Event")
    Attendee = apps.get_model("bookings", "Attendee")
    WaitingListEntry = apps.get_model("bookings", "WaitingListEntry")
    taken = (
        Attendee.objects.filter(booking__event=OuterRef("pk"), booking__status__in=["confirmed", "pending"])
        .order_by()
        .values("booking__event")
        .annotate(n=Count("pk"))
        .values("n")
    )
    held = (
        WaitingListEntry.objects.filter(event=OuterRef("pk"), status="offered")
        .order_by()
        .values("event")
        .annotate(n=Sum("quantity"))
        .values("n")
    )
    Event.objects.update(
        seats_taken=Coalesce(Subquery(taken), 0), seats_held=Coalesce(Subquery(held), 0)
    )
    # Until now the admin let an organiser lower a capacity below the places already booked (the
    # event then simply showed as full). Such an event keeps the capacity it actually holds, so
    # it stays full and nothing a booker sees changes.
    Event.objects.filter(capacity__lt=F("seats_taken") + F("seats_held")).update(
        capacity=F("seats_taken") + F("seats_held")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("bookings", "0008_ticket_price_at_most_stripes_limit"),
    ]

    operations = [
        migrations.AddField(
            model_name="event",
            name="seats_taken",
            field=models.PositiveIntegerField(db_default=0, default=0, editable=False),
        ),
        migrations.AddField(
            model_name="event",
            name="seats_held",
            field=models.PositiveIntegerField(db_default=0, default=0, editable=False),
        ),
        migrations.RunPython(count_seats, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="event",
            constraint=models.CheckConstraint(
                condition=Q(seats_taken__lte=F("capacity") - F("seats_held")),
                name="event_seats_within_capacity",
                violation_error_message="More places are booked or held than the capacity allows.",
            ),
        ),
    ]
