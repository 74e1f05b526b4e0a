"""The Account page and its delete confirmation, with and without htmx."""

from __future__ import annotations

from html import unescape

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from bookings.models import Booking
from tests.factories import PASSWORD, BookingFactory, UserFactory

ACCOUNT = "/portal/account/"
DELETE = "/portal/account/delete/"


@pytest.mark.django_db
@pytest.mark.parametrize("url", [ACCOUNT, DELETE])
def test_a_logged_out_visit_goes_to_login_and_comes_back(client, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response.url == f"{reverse('account_login')}?next={url}"


def test_the_urls_are_stable():
    assert reverse("accounts:account") == ACCOUNT
    assert reverse("accounts:account_delete") == DELETE


@pytest.mark.django_db
def test_the_page_shows_the_login_email_and_links_to_each_change(client_as_booker, booker):
    response = client_as_booker.get(ACCOUNT)

    html = response.content.decode()
    assert response.status_code == 200
    assert booker.email in html
    assert reverse("account_email") in html
    assert reverse("account_change_password") in html
    assert DELETE in html
    assert 'aria-label="Portal sections"' in html  # the portal's navigation is there


@pytest.mark.django_db
def test_a_pending_change_of_email_is_shown_until_it_is_confirmed(client_as_booker, booker):
    EmailAddress.objects.create(user=booker, email=booker.email, primary=True, verified=True)
    EmailAddress.objects.create(user=booker, email="new@example.com", primary=False, verified=False)

    html = client_as_booker.get(ACCOUNT).content.decode()

    assert "Changing to <strong>new@example.com</strong>" in html


@pytest.mark.django_db
def test_a_booker_without_a_password_is_offered_to_set_one(client):
    user = UserFactory(password=None)
    user.set_unusable_password()
    user.save()
    client.force_login(user)

    assert reverse("account_set_password") in client.get(ACCOUNT).content.decode()
    delete_page = client.get(DELETE).content.decode()
    assert "set a password" in delete_page
    assert 'type="password"' not in delete_page


@pytest.mark.django_db
def test_the_account_page_only_answers_get(client_as_booker):
    assert client_as_booker.post(ACCOUNT).status_code == 405


@pytest.mark.django_db
def test_the_delete_page_only_answers_get_and_post(client_as_booker):
    assert client_as_booker.put(DELETE).status_code == 405


@pytest.mark.django_db
def test_the_confirm_step_explains_what_happens_and_asks_for_the_password(client_as_booker):
    response = client_as_booker.get(DELETE)

    html = response.content.decode()
    assert "<html" in html  # a whole page without JavaScript
    assert "cannot be undone" in html
    assert "stay with the organisers, anonymised" in html
    assert 'name="password"' in html
    assert "Delete my account" in html


@pytest.mark.django_db
def test_with_htmx_the_confirm_step_is_a_dialog_fragment(client_as_booker, htmx):
    response = client_as_booker.get(DELETE, **htmx)

    html = response.content.decode()
    assert "<html" not in html
    assert '<dialog id="confirm-dialog"' in html
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.django_db
def test_a_wrong_password_shows_the_form_again_and_deletes_nothing(client_as_booker, booker):
    response = client_as_booker.post(DELETE, {"password": "not-it"})

    assert response.status_code == 200
    assert "That password is not right" in response.content.decode()
    assert User.objects.filter(pk=booker.pk).exists()
    assert client_as_booker.get(ACCOUNT).status_code == 200  # still logged in


@pytest.mark.django_db
def test_with_htmx_a_wrong_password_goes_back_into_the_dialog(client_as_booker, booker, htmx):
    response = client_as_booker.post(DELETE, {"password": "not-it"}, **htmx)

    assert response.headers["HX-Retarget"] == "#modal"
    assert "That password is not right" in response.content.decode()
    assert User.objects.filter(pk=booker.pk).exists()


@pytest.mark.django_db
def test_deleting_logs_out_and_lands_on_the_home_page_with_a_message(client_as_booker, booker):
    response = client_as_booker.post(DELETE, {"password": PASSWORD}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("home")
    assert "Your account has been deleted" in response.content.decode()
    assert not User.objects.filter(pk=booker.pk).exists()
    assert client_as_booker.get(ACCOUNT).status_code == 302  # logged out


@pytest.mark.django_db
def test_with_htmx_deleting_redirects_the_whole_page(client_as_booker, booker, htmx):
    response = client_as_booker.post(DELETE, {"password": PASSWORD}, **htmx)

    assert response.headers["HX-Redirect"] == "/"
    assert not User.objects.filter(pk=booker.pk).exists()


@pytest.mark.django_db
def test_deleting_only_touches_the_logged_in_booker(client_as_booker, booker, other_booker, organiser):
    theirs = BookingFactory(organiser=organiser, user=other_booker, booker_name="Otto Other")

    client_as_booker.post(DELETE, {"password": PASSWORD})

    theirs.refresh_from_db()
    assert User.objects.filter(pk=other_booker.pk).exists()
    assert (theirs.user, theirs.booker_name) == (other_booker, "Otto Other")


@pytest.mark.django_db
def test_a_second_delete_from_the_old_session_changes_nothing(client_as_booker, booker, organiser):
    BookingFactory(organiser=organiser, user=booker)
    client_as_booker.post(DELETE, {"password": PASSWORD})
    snapshot = list(Booking.objects.values_list("booker_name", "booker_email", "link_secret"))

    response = client_as_booker.post(DELETE, {"password": PASSWORD})

    assert response.status_code == 302 and reverse("account_login") in response.url
    assert list(Booking.objects.values_list("booker_name", "booker_email", "link_secret")) == (snapshot)


@pytest.mark.django_db
def test_guessing_the_password_is_stopped_after_a_few_attempts(client_as_booker, booker):
    for _ in range(5):
        client_as_booker.post(DELETE, {"password": "a-guess"})

    response = client_as_booker.post(DELETE, {"password": PASSWORD})

    assert "Too many attempts" in response.content.decode()
    assert User.objects.filter(pk=booker.pk).exists()


@pytest.mark.django_db
def test_the_confirm_step_says_which_memberships_end_and_when(client_as_booker, booker, organiser):
    from tests.memberships.factories import MembershipFactory, MembershipPlanFactory

    renewing = MembershipFactory(
        plan=MembershipPlanFactory(organiser=organiser, name="Monthly Unlimited"), user=booker
    )
    MembershipFactory(
        plan=MembershipPlanFactory(organiser=organiser, name="Yearly Flow"),
        user=booker,
        cancel_at_period_end=True,
    )
    ends = timezone.localtime(renewing.current_period_end, organiser.tzinfo)

    text = " ".join(unescape(client_as_booker.get(DELETE).content.decode()).split())

    assert (
        f"your Monthly Unlimited membership with {organiser.name} is cancelled and ends at the end of "
        f"the period you've paid for ({ends.day} {ends:%B %Y});"
    ) in text
    assert f"your Yearly Flow membership with {organiser.name} already ends" in text
