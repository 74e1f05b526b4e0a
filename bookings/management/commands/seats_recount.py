"""`manage.py seats_recount [--fix] [--event ID ...]`: count every event's places again from its
bookings and waiting-list offers, list the events whose counters disagree, and with --fix set
them right (each under its event's lock, so bookings can go on meanwhile)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from bookings import capacity
from bookings.models import Event


class Command(BaseCommand):
    help = "Recount the seats taken and held on each event; --fix repairs the counters that disagree."

    def add_arguments(self, parser):
        parser.add_argument("--fix", action="store_true", help="Set the counters that disagree.")
        parser.add_argument("--event", type=int, action="append", help="Only this event (by id); repeatable.")

    def handle(self, *args, fix: bool = False, event=None, **options):
        events = Event.objects.filter(pk__in=event) if event else None
        found = capacity.seats_recount(events=events, fix=fix)
        for recount in found:
            state = (
                "fixed"
                if recount.fixed
                else "over capacity: not changed"
                if recount.over_capacity
                else "wrong"
            )
            self.stdout.write(
                f"event {recount.event.pk} “{recount.event.title}”: taken {recount.seats_taken} "
                f"(counted {recount.counted_taken}), held {recount.seats_held} "
                f"(counted {recount.counted_held}), capacity {recount.event.capacity}: {state}"
            )
        if not found:
            self.stdout.write(self.style.SUCCESS("Every event's seat counters agree with its rows."))
        elif not fix:
            self.stdout.write(
                self.style.WARNING(f"{len(found)} event(s) disagree; run with --fix to repair.")
            )
        elif any(recount.over_capacity for recount in found):
            self.stdout.write(
                self.style.ERROR(
                    "Some events hold more places than their capacity: raise the capacity or cancel "
                    "bookings, then run this again."
                )
            )
