"""Factories. Tenant rows take their organiser from their parent, so nothing straddles tenants."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from accounts.models import User
from bookings.models import (
    AccountCredit,
    Attendee,
    Booking,
    BookingFormField,
    BookingFormResponse,
    BookingRules,
    CancelledTicket,
    DetailEdit,
    Event,
    Refund,
    TicketCancellation,
    TicketGift,
    TicketType,
    Transfer,
    WaitingListEntry,
)
from portal.models import Organiser, OrganiserStaff, Withdrawal

PASSWORD = "correct-horse-battery-staple"


def _count_on_event(event_id: int, *, taken: int = 0, held: int = 0) -> None:
    """Count a factory's seat on its event's row, as the services do. A test may put more on an
    event than its capacity (as data could be before the counters): the capacity then grows to
    fit, as the counters' migration did for such events, and the event shows as full."""
    Event.objects.filter(pk=event_id).update(
        seats_taken=F("seats_taken") + taken,
        seats_held=F("seats_held") + held,
        capacity=Greatest("capacity", F("seats_taken") + F("seats_held") + taken + held),
    )


class OrganiserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organiser

    slug = factory.Sequence(lambda n: f"organiser-{n}")
    name = factory.Sequence(lambda n: f"Organiser {n}")
    plan = Organiser.Plan.STANDARD
    contact_email = factory.LazyAttribute(lambda o: f"hello@{o.slug}.example")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"booker{n}@example.com")
    name = factory.Sequence(lambda n: f"Booker {n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class TenantFactory(factory.django.DjangoModelFactory):
    """A tenant row whose organiser comes from its parent when only the parent is given,
    and whose parent is made for the given organiser when only the organiser is given."""

    _parent = ""

    class Meta:
        abstract = True

    @classmethod
    def _generate(cls, strategy, params):
        parent = params.get(cls._parent) if cls._parent else None
        if parent is not None and "organiser" not in params:
            params["organiser"] = parent.organiser
        return super()._generate(strategy, params)


class OrganiserStaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrganiserStaff

    organiser = factory.SubFactory(OrganiserFactory)
    user = factory.SubFactory(UserFactory, is_staff=True)
    role = OrganiserStaff.Role.MANAGER


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    organiser = factory.SubFactory(OrganiserFactory)
    title = factory.Sequence(lambda n: f"Event {n}")
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
    ends_at = factory.LazyAttribute(lambda e: e.starts_at + timedelta(hours=1))
    capacity = 10


class TicketTypeFactory(TenantFactory):
    _parent = "event"

    class Meta:
        model = TicketType

    organiser = factory.SubFactory(OrganiserFactory)
    event = factory.SubFactory(EventFactory, organiser=factory.SelfAttribute("..organiser"))
    name = "Standard"
    price = 1000


class BookingFactory(TenantFactory):
    _parent = "event"

    class Meta:
        model = Booking

    organiser = factory.SubFactory(OrganiserFactory)
    event = factory.SubFactory(EventFactory, organiser=factory.SelfAttribute("..organiser"))
    booker_name = factory.Sequence(lambda n: f"Booker {n}")
    booker_email = factory.Sequence(lambda n: f"guest{n}@example.com")
    currency = factory.SelfAttribute("organiser.currency")
    total = 1000
    payment_method = Booking.PaymentMethod.CARD


class AttendeeFactory(TenantFactory):
    _parent = "booking"

    class Meta:
        model = Attendee
        skip_postgeneration_save = True

    organiser = factory.SubFactory(OrganiserFactory)
    booking = factory.SubFactory(BookingFactory, organiser=factory.SelfAttribute("..organiser"))
    ticket_type = factory.SubFactory(
        TicketTypeFactory,
        event=factory.SelfAttribute("..booking.event"),
        organiser=factory.SelfAttribute("..organiser"),
    )
    name = factory.Sequence(lambda n: f"Attendee {n}")
    price = factory.SelfAttribute("ticket_type.price")

    @factory.post_generation
    def takes_a_seat(obj, create, extracted, **kwargs):
        # As the booking service does: a ticket of a confirmed or pending booking holds a seat,
        # counted on the event row (bookings.capacity).
        if create and obj.booking.status in (Booking.Status.CONFIRMED, Booking.Status.PENDING):
            _count_on_event(obj.booking.event_id, taken=1)


class BookingFormFieldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BookingFormField

    organiser = factory.SubFactory(OrganiserFactory)
    label = "Any injuries we should know about?"


class BookingFormResponseFactory(TenantFactory):
    _parent = "booking"

    class Meta:
        model = BookingFormResponse

    organiser = factory.SubFactory(OrganiserFactory)
    booking = factory.SubFactory(BookingFactory, organiser=factory.SelfAttribute("..organiser"))
    field = factory.SubFactory(BookingFormFieldFactory, organiser=factory.SelfAttribute("..organiser"))
    label = factory.SelfAttribute("field.label")
    answer = "None"


class WaitingListEntryFactory(TenantFactory):
    _parent = "event"

    class Meta:
        model = WaitingListEntry
        skip_postgeneration_save = True

    organiser = factory.SubFactory(OrganiserFactory)
    event = factory.SubFactory(EventFactory, organiser=factory.SelfAttribute("..organiser"))
    name = factory.Sequence(lambda n: f"Waiter {n}")
    email = factory.Sequence(lambda n: f"waiter{n}@example.com")
    # A place its mailbox's owner has confirmed (a new join starts unconfirmed).
    status = WaitingListEntry.Status.WAITING
    confirmed_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def holds_its_places(obj, create, extracted, **kwargs):
        # As the waiting-list service does: an offer holds its places on the event row.
        if create and obj.status == WaitingListEntry.Status.OFFERED:
            _count_on_event(obj.event_id, held=obj.quantity)


class BookingRulesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BookingRules

    organiser = factory.SubFactory(OrganiserFactory)
    # An event's override; pass event=None for the organiser's default rules.
    event = factory.SubFactory(EventFactory, organiser=factory.SelfAttribute("..organiser"))
    transfers_allowed = True
    cancellations_allowed = True


class RefundFactory(TenantFactory):
    _parent = "booking"

    class Meta:
        model = Refund

    organiser = factory.SubFactory(OrganiserFactory)
    booking = factory.SubFactory(BookingFactory, organiser=factory.SelfAttribute("..organiser"))
    reason = Refund.Reason.EVENT_CANCELLED
    method = BookingRules.RefundMethod.ORIGINAL
    amount = factory.SelfAttribute("booking.total")
    currency = factory.SelfAttribute("booking.currency")


class AccountCreditFactory(TenantFactory):
    _parent = "refund"

    class Meta:
        model = AccountCredit

    organiser = factory.SubFactory(OrganiserFactory)
    refund = factory.SubFactory(
        RefundFactory,
        organiser=factory.SelfAttribute("..organiser"),
        method=BookingRules.RefundMethod.CREDIT,
    )
    email = factory.SelfAttribute("refund.booking.booker_email")
    amount = factory.SelfAttribute("refund.amount")
    currency = factory.SelfAttribute("refund.currency")


class TransferFactory(TenantFactory):
    _parent = "booking"

    class Meta:
        model = Transfer

    organiser = factory.SubFactory(OrganiserFactory)
    booking = factory.SubFactory(BookingFactory, organiser=factory.SelfAttribute("..organiser"))
    from_event = factory.SelfAttribute("booking.event")
    to_event = factory.SubFactory(EventFactory, organiser=factory.SelfAttribute("..organiser"))
    to_ticket_type = factory.SubFactory(
        TicketTypeFactory,
        event=factory.SelfAttribute("..to_event"),
        organiser=factory.SelfAttribute("..organiser"),
    )
    old_total = factory.SelfAttribute("booking.total")
    new_total = factory.SelfAttribute("booking.total")
    idempotency_key = factory.Sequence(lambda n: f"transfer-{n}")


class TicketCancellationFactory(TenantFactory):
    _parent = "booking"

    class Meta:
        model = TicketCancellation

    organiser = factory.SubFactory(OrganiserFactory)
    booking = factory.SubFactory(BookingFactory, organiser=factory.SelfAttribute("..organiser"))
    idempotency_key = factory.Sequence(lambda n: f"cancellation-{n}")


class CancelledTicketFactory(TenantFactory):
    _parent = "cancellation"

    class Meta:
        model = CancelledTicket

    organiser = factory.SubFactory(OrganiserFactory)
    cancellation = factory.SubFactory(
        TicketCancellationFactory, organiser=factory.SelfAttribute("..organiser")
    )
    ticket_type = factory.SubFactory(
        TicketTypeFactory,
        event=factory.SelfAttribute("..cancellation.booking.event"),
        organiser=factory.SelfAttribute("..organiser"),
    )
    name = "Cancelled attendee"
    price = factory.SelfAttribute("ticket_type.price")


class DetailEditFactory(TenantFactory):
    _parent = "booking"

    class Meta:
        model = DetailEdit

    organiser = factory.SubFactory(OrganiserFactory)
    booking = factory.SubFactory(BookingFactory, organiser=factory.SelfAttribute("..organiser"))
    changed_by_label = "The booker"
    changes = factory.LazyFunction(lambda: [{"what": "Name of attendee 1", "before": "Mya", "after": "Maya"}])
    idempotency_key = factory.Sequence(lambda n: f"edit-{n}")


class TicketGiftFactory(TenantFactory):
    _parent = "booking"

    class Meta:
        model = TicketGift

    organiser = factory.SubFactory(OrganiserFactory)
    booking = factory.SubFactory(BookingFactory, organiser=factory.SelfAttribute("..organiser"))
    ticket_label = "Kim (Child)"
    recipient_name = "Ola Friend"
    recipient_email = factory.Sequence(lambda n: f"friend{n}@example.net")
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
    idempotency_key = factory.Sequence(lambda n: f"gift-{n}")


# Every tenant-owned model's factory: the scoping tests fail for a model missing here.
class WithdrawalFactory(factory.django.DjangoModelFactory):
    """A booker's withdrawal from a contract (portal.withdrawals), as the admin lists it."""

    class Meta:
        model = Withdrawal

    organiser = factory.SubFactory(OrganiserFactory)
    kind = "pass"
    contract_code = factory.Sequence(lambda n: f"00000000-0000-0000-0000-{n:012d}")
    user = factory.SubFactory(UserFactory)
    email = factory.LazyAttribute(lambda w: w.user.email)
    description = factory.Sequence(lambda n: f"Class pass {n}")
    purchased_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=2))
    withdrawn_at = factory.LazyFunction(timezone.now)
    currency = factory.SelfAttribute("organiser.currency")
    amount_paid = 6000
    refund_amount = 6000
    payment_reference = "offline_pay_w"


TENANT_FACTORIES = {
    factory_class._meta.model: factory_class
    for factory_class in [
        WithdrawalFactory,
        EventFactory,
        TicketTypeFactory,
        BookingFactory,
        AttendeeFactory,
        BookingFormFieldFactory,
        BookingFormResponseFactory,
        WaitingListEntryFactory,
        BookingRulesFactory,
        RefundFactory,
        AccountCreditFactory,
        TransferFactory,
        TicketCancellationFactory,
        CancelledTicketFactory,
        DetailEditFactory,
        TicketGiftFactory,
    ]
}

from tests.memberships.factories import MEMBERSHIP_FACTORIES  # noqa: E402

TENANT_FACTORIES.update({factory_class._meta.model: factory_class for factory_class in MEMBERSHIP_FACTORIES})

from tests.passes.factories import PASS_FACTORIES  # noqa: E402
from tests.vouchers.factories import VOUCHER_FACTORIES  # noqa: E402

TENANT_FACTORIES.update({f._meta.model: f for f in PASS_FACTORIES + VOUCHER_FACTORIES})
