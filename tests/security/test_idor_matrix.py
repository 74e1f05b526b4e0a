"""Another booker's object, named in any portal URL, is not found and stays as it was.

Generated from the URLconf: a route that names an object and is not in tests/security/idor_routes.py
fails `test_every_identifier_bearing_route_is_in_the_idor_registry`."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.security.idor_routes import IDOR_ROUTES, PUBLIC_ROUTES
from tests.security.urlconf import booker_facing_routes


def identifier_routes():
    return [route for route in booker_facing_routes() if route.has_identifier]


def test_every_identifier_bearing_route_is_in_the_idor_registry():
    missing = [
        f"{route.name} ({'/'.join(route.params)})"
        for route in identifier_routes()
        if route.name not in IDOR_ROUTES and route.name not in PUBLIC_ROUTES
    ]
    assert not missing, (
        "These routes take an object identifier but have no IDOR entry: "
        + ", ".join(missing)
        + ". Add a factory with @idor_route(...) in tests/security/idor_routes.py (another booker's "
        "object, URL kwargs and a snapshot), or list the route in PUBLIC_ROUTES there with the reason "
        "it is meant to be public."
    )


def test_the_idor_registry_names_only_routes_that_exist():
    names = {route.name for route in identifier_routes()}
    stale = sorted((set(IDOR_ROUTES) | set(PUBLIC_ROUTES)) - names)
    assert not stale, f"tests/security/idor_routes.py lists routes that no longer take an identifier: {stale}"


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(IDOR_ROUTES))
def test_another_bookers_object_is_not_found_and_nothing_changes(name, client_as_booker, other_booker):
    target = IDOR_ROUTES[name](other_booker)
    url = reverse(name, kwargs=target.kwargs)
    before = target.snapshot()

    got = client_as_booker.get(url)
    posted = client_as_booker.post(url, target.post_data)
    posted_htmx = client_as_booker.post(url, target.post_data, HTTP_HX_REQUEST="true")

    assert got.status_code == 404, url
    assert posted.status_code in {404, 405}, url  # 405: a GET-only view, whoever's object it is
    assert posted_htmx.status_code in {404, 405}, url
    assert target.snapshot() == before, f"a request for another booker's object changed it: {url}"


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(IDOR_ROUTES))
def test_the_owner_can_open_the_same_url(name, other_booker):
    # The control: the factory builds a real, reachable object, so the 404 above means something.
    target = IDOR_ROUTES[name](other_booker)
    owner = Client()
    owner.force_login(other_booker)
    assert owner.get(reverse(name, kwargs=target.kwargs)).status_code == 200


def test_public_identifiers_in_booker_facing_urls_are_not_sequential_integers():
    numeric = [
        route.name
        for route in booker_facing_routes()
        if any(type(c).__name__ == "IntConverter" for c in route.converters.values())
        or any(f"(?P<{p}>\\d+)" in route.regex or f"(?P<{p}>[0-9]+)" in route.regex for p in route.params)
    ]
    assert not numeric, f"Use a UUID code or a random reference in these URLs, not an integer: {numeric}"


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(IDOR_ROUTES))
def test_the_registered_identifiers_are_not_integers(name, other_booker):
    kwargs = IDOR_ROUTES[name](other_booker).kwargs
    for key, value in kwargs.items():
        assert not isinstance(value, int) and not str(value).isdigit(), f"{name}: {key}={value!r}"
