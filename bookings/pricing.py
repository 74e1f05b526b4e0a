"""What a booking costs, and what pays for it: the one arithmetic behind the pay button and the
charge.

`booking_price` turns the tickets' prices into what the booker pays: a member's included bookings
pay for tickets first (the dearest first, one ticket per booking left this period), the member
discount comes off the rest, then a pass pays everything (one use per ticket) or a voucher pays
what it can. The booking page shows its `to_pay` on the button; `booking_submit` books its
`total` and spends the same included bookings.

Memberships sit above bookings' core (they know bookings, not the other way round), so the
discount and the included bookings are asked of whoever registered them (MembershipsConfig.ready)
instead of imported."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

#: (user, organiser) -> (percent off, the name the booker sees it under, e.g. the plan's name)
DiscountProvider = Callable[..., tuple[int, str]]

_providers: list[DiscountProvider] = []


def member_discount_register(provider: DiscountProvider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def member_discount_percent(*, user, organiser) -> tuple[int, str]:
    """The best percentage off any registered provider gives this booker at this organiser."""
    offers = [provider(user=user, organiser=organiser) for provider in _providers]
    return max(offers, default=(0, ""), key=lambda offer: offer[0])


def member_discount(*, user, organiser, subtotal: int) -> tuple[int, str]:
    """A member's percentage off `subtotal`, rounded down to the minor unit, and how the booker
    sees it."""
    if user is None or not subtotal:
        return 0, ""
    percent, name = member_discount_percent(user=user, organiser=organiser)
    if not percent:
        return 0, ""
    return subtotal * percent // 100, _("%(plan)s member discount (%(percent)s%%)") % {
        "plan": name,
        "percent": percent,
    }


# Included bookings --------------------------------------------------------------------------------


@dataclass(frozen=True)
class IncludedOffer:
    """Bookings a booker's membership still includes this period at one organiser. `source` is
    the registered key that spends them; `key` names the membership to that source."""

    source: str
    key: object
    left: int
    name: str  # the plan's name
    period: str  # "month", "year": the period they reset with, as the booker reads it


@dataclass(frozen=True)
class IncludedSource:
    #: (*, user, organiser, lock: bool) -> IncludedOffer | None. With `lock`, the row that holds
    #: the allowance is locked (inside the booking's transaction, after the event row) and stays
    #: locked until commit, so two bookings never spend the last one twice.
    offer: Callable[..., IncludedOffer | None]
    #: (*, offer, booking, tickets: int) -> None: record `tickets` spent on `booking`; raises a
    #: PortalError when fewer are left (checked again under the lock).
    spend: Callable[..., None]
    #: (*, booking, tickets: int | None = None) -> int: give back what `booking` spent (once;
    #: later calls return 0), or only `tickets` of them (some of its tickets were cancelled).
    give_back: Callable[..., int]
    #: (*, booking) -> int: how many tickets of `booking` they paid for (0 when given back).
    spent_on: Callable[..., int]
    #: (*, booking, to_reference: str, tickets: int) -> int: `tickets` of those `booking` spent
    #: now belong to the booking `to_reference` (tickets split off into a booking of their own),
    #: still spent. Returns how many moved.
    hand_over: Callable[..., int]
    #: (*, booking, tickets: int) -> str: what the booking's order details call `tickets` of
    #: them once some of its tickets have left ("Monthly Unlimited: 1 included booking"), or "".
    describe: Callable[..., str] | None = None


_included: dict[str, IncludedSource] = {}


def included_bookings_register(key: str, source: IncludedSource) -> None:
    _included[key] = source


def included_offer(*, user, organiser, lock: bool = False) -> IncludedOffer | None:
    """The included bookings this booker has left at this organiser (the most any source has)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    offers = [source.offer(user=user, organiser=organiser, lock=lock) for source in _included.values()]
    offers = [offer for offer in offers if offer is not None and offer.left > 0]
    return max(offers, default=None, key=lambda offer: offer.left)


def included_spend(*, offer: IncludedOffer, booking, tickets: int) -> None:
    _included[offer.source].spend(offer=offer, booking=booking, tickets=tickets)


