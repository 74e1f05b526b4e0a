"""Every route in the URLconf, with a URL that resolves to it: the generated security matrices
(IDOR, CSRF, identifiers) walk this list, so a new route is covered the day it lands."""

from __future__ import annotations

import itertools
import re
import uuid
from dataclasses import dataclass, field

from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.converters import IntConverter, UUIDConverter
from django.urls.exceptions import Resolver404
from django.utils.regex_helper import normalize

SAMPLE_UUID = uuid.UUID("6f1c2b9e-3d4a-4c5b-8e7f-0a1b2c3d4e5f")
# Tried in turn for a regex group until the URL resolves back to the route.
REGEX_SAMPLES = ["x", "1", "a1", str(SAMPLE_UUID), "x/y"]


@dataclass
class Route:
    name: str  # namespaced ("bookings:booking_detail"), or the regex for an unnamed route
    namespace: str
    regex: str
    callback: object
    params: list[str]
    converters: dict = field(default_factory=dict)

    @property
    def is_admin(self) -> bool:
        return self.namespace.split(":")[0] == "admin"

    @property
    def has_identifier(self) -> bool:
        return bool(self.params)

    def sample_url(self) -> str:
        """A URL with made-up values that resolves to this route (for requests where the
        object need not exist: the CSRF check runs before the view)."""
        fmt, params = normalize(self.regex)[0]
        choices = [self._samples(p) for p in params]
        for values in itertools.product(*choices):
            url = "/" + fmt % dict(zip(params, values, strict=True))
            try:
                match = resolve(url)
            except Resolver404:
                continue
            if match.func is self.callback or match.view_name == self.name:
                return url
        raise AssertionError(f"tests/security/urlconf.py cannot make a sample URL for {self.name}")

    def _samples(self, param: str) -> list[str]:
        converter = self.converters.get(param)
        if isinstance(converter, UUIDConverter):
            return [str(SAMPLE_UUID)]
        if isinstance(converter, IntConverter):
            return ["1"]
        if converter is not None:
            return ["x1"]
        group = re.search(rf"\(\?P<{param}>([^()]*)\)", self.regex)
        if group and re.fullmatch(r"[\w|]+", group[1]):  # an alternation such as app labels
            return group[1].split("|")[:1]
        return REGEX_SAMPLES


def _strip(pattern: str) -> str:
    return pattern[1:] if pattern.startswith("^") else pattern


def _walk(resolver: URLResolver, prefix: str, namespace: str, converters: dict):
    for entry in resolver.url_patterns:
        regex = prefix + _strip(entry.pattern.regex.pattern)
        found = {**converters, **getattr(entry.pattern, "converters", {})}
        if isinstance(entry, URLResolver):
            inner = ":".join(n for n in [namespace, entry.namespace or ""] if n)
            # Resolver regexes have no end anchor; only the endpoint's "\Z" ends the URL.
            yield from _walk(entry, regex.removesuffix("\\Z"), inner, found)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name or regex
            params = normalize(regex)[0][1]
            yield Route(name, namespace, regex, entry.callback, list(params), found)


def all_routes() -> list[Route]:
    return list(_walk(get_resolver(), "", "", {}))


def booker_facing_routes() -> list[Route]:
    """Everything but the organiser admin (which has its own registry-generated tenancy tests)."""
    return [route for route in all_routes() if not route.is_admin]
