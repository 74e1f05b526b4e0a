from __future__ import annotations

from django import template

from passes.selectors import booker_sees_paid_sections

register = template.Library()


@register.simple_tag(takes_context=True)
def paid_sections_visible(context) -> bool:
    """Whether the section nav shows Passes and Vouchers (read once per request)."""
    request = context.get("request")
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return False
    if request is not None and hasattr(request, "_paid_sections_visible"):
        return request._paid_sections_visible
    visible = booker_sees_paid_sections(user=user)
    if request is not None:
        request._paid_sections_visible = visible
    return visible
