"""The portal shell's template tags: the section navigation and the organiser page's parts, as
the apps registered them (portal.navigation)."""

from __future__ import annotations

from django import template
from django.utils.safestring import mark_safe

from portal import navigation

register = template.Library()


@register.simple_tag(takes_context=True)
def portal_sections(context) -> list[navigation.Section]:
    """The sections the booker sees, in order: `{% portal_sections as sections %}`."""
    return navigation.section_list_for(context.get("request"))


@register.simple_tag(takes_context=True)
def organiser_page_parts(context, organiser) -> str:
    """Each app's part of the organiser's public page, rendered in order with the page's context
    and what the part asked for."""
    request = context.get("request")
    html = []
    for part in navigation.organiser_page_part_list():
        extra = navigation.organiser_page_part_context(part, request=request, organiser=organiser)
        with context.push(organiser=organiser, **extra):
            html.append(context.template.engine.get_template(part.template).render(context))
    return mark_safe("".join(html))  # each part is a template, escaped as it rendered


@register.simple_tag(takes_context=True)
def page_parts(context, page: str) -> str:
    """What the apps above add to this page (`portal.navigation.page_part_register`), in order."""
    request = context.get("request")
    html = []
    for part in navigation.page_part_list(page):
        extra = part.context(request=request, page=context.flatten()) if part.context else {}
        with context.push(**extra):
            html.append(context.template.engine.get_template(part.template).render(context))
    return mark_safe("".join(html))  # each part is a template, escaped as it rendered
