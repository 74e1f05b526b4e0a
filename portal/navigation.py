"""The portal's shell as the apps fill it: the sections a booker sees in the navigation, and the
parts of an organiser's public page.

portal sits below the apps, so each registers what it contributes from its AppConfig.ready():
its section (label, URL name, order, and who sees it), what makes the paid sections worth
showing to a booker, and its part of the organiser's page (a template, and what it needs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Exists, Q, QuerySet
from django.http import HttpRequest

from portal.models import Organiser

# Sections -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    key: str  # what a page of the section puts in its context as `section` (aria-current)
    label: str
    url_name: str
    order: int
    visible: Callable[[HttpRequest | None], bool] | None = None  # None: shown to every booker


_SECTIONS: dict[str, Section] = {}


def section_register(
    key: str,
    *,
    label: str,
    url_name: str,
    order: int,
    visible: Callable[[HttpRequest | None], bool] | None = None,
) -> None:
    _SECTIONS[key] = Section(key=key, label=label, url_name=url_name, order=order, visible=visible)


def section_list_for(request: HttpRequest | None) -> list[Section]:
    """The sections this request's booker sees, in order."""
    return [
        section
        for section in sorted(_SECTIONS.values(), key=lambda s: (s.order, s.key))
        if section.visible is None or section.visible(request)
    ]


# The paid sections (Passes, Vouchers) show to a booker who deals with an organiser on a paid plan
# or who already holds something bought there (money is never hidden from its owner).

_PAID_REASONS: dict[str, Callable[..., QuerySet]] = {}


def paid_reason_register(key: str, rows: Callable[..., QuerySet]) -> None:
    """`rows(user=...)`: rows that make the paid sections worth showing to `user` (a pass they
    hold, a booking with an organiser on a paid plan...); any one is enough."""
    _PAID_REASONS[key] = rows


def booker_sees_paid_sections(*, user) -> bool:
    """One query however many apps give reasons: the navigation asks on every portal page."""
    if user is None or not user.is_authenticated or not _PAID_REASONS:
        return False
    any_of = Q()
    for key in sorted(_PAID_REASONS):
        any_of |= Q(Exists(_PAID_REASONS[key](user=user)))
    return get_user_model().objects.filter(pk=user.pk).filter(any_of).exists()


def paid_sections_visible(request: HttpRequest | None) -> bool:
    """`booker_sees_paid_sections` for the request's user, asked once per request (the section
    nav and the Passes and Vouchers pages both want it)."""
    if request is None:
        return False
    if not hasattr(request, "_paid_sections_visible"):
        request._paid_sections_visible = booker_sees_paid_sections(user=request.user)
    return request._paid_sections_visible


# The organiser's public page ------------------------------------------------------------------


@dataclass(frozen=True)
class PagePart:
    key: str
    template: str
    order: int
    context: Callable[..., dict] | None = None  # (*, request, organiser) -> what the template needs


_PAGE_PARTS: dict[str, PagePart] = {}


def organiser_page_part_register(
    key: str, *, template: str, order: int, context: Callable[..., dict] | None = None
) -> None:
    """A part of every organiser's public page (/<org-slug>/), between the introduction and the
    contact details. The template sees `organiser`, `user`, `request` and what `context` gives."""
    _PAGE_PARTS[key] = PagePart(key=key, template=template, order=order, context=context)


def organiser_page_part_list() -> list[PagePart]:
    return sorted(_PAGE_PARTS.values(), key=lambda p: (p.order, p.key))


def organiser_page_part_context(part: PagePart, *, request: HttpRequest | None, organiser: Organiser) -> dict:
    return part.context(request=request, organiser=organiser) if part.context else {}


# Parts of the portal's own pages ----------------------------------------------------------------
# A page of a lower app (the Account page, a booking's page, the Events page) shows what an app
# above adds to it: `{% page_parts "account" %}` renders each part's template with the page's
# context and what `context(request=..., page=<the page's context>)` gives. A part must not query on pages
# the performance tests hold to a count (the Events page): link to a page of its own instead.

_PARTS: dict[str, dict[str, PagePart]] = {}


def page_part_register(
    page: str, key: str, *, template: str, order: int, context: Callable[..., dict] | None = None
) -> None:
    _PARTS.setdefault(page, {})[key] = PagePart(key=key, template=template, order=order, context=context)


def page_part_list(page: str) -> list[PagePart]:
    return sorted(_PARTS.get(page, {}).values(), key=lambda p: (p.order, p.key))
