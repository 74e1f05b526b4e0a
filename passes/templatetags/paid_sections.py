from __future__ import annotations

from django import template

from passes.selectors import paid_sections_visible_for

register = template.Library()


@register.simple_tag(takes_context=True)
def paid_sections_visible(context) -> bool:
    """Whether the section nav shows Passes and Vouchers."""
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return False
    return paid_sections_visible_for(request)
