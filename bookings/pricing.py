"""What a booker's membership takes off a booking's price.

Memberships sit above bookings' core (they know bookings, not the other way round), so the
discount is asked of whoever registered it (MembershipsConfig.ready) instead of imported."""

from __future__ import annotations

from collections.abc import Callable

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