def included_give_back(*, booking, tickets: int | None = None) -> int:
    """Give back the included bookings `booking` spent (or `tickets` of them); how many went back."""
    if tickets is None:
        return sum(source.give_back(booking=booking) for source in _included.values())
    back = 0
    for source in _included.values():
        back += source.give_back(booking=booking, tickets=tickets - back) if back < tickets else 0
    return back


def included_reason(*, booking, tickets: int) -> str:
    """The order details' line for the `tickets` of `booking` its included bookings still pay."""
    if tickets <= 0:
        return ""
    for source in _included.values():
        if source.describe is not None and (reason := source.describe(booking=booking, tickets=tickets)):
            return reason
    return ""


def included_hand_over(*, booking, to_reference: str, tickets: int) -> int:
    """`tickets` of the included bookings `booking` spent now belong to `to_reference`, still
    spent: tickets split off into a booking of their own, or cancelled without a refund (then
    `to_reference` names no booking, and they are never given back)."""
    moved = 0
    for source in _included.values():
        if moved < tickets:
            moved += source.hand_over(booking=booking, to_reference=to_reference, tickets=tickets - moved)
    return moved


def included_spent_on(*, booking) -> int:
    return sum(source.spent_on(booking=booking) for source in _included.values())


def included_tickets(prices: Sequence[int], *, used: int) -> set[int]:
    """Which of the tickets at `prices` (their positions) `used` included bookings pay for: the
    dearest first, equal prices in order; free tickets use none (as `booking_price` counts)."""
    paying = sorted((n for n, price in enumerate(prices) if price > 0), key=lambda n: (-prices[n], n))
    return set(paying[:used])


# The price ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Price:
    """One booking's price, from the tickets to what the booker pays now."""

    subtotal: int
    included_tickets: int = 0  # tickets paid for by included bookings
    included_amount: int = 0  # their prices
    included_reason: str = ""
    discount: int = 0
    discount_reason: str = ""
    pass_uses: int = 0  # a pass pays every ticket, one use each
    voucher_amount: int = 0  # what a voucher pays of `total`

    @property
    def total(self) -> int:
        """What the booking costs, before a pass or voucher pays it (the booking's `total`)."""
        return self.subtotal - self.included_amount - self.discount

    @property
    def to_pay(self) -> int:
        """What the booker pays by card."""
        if self.pass_uses:
            return 0
        return self.total - self.voucher_amount


def voucher_share(*, balance: int, due: int) -> int:
    """A voucher pays what it can: its balance, at most what is due."""
    return max(min(int(balance), int(due)), 0)


def booking_price(
    *,
    prices: Sequence[int],
    user,
    organiser,
    included: IncludedOffer | None = None,
    pays_with_pass: bool = False,
    voucher_balance: int = 0,
) -> Price:
    """The price of tickets at `prices` for `user` (None for a guest) at `organiser`.

    `included`: the booker's included bookings to spend (None to pay instead). With
    `pays_with_pass` a pass pays every ticket and the included bookings are kept. A voucher with
    `voucher_balance` pays what it can of the rest."""
    subtotal = sum(prices)
    paid = sorted((price for price in prices if price > 0), reverse=True)
    used = min(included.left, len(paid)) if included is not None and not pays_with_pass else 0
    included_amount = sum(paid[:used])
    included_reason = ""
    if used:
        included_reason = ngettext(
            "%(plan)s: %(used)s included booking (%(left)s left this %(period)s)",
            "%(plan)s: %(used)s included bookings (%(left)s left this %(period)s)",
            used,
        ) % {"plan": included.name, "used": used, "left": included.left - used, "period": included.period}
    discount, discount_reason = member_discount(
        user=user, organiser=organiser, subtotal=subtotal - included_amount
    )
    total = subtotal - included_amount - discount
    return Price(
        subtotal=subtotal,
        included_tickets=used,
        included_amount=included_amount,
        included_reason=included_reason,
        discount=discount,
        discount_reason=discount_reason,
        pass_uses=len(prices) if pays_with_pass and total else 0,
        voucher_amount=0 if pays_with_pass else voucher_share(balance=voucher_balance, due=total),
    )
