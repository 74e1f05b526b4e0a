"""A lock that cannot be had in time is `Busy`, recognised by Postgres's SQLSTATE (55P03,
lock_not_available), never by the English text of the message, which a server with other
lc_messages words differently."""

from __future__ import annotations

import psycopg
import pytest
from django.db import OperationalError, connection, transaction

from bookings.models import Event
from portal.exceptions import Busy
from portal.locking import lock_timeout
from tests.factories import EventFactory


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_row_lock_that_is_not_available_is_busy_whatever_the_message_says(organiser):
    event = EventFactory(organiser=organiser)
    db = connection.settings_dict
    with psycopg.connect(
        dbname=db["NAME"], user=db["USER"], password=db["PASSWORD"], host=db["HOST"], port=db["PORT"] or 5432
    ) as holder:
        holder.execute("SELECT id FROM bookings_event WHERE id = %s FOR UPDATE", [event.pk])
        # NOWAIT fails at once with 55P03 and "could not obtain lock on row ...": no "lock timeout".
        with pytest.raises(Busy), transaction.atomic(), lock_timeout():
            Event.objects.select_for_update(nowait=True).get(pk=event.pk)
        holder.rollback()


@pytest.mark.django_db
def test_a_lock_timeout_reported_in_another_language_is_busy():
    cause = psycopg.errors.LockNotAvailable("Abbruch des Befehls wegen Zeitüberschreitung einer Sperre")

    with pytest.raises(Busy), transaction.atomic(), lock_timeout():
        raise OperationalError(str(cause)) from cause


@pytest.mark.django_db
def test_other_database_errors_that_mention_a_lock_timeout_are_not_busy():
    cause = psycopg.errors.AdminShutdown("terminating connection (it was waiting on a lock timeout)")

    with pytest.raises(OperationalError), transaction.atomic(), lock_timeout():
        raise OperationalError(str(cause)) from cause
