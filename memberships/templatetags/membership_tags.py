from __future__ import annotations

from django import template

from memberships import selectors
from memberships.models import Membership

register = template.Library()


@register.inclusion_tag("memberships/offer_section.html", takes_context=True)
def membership_offer(context, organiser):
    """The memberships an organiser offers on their public page (none below the Standard plan)."""
    plans = list(selectors.membership_plan_list_offered(organiser=organiser)) if organiser else []
    user = context.get("user")
    held = set()
    if plans and user is not None and user.is_authenticated:
        held = set(
            Membership.objects.for_organiser(organiser)
            .for_booker(user)
            .filter(status__in=Membership.CURRENT)
            .values_list("plan_id", flat=True)
        )
    return {"organiser": organiser, "plans": plans, "held": held, "user": user}
