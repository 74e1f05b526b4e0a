"""Organiser branding: a logo and an accent colour, checked in the admin (image type, size and
dimensions; a colour that white text can be read on), carried to the organiser's pages, their
booking cards in the portal and their emails through a cacheable stylesheet of their own."""

from __future__ import annotations

import io
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from portal import branding
from portal.models import Organiser
from tests.factories import AttendeeFactory, BookingFactory, EventFactory


def image_file(kind="PNG", size=(120, 120), name=None) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, "#0f766e").save(buffer, kind)
    extension = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp", "GIF": "gif", "BMP": "bmp"}[kind]
    return SimpleUploadedFile(
        name or f"logo.{extension}", buffer.getvalue(), content_type=f"image/{extension}"
    )


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


# The colour ---------------------------------------------------------------------------------


def test_contrast_ratio_follows_wcag():
    assert branding.contrast_ratio("#000000", "#ffffff") == pytest.approx(21)
    assert branding.contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert branding.contrast_ratio("#0f766e", "#ffffff") == pytest.approx(5.47, abs=0.01)


@pytest.mark.parametrize("colour", ["#0f766e", "#C2410C", "#3d4fc4", "#000000"])
def test_a_dark_enough_colour_is_accepted(colour):
    branding.validate_accent_colour(colour)


@pytest.mark.parametrize("colour", ["#ffcc00", "#7dd3fc", "#777777", "#ffffff"])
def test_a_colour_white_text_cannot_be_read_on_is_refused(colour):
    with pytest.raises(ValidationError, match="too hard to read"):
        branding.validate_accent_colour(colour)


@pytest.mark.parametrize("colour", ["red", "#12345", "0f766e", "#0f766e;}body{x:y", "url(x)"])
def test_anything_but_a_hex_colour_is_refused(colour):
    with pytest.raises(ValidationError, match="six hex digits"):
        branding.validate_accent_colour(colour)


def test_a_stored_colour_that_is_no_longer_usable_falls_back_to_the_platforms():
    assert branding.usable_accent("#ffcc00") == branding.DEFAULT_ACCENT
    assert branding.usable_accent("") == branding.DEFAULT_ACCENT
    assert branding.usable_accent("#0F766E") == "#0f766e"


def test_every_shade_of_the_palette_is_readable():
    for accent in ["#0f766e", "#c2410c", "#3d4fc4", "#595959"]:
        palette = branding.accent_palette(accent)
        assert branding.contrast_ratio(palette["accent"], "#ffffff") >= 4.5
        assert branding.contrast_ratio(palette["accent-hover"], "#ffffff") >= 4.5
        assert branding.contrast_ratio(palette["accent-on-soft"], palette["accent-soft"]) >= 4.5


# The logo -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["PNG", "JPEG", "WEBP"])
def test_a_png_jpeg_or_webp_logo_is_accepted(kind):
    branding.validate_logo(image_file(kind))


@pytest.mark.parametrize(
    "upload",
    [
        pytest.param(lambda: image_file("GIF"), id="gif"),
        pytest.param(lambda: image_file("BMP", name="logo.png"), id="bmp-named-png"),
        pytest.param(
            lambda: SimpleUploadedFile("logo.png", SVG, content_type="image/png"), id="svg-named-png"
        ),
        pytest.param(
            lambda: SimpleUploadedFile("logo.png", b"not an image", content_type="image/png"), id="text"
        ),
    ],
)
def test_anything_but_a_raster_png_jpeg_or_webp_is_refused(upload):
    with pytest.raises(ValidationError, match="PNG, JPEG or WebP"):
        branding.validate_logo(upload())


def test_a_logo_over_1_mb_is_refused():
    big = SimpleUploadedFile("logo.png", b"\x89PNG" + b"0" * (1024 * 1024 + 1), content_type="image/png")
    with pytest.raises(ValidationError, match="at most 1 MB"):
        branding.validate_logo(big)


def test_a_logo_of_more_than_2000_px_a_side_is_refused():
    with pytest.raises(ValidationError, match="2000 px"):
        branding.validate_logo(image_file("PNG", size=(2400, 100)))


@pytest.mark.django_db
def test_the_model_refuses_an_svg_logo_and_a_pale_colour(organiser):
    organiser.logo = SimpleUploadedFile("logo.svg", SVG, content_type="image/svg+xml")
    organiser.accent_colour = "#ffcc00"
    with pytest.raises(ValidationError) as error:
        organiser.full_clean()
    assert {"logo", "accent_colour"} <= set(error.value.message_dict)


# The admin ----------------------------------------------------------------------------------


def admin_form(organiser: Organiser, **changes) -> dict:
    data = {
        "name": organiser.name,
        "public_page_intro": "",
        "contact_email": organiser.contact_email,
        "contact_phone": "",
        "website": "",
        "address": "",
        "time_zone": organiser.time_zone,
        "default_language": organiser.default_language,
        "accent_colour": "",
    }
    data.update(changes)
    return data


