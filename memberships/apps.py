from django.apps import AppConfig


class MembershipsConfig(AppConfig):
    name = "memberships"

    def ready(self):
        from celery.schedules import crontab

        from portal.celery import app

        # Offline memberships renew or end at their period's end; Stripe does its own and tells us.
        app.conf.beat_schedule = {
            **(app.conf.beat_schedule or {}),
            "memberships-advance-due": {
                "task": "memberships.tasks.membership_advance_due",
                "schedule": 3600.0,
            },
            # Stripe events whose task gave up (or was never queued) are applied again.
            "memberships-stripe-event-sweep": {
                "task": "memberships.tasks.stripe_event_sweep",
                "schedule": 300.0,
            },
            # A lost webhook shows up by morning: Stripe memberships compared with Stripe, mismatches
            # logged as warnings (see memberships/reconcile.py).
            "memberships-reconcile": {
                "task": "memberships.tasks.membership_reconcile",
                "schedule": crontab(hour=3, minute=17),
            },
        }
