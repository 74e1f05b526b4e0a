"""Generated from the admin registry, like tests/portal/test_admin_scoping.py: actions, search,
list filters and inlines of every tenant-scoped admin stay inside the staff member's organiser."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db import models
from django.forms.models import model_to_dict
from django.urls import reverse

from accounts.models import User
from portal.models import Organiser, OrganiserStaff, TenantModel
from tests.factories import TENANT_FACTORIES, UserFactory

SCOPED_ADMINS = [
    (model, model_admin)
    for model, model_admin in admin.site._registry.items()
    if issubclass(model, TenantModel)
]
ALL_ADMINS = list(admin.site._registry.items())


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def as_request(rf, user):
    request = rf.get("/admin/")
    request.user = user
    return request


def snapshot(obj):
    obj = type(obj)._default_manager.get(pk=obj.pk)
    return {k: v for k, v in model_to_dict(obj).items() if k != "updated_at"}


def search_term(obj, search_fields):
    """A value of `obj` that the admin's search would match, from a forward path (no reverse joins)."""
    for lookup in search_fields:
        value = obj
        for part in lookup.lstrip("=^@").split("__"):
            value = getattr(value, part, None)
            if isinstance(value, models.Manager) or value is None:
                break
        if isinstance(value, str) and value:
            return value
    return None


@pytest.fixture
def rows(organiser, other_organiser):
    def make(model):
        factory_class = TENANT_FACTORIES[model]
        return factory_class(organiser=organiser), factory_class(organiser=other_organiser)

    return make


@pytest.mark.django_db
@pytest.mark.parametrize("model,model_admin", SCOPED_ADMINS, ids=lambda v: getattr(v, "__name__", ""))
class TestEveryScopedAdmin:
    def test_its_pages_render_for_staff(self, model, model_admin, client_as_staff, staff, rf, rows):
        ours, _ = rows(model)

        assert client_as_staff.get(url(model, "changelist")).status_code == 200
        assert client_as_staff.get(url(model, "change", ours.pk)).status_code == 200
        if model_admin.has_add_permission(as_request(rf, staff)):
            assert client_as_staff.get(url(model, "add")).status_code == 200

    def test_no_action_touches_another_organisers_rows(
        self, model, model_admin, client_as_staff, staff, rf, rows
    ):
        ours, theirs = rows(model)
        before = snapshot(theirs)
        actions = model_admin.get_actions(as_request(rf, staff))

        for name in actions:
            client_as_staff.post(
                url(model, "changelist"),
                {"action": name, "_selected_action": [theirs.pk], "post": "yes", "confirm": "yes"},
            )
            assert model._default_manager.filter(pk=theirs.pk).exists(), name
            assert snapshot(theirs) == before, name

    def test_search_finds_nothing_of_another_organiser(self, model, model_admin, client_as_staff, rows):
        ours, theirs = rows(model)
        term = search_term(theirs, model_admin.search_fields)
        if term is None:
            pytest.skip("no forward text field to search by")

        response = client_as_staff.get(url(model, "changelist"), {"q": term})

        assert response.status_code == 200
        assert theirs.pk not in {obj.pk for obj in response.context["cl"].result_list}

    def test_list_filters_offer_nothing_of_another_organiser(
        self, model, model_admin, client_as_staff, organiser, rows
    ):
        rows(model)

        response = client_as_staff.get(url(model, "changelist"))

        for spec in response.context["cl"].filter_specs:
            related = getattr(spec, "related_model", None) or getattr(
                getattr(spec, "field", None), "related_model", None
            )
            if related is None or not hasattr(spec, "lookup_choices"):
                continue
            values = [choice[0] for choice in spec.lookup_choices]
            found = related._default_manager.filter(pk__in=values)
            owners = {obj if isinstance(obj, Organiser) else getattr(obj, "organiser", None) for obj in found}
            assert owners <= {organiser}, spec.title

    def test_inlines_show_only_rows_of_the_staff_members_organiser(
        self, model, model_admin, client_as_staff, organiser, rows
    ):
        ours, _ = rows(model)

        response = client_as_staff.get(url(model, "change", ours.pk))

        for inline in response.context["inline_admin_formsets"]:
            for child in inline.formset.queryset:
                assert getattr(child, "organiser", organiser) == organiser, inline.formset.prefix


@pytest.mark.django_db
@pytest.mark.parametrize("model,model_admin", ALL_ADMINS, ids=lambda v: getattr(v, "__name__", ""))
def test_every_admin_page_renders_for_a_superuser(model, model_admin, admin_client, organiser):
    if model in TENANT_FACTORIES:
        TENANT_FACTORIES[model](organiser=organiser)
    assert admin_client.get(url(model, "changelist")).status_code == 200
    assert admin_client.get(url(model, "add")).status_code in {200, 403}


# Staff cannot raise their own powers ------------------------------------------------------------


@pytest.mark.django_db
def test_staff_cannot_make_themselves_superuser(client_as_staff, staff):
    response = client_as_staff.post(
        url(User, "change", staff.pk),
        {"email": staff.email, "name": "", "is_active": "on", "is_staff": "on", "is_superuser": "on"},
    )

    assert response.status_code == 403
    staff.refresh_from_db()
    assert not staff.is_superuser


@pytest.mark.django_db
def test_staff_cannot_make_themselves_staff_of_another_organiser(
    client_as_staff, staff, organiser, other_organiser
):
    # Their own organiser's page has no staff section, and posting one anyway changes nothing.
    page = client_as_staff.get(url(Organiser, "change", organiser.pk))
    assert not page.context["inline_admin_formsets"]
    stranger = UserFactory(is_staff=True)
    client_as_staff.post(
        url(Organiser, "change", organiser.pk),
        {
            "name": organiser.name,
            "time_zone": "Europe/London",
            "default_language": "en-gb",
            "staff-TOTAL_FORMS": 1,
            "staff-INITIAL_FORMS": 0,
            "staff-0-user": stranger.pk,
            "staff-0-role": "owner",
            "staff-0-organiser": other_organiser.pk,
        },
    )
    # The other organiser's page is not there for them at all.
    assert (
        client_as_staff.post(url(Organiser, "change", other_organiser.pk), {"name": "Mine"}).status_code
        == 404
    )

    assert set(OrganiserStaff.objects.values_list("organiser", "user")) == {(organiser.pk, staff.pk)}
    assert client_as_staff.get(url(User, "changelist")).status_code == 403
    assert client_as_staff.get(url(User, "add")).status_code == 403


@pytest.mark.django_db
def test_staff_edit_their_public_page_and_contact_details(client_as_staff, organiser):
    response = client_as_staff.post(
        url(Organiser, "change", organiser.pk),
        {
            "name": organiser.name,
            "public_page_intro": "Classes by the river.",
            "contact_email": "new@riverside.example",
            "contact_phone": "+44 20 0000 0000",
            "website": "https://riverside.example",
            "address": "1 Towpath",
            "legal_name": "Riverside Yoga Ltd",
            "vat_number": "GB123456789",
            "vat_rate_percent": "20",
            "time_zone": "Europe/London",
            "default_language": "en-gb",
        },
    )

    assert response.status_code == 302
    organiser.refresh_from_db()
    assert (organiser.public_page_intro, organiser.contact_email) == (
        "Classes by the river.",
        "new@riverside.example",
    )
    # What receipts print (portal.receipts); left empty, the VAT rate is 0 (test_branding posts none).
    assert (organiser.legal_name, organiser.vat_number, str(organiser.vat_rate_percent)) == (
        "Riverside Yoga Ltd",
        "GB123456789",
        "20.00",
    )