@pytest.mark.django_db
def test_staff_set_their_logo_and_colour_in_the_admin(client_as_staff, organiser):
    url = reverse("admin:portal_organiser_change", args=[organiser.pk])
    page = client_as_staff.get(url).content.decode()
    assert 'name="logo"' in page and 'accept="image/png,image/jpeg,image/webp"' in page
    assert 'name="accent_colour"' in page

    response = client_as_staff.post(url, admin_form(organiser, accent_colour="#0f766e", logo=image_file()))

    assert response.status_code == 302
    organiser.refresh_from_db()
    assert organiser.accent_colour == "#0f766e"
    assert organiser.logo.name.startswith(f"organisers/{organiser.slug}/logo-")
    assert (organiser.logo_width, organiser.logo_height) == (120, 120)


@pytest.mark.django_db
def test_the_admin_explains_a_colour_without_enough_contrast(client_as_staff, organiser):
    url = reverse("admin:portal_organiser_change", args=[organiser.pk])
    response = client_as_staff.post(url, admin_form(organiser, accent_colour="#ffcc00"))
    assert response.status_code == 200
    assert "White text on #ffcc00 is too hard to read" in response.content.decode()
    organiser.refresh_from_db()
    assert organiser.accent_colour == ""


@pytest.mark.django_db
def test_the_admin_refuses_an_svg_logo(client_as_staff, organiser):
    url = reverse("admin:portal_organiser_change", args=[organiser.pk])
    svg = SimpleUploadedFile("logo.svg", SVG, content_type="image/svg+xml")
    response = client_as_staff.post(url, admin_form(organiser, logo=svg))
    assert response.status_code == 200
    organiser.refresh_from_db()
    assert not organiser.logo


# The stylesheet and the pages ---------------------------------------------------------------


@pytest.mark.django_db
def test_the_brand_stylesheet_carries_the_colour_and_is_cached_by_version(client, organiser):
    organiser.accent_colour = "#0f766e"
    organiser.save()
    url = reverse("organiser_brand_css", args=[organiser.slug])

    current = client.get(url, {"v": organiser.brand_version})
    assert current["Content-Type"].startswith("text/css")
    css = current.content.decode()
    assert f".org-{organiser.slug} {{" in css and "--accent: #0f766e;" in css
    assert "immutable" in current["Cache-Control"] and "public" in current["Cache-Control"]
    assert "immutable" not in client.get(url)["Cache-Control"]  # an old or missing version: briefly
    assert "Cookie" not in current.get("Vary", "")


@pytest.mark.django_db
def test_a_colour_stored_without_the_check_gets_the_platforms(client, organiser):
    Organiser.objects.filter(pk=organiser.pk).update(accent_colour="#ffcc00")  # saved before the check
    css = client.get(reverse("organiser_brand_css", args=[organiser.slug])).content.decode()
    assert f"--accent: {branding.DEFAULT_ACCENT};" in css and "#ffcc00" not in css


def test_nothing_but_a_checked_hex_colour_reaches_the_stylesheet():
    css = branding.brand_css(slug="x", accent="#0f766e;}*{display:none")
    assert "display:none" not in css and branding.DEFAULT_ACCENT in css


@pytest.mark.django_db
def test_an_unknown_organisers_stylesheet_is_not_found(client):
    assert client.get("/nobody-here/brand.css").status_code == 404


@pytest.fixture
def branded(organiser):
    organiser.accent_colour = "#0f766e"
    organiser.logo = image_file()
    organiser.save()
    return organiser


def brand_link(organiser) -> str:
    return f'href="/{organiser.slug}/brand.css?v={organiser.brand_version}"'


@pytest.mark.django_db
def test_the_public_page_and_booking_page_carry_the_logo_and_colour(client, branded):
    event = EventFactory(organiser=branded)
    for url in [
        reverse("organiser_page", args=[branded.slug]),
        reverse("event_book", args=[branded.slug, event.code]),
    ]:
        html = client.get(url).content.decode()
        assert brand_link(branded) in html
        assert re.search(rf'<body class="org-{branded.slug}"', html)
        assert branded.logo.url in html
        assert 'width="120" height="120"' in html  # no layout shift while it loads


@pytest.mark.django_db
def test_booking_cards_in_the_portal_carry_their_organisers_colour_and_logo(
    client_as_booker, booker, branded, other_organiser
):
    AttendeeFactory(booking=BookingFactory(organiser=branded, user=booker, reference="BRAND1"))
    AttendeeFactory(booking=BookingFactory(organiser=other_organiser, user=booker, reference="PLAIN1"))
    html = client_as_booker.get(reverse("bookings:event_list")).content.decode()
    assert brand_link(branded) in html and brand_link(other_organiser) in html
    assert re.search(rf'class="card booking-card org-{branded.slug}[^"]*" id="booking-BRAND1"', html)
    assert re.search(rf'class="card booking-card org-{other_organiser.slug}[^"]*" id="booking-PLAIN1"', html)
    assert branded.logo.url in html


@pytest.mark.django_db
def test_the_confirmation_email_carries_the_logo_and_colour(client, branded, mailoutbox, settings):
    from bookings.emails import booking_send_confirmation
    from bookings.models import Booking

    booking = BookingFactory(
        organiser=branded, booker_email="guest@example.com", status=Booking.Status.CONFIRMED
    )
    AttendeeFactory(booking=booking)
    assert booking_send_confirmation(booking_id=booking.pk)
    html = mailoutbox[-1].alternatives[0][0]
    assert f'src="{settings.SITE_URL}{branded.logo.url}"' in html
    assert "background: #0f766e" in html  # the View booking button, in their colour
