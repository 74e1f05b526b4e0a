from __future__ import annotations

import pytest
from django.apps import apps

from portal.models import Organiser, TenantModel
from tests.factories import TENANT_FACTORIES

TENANT_MODELS = [m for m in apps.get_models() if issubclass(m, TenantModel)]


def test_every_tenant_model_has_a_factory_so_the_scoping_tests_cover_it():
    missing = [m.__name__ for m in TENANT_MODELS if m not in TENANT_FACTORIES]
    assert missing == []


@pytest.mark.django_db
@pytest.mark.parametrize("model", TENANT_MODELS, ids=lambda m: m.__name__)
def test_for_organiser_returns_only_that_organisers_rows(model, organiser, other_organiser):
    factory_class = TENANT_FACTORIES[model]
    ours = {factory_class(organiser=organiser).pk for _ in range(2)}
    theirs = {factory_class(organiser=other_organiser).pk}

    scoped = set(model.objects.for_organiser(organiser).values_list("pk", flat=True))

    assert scoped == ours
    assert not scoped & theirs


@pytest.mark.django_db
@pytest.mark.parametrize("model", TENANT_MODELS, ids=lambda m: m.__name__)
def test_child_rows_share_their_parents_organiser(model, organiser):
    row = TENANT_FACTORIES[model](organiser=organiser)
    for field in model._meta.concrete_fields:
        parent = getattr(row, field.name) if field.is_relation else None
        if isinstance(parent, TenantModel):
            assert parent.organiser_id == row.organiser_id, field.name


@pytest.mark.django_db
def test_staff_see_only_the_organisers_they_work_for(staff, organiser, other_organiser):
    assert list(Organiser.objects.for_staff(staff)) == [organiser]
