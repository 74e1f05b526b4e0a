"""Changing the password: the current one is required; every other session is logged out."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.factories import PASSWORD

NEW_PASSWORD = "a-much-longer-passphrase-2026"


def log_in(email="booker@example.com", password=PASSWORD) -> Client:
    client = Client()
    client.post(reverse("account_login"), {"login": email, "password": password})
    return client


def is_logged_in(client: Client) -> bool:
    return client.get(reverse("accounts:account")).status_code == 200


def change(client, current=PASSWORD, new=NEW_PASSWORD):
    return client.post(
        reverse("account_change_password"), {"oldpassword": current, "password1": new, "password2": new}
    )


@pytest.fixture
def verified_booker(booker):
    EmailAddress.objects.create(user=booker, email=booker.email, primary=True, verified=True)
    return booker


@pytest.mark.django_db
def test_changing_the_password_logs_out_other_sessions_and_keeps_this_one(verified_booker):
    here, elsewhere = log_in(), log_in()
    assert is_logged_in(elsewhere)

    response = change(here)

    assert response.status_code == 302
    assert response.url == reverse("accounts:account")
    assert is_logged_in(here)
    assert not is_logged_in(elsewhere)
    assert "_auth_user_id" not in elsewhere.session  # the other session is anonymous now


@pytest.mark.django_db
def test_the_new_password_logs_in_and_the_old_one_does_not(verified_booker):
    change(log_in())

    assert is_logged_in(log_in(password=NEW_PASSWORD))
    assert not is_logged_in(log_in(password=PASSWORD))


@pytest.mark.django_db
def test_the_current_password_is_required(verified_booker):
    here, elsewhere = log_in(), log_in()

    response = change(here, current="not-the-password")

    assert response.status_code == 200
    assert User.objects.get(pk=verified_booker.pk).check_password(PASSWORD)
    assert is_logged_in(elsewhere)


@pytest.mark.django_db
def test_the_booker_is_told_by_email(verified_booker, mailoutbox):
    change(log_in())

    assert mailoutbox[-1].to == [verified_booker.email]
    assert "password" in mailoutbox[-1].subject.lower()


@pytest.mark.django_db
def test_the_account_page_links_to_the_change(client_as_booker):
    assert (
        reverse("account_change_password")
        in client_as_booker.get(reverse("accounts:account")).content.decode()
    )
