from __future__ import annotations

import pytest
from django.core import mail
from django.core.mail import get_connection

from portal.money import format_money


@pytest.mark.parametrize(
    "amount,currency,shown",
    [
        (1250, "GBP", "£12.50"),
        (5, "EUR", "€0.05"),
        (123456789, "USD", "$1,234,567.89"),
        (-800, "GBP", "-£8.00"),
        (1500, "JPY", "1,500 JPY"),
        (999, "SEK", "9.99 SEK"),
    ],
)
def test_money_is_shown_from_minor_units(amount, currency, shown):
    assert format_money(amount, currency) == shown


@pytest.mark.parametrize(
    "amount,currency,shown",
    [
        # Two-decimal at Stripe although ISO gives them none (Stripe's "special cases").
        (150000, "HUF", "1,500.00 HUF"),
        (50000, "ISK", "500.00 ISK"),
        # Zero-decimal at Stripe.
        (5000, "XOF", "5,000 XOF"),
        (5000, "XAF", "5,000 XAF"),
        (20000, "UGX", "20,000 UGX"),
        (75000, "PYG", "75,000 PYG"),
        # Three-decimal.
        (12500, "KWD", "12.500 KWD"),
    ],
)
def test_money_follows_stripes_minor_units(amount, currency, shown):
    assert format_money(amount, currency) == shown


@pytest.mark.parametrize(
    "currency,per_unit", [("GBP", 100), ("HUF", 100), ("XOF", 1), ("JPY", 1), ("BHD", 1000)]
)
def test_a_voucher_value_is_converted_with_stripes_minor_units(currency, per_unit):
    from vouchers.forms import minor_units_per_unit

    assert minor_units_per_unit(currency) == per_unit


@pytest.mark.parametrize("currency", ["ABC", "XXX", "EEK", "gbp", "GB"])
def test_an_organiser_currency_must_be_one_stripe_takes(currency):
    from django.core.exceptions import ValidationError

    from tests.factories import OrganiserFactory

    organiser = OrganiserFactory.build(currency=currency)
    with pytest.raises(ValidationError) as refused:
        organiser.full_clean(validate_unique=False)
    assert "currency" in refused.value.message_dict


@pytest.mark.parametrize("currency", ["GBP", "EUR", "USD", "JPY", "HUF", "XOF", "KWD"])
def test_real_currencies_are_accepted(currency):
    from tests.factories import OrganiserFactory

    OrganiserFactory.build(currency=currency).full_clean(validate_unique=False)


def test_the_embedded_mail_backend_writes_one_file_per_message(tmp_path, capsys, settings):
    settings.DEBUG = True  # the demo: its mail is also printed
    connection = get_connection("portal.mail.FileAndConsoleEmailBackend", file_path=str(tmp_path))
    messages = [
        mail.EmailMessage(f"Subject {i}", "Body", "from@example.com", ["to@example.com"]) for i in range(2)
    ]

    assert connection.send_messages(messages) == 2

    files = sorted(tmp_path.iterdir())
    assert len(files) == 2
    assert "Subject 0" in files[0].read_text() + files[1].read_text()
    assert "Subject 1" in capsys.readouterr().out


def test_mail_written_to_files_is_never_echoed_to_the_console_in_production(tmp_path, capsys, settings):
    # Reset links, login codes and View booking links would otherwise land in the process's logs.
    settings.DEBUG = False
    connection = get_connection("portal.mail.FileAndConsoleEmailBackend", file_path=str(tmp_path))

    connection.send_messages(
        [mail.EmailMessage("Your login code", "123456", "f@example.com", ["t@example.com"])]
    )

    assert "123456" in next(tmp_path.iterdir()).read_text()
    assert capsys.readouterr().out == ""


def test_placeholder_addresses_of_deleted_accounts_are_never_mailed(mailoutbox):
    from portal.emails import send_templated_email

    send_templated_email(
        template_prefix="bookings/email/booking_links", to=["deleted-1a2b@invalid"], context={"bookings": []}
    )
    assert mailoutbox == []


def test_a_burst_of_emails_shares_one_smtp_connection_and_survives_a_dropped_one(settings):
    import socket

    from portal import emails
    from tests.smtp import RecordingSMTP

    server = RecordingSMTP()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", server.port, False
    emails._smtp.clear()
    try:

        def send(n):
            emails.send_templated_email(
                template_prefix="bookings/email/booking_links",
                to=[f"b{n}@example.com"],
                context={"bookings": []},
            )

        for n in range(3):
            send(n)
        assert (len(server.messages), len(server.connections)) == (3, 1)

        for conn in server.connections:  # the mail server hangs up on an idle connection
            conn.shutdown(socket.SHUT_RDWR)
        send(3)
        assert (len(server.messages), len(server.connections)) == (4, 2)
    finally:
        emails._smtp.clear()
        server.stop()
