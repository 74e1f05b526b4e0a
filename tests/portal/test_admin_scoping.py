"""Generated from the admin registry: a newly registered admin is covered without a new test."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.forms import ModelChoiceField
from django.urls import reverse

from bookings.models import Event, TicketType
from portal.models import Organiser, TenantModel
from tests.factories import TENANT_FACTORIES, EventFactory

SCOPED_ADMINS = [
    (model, model_admin)
    for model, model_admin in admin.site._registry.items()
    if issubclass(model, TenantModel)
]


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def owner_of(obj) -> Organiser | None:
    if isinstance(obj, Organiser):
        return obj
    if isinstance(obj, TenantModel):
        return obj.organiser
    return None


def staff_request(rf, user):
    request = rf.get("/admin/")
    request.user = user
    return request


def choice_fields(response):
    """Every model-choice field on an admin add/change page, inlines included."""
    forms = [response.context["adminform"].form]
    forms += [inline.formset.empty_form for inline in response.context["inline_admin_formsets"]]
    for form in forms:
        for name, field in form.fields.items():
            if isinstance(field, ModelChoiceField):
                yield name, field


@pytest.fixture
def rows(organiser, other_organiser):
    def make(model):
        return TENANT_FACTORIES[model](organiser=organiser), TENANT_FACTORIES[model](
            organiser=other_organiser
        )

    return make


@pytest.mark.django_db
@pytest.mark.parametrize("model,model_admin", SCOPED_ADMINS, ids=lambda v: getattr(v, "__name__", ""))
class TestEveryScopedAdmin:
    def test_changelist_shows_only_the_staff_members_organiser(
        self, model, model_admin, client_as_staff, rows
    ):
        ours, theirs = rows(model)

        response = client_as_staff.get(admin_url(model, "changelist"))

        assert response.status_code == 200
        shown = {obj.pk for obj in response.context["cl"].result_list}
        assert ours.pk in shown
        assert theirs.pk not in shown

    def test_another_organisers_change_delete_and_history_urls_are_404(
        self, model, model_admin, client_as_staff, staff, rf, rows
    ):
        ours, theirs = rows(model)
        may_delete = model_admin.has_delete_permission(staff_request(rf, staff), ours)
        for view in ["change", "delete", "history"]:
            assert client_as_staff.get(admin_url(model, view, theirs.pk)).status_code == 404, view
            expected = 403 if view == "delete" and not may_delete else 200
            assert client_as_staff.get(admin_url(model, view, ours.pk)).status_code == expected, view
        assert client_as_staff.post(admin_url(model, "delete", theirs.pk), {"post": "yes"}).status_code == 404
        assert model.objects.filter(pk=theirs.pk).exists()

    def test_no_dropdown_offers_another_organisers_rows(
        self, model, model_admin, client_as_staff, staff, rf, organiser, rows
    ):
        rows(model)
        EventFactory(organiser=organiser)  # so every dropdown has something of ours to offer

        urls = [admin_url(model, "change", rows(model)[0].pk)]
        if model_admin.has_add_permission(staff_request(rf, staff)):
            urls.append(admin_url(model, "add"))
        else:
            assert client_as_staff.get(admin_url(model, "add")).status_code == 403
        for url in urls:
            response = client_as_staff.get(url)
            for name, field in choice_fields(response):
                owners = {owner_of(obj) for obj in field.queryset}
                assert owners <= {organiser, None}, f"{name} offers {owners}"

    def test_autocomplete_finds_nothing_of_another_organiser(
        self, model, model_admin, client_as_staff, organiser, rows
    ):
        ours, theirs = rows(model)
        for field_name in model_admin.autocomplete_fields:
            response = client_as_staff.get(
                reverse("admin:autocomplete"),
                {
                    "app_label": model._meta.app_label,
                    "model_name": model._meta.model_name,
                    "field_name": field_name,
                    "term": "",
                },
            )
            assert response.status_code == 200
            remote = model._meta.get_field(field_name).related_model
            found = remote.objects.filter(pk__in=[r["id"] for r in response.json()["results"]])
            assert {owner_of(obj) for obj in found} <= {organiser}, field_name


@pytest.mark.django_db
def test_a_form_post_naming_another_organisers_event_is_refused(client_as_staff, organiser, other_organiser):
    theirs = EventFactory(organiser=other_organiser)

    response = client_as_staff.post(
        admin_url(TicketType, "add"),
        {
            "organiser": organiser.pk,
            "event": theirs.pk,
            "name": "Sneaky",
            "price": 100,
            "position": 0,
        },
    )

    assert response.status_code == 200  # the form comes back with an error
    assert response.context["adminform"].form.errors["event"]
    assert not TicketType.objects.filter(name="Sneaky").exists()


@pytest.mark.django_db
def test_staff_cannot_create_rows_for_another_organiser(client_as_staff, other_organiser):
    response = client_as_staff.post(
        admin_url(Event, "add"),
        {
            "organiser": other_organiser.pk,
            "title": "Not mine",
            "capacity": 5,
            "starts_at_0": "2030-01-01",
            "starts_at_1": "10:00",
            "ends_at_0": "2030-01-01",
            "ends_at_1": "11:00",
            "status": "scheduled",
            "ticket_types-TOTAL_FORMS": 0,
            "ticket_types-INITIAL_FORMS": 0,
        },
    )

    assert response.context["adminform"].form.errors["organiser"]
    assert not Event.objects.filter(title="Not mine").exists()


@pytest.mark.django_db
def test_staff_see_and_edit_only_their_own_organiser(client_as_staff, organiser, other_organiser):
    response = client_as_staff.get(admin_url(Organiser, "changelist"))
    assert [o.pk for o in response.context["cl"].result_list] == [organiser.pk]
    assert client_as_staff.get(admin_url(Organiser, "change", other_organiser.pk)).status_code == 404


@pytest.mark.django_db
def test_plan_and_features_are_read_only_for_staff(client_as_staff, organiser):
    response = client_as_staff.post(
        admin_url(Organiser, "change", organiser.pk),
        {
            "name": "Renamed",
            "plan": "premium",
            "attendance_tracking": "on",
            "public_page_intro": "Hi",
            "contact_email": "",
            "contact_phone": "",
            "website": "",
            "address": "",
            "time_zone": "Europe/London",
            "default_language": "en-gb",
        },
    )

    assert response.status_code == 302
    organiser.refresh_from_db()
    assert organiser.name == "Renamed"
    assert organiser.plan == Organiser.Plan.STANDARD
    assert organiser.attendance_tracking is False


@pytest.mark.django_db
def test_staff_cannot_reach_user_accounts(client_as_staff, other_staff):
    assert client_as_staff.get(reverse("admin:accounts_user_changelist")).status_code == 403
    assert (
        client_as_staff.get(reverse("admin:accounts_user_change", args=[other_staff.pk])).status_code == 403
    )


@pytest.mark.django_db
def test_a_booker_without_an_organiser_cannot_use_the_admin(client_as_booker):
    response = client_as_booker.get(reverse("admin:index"))
    assert response.status_code == 302
    assert reverse("admin:login") in response.url
