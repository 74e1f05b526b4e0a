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
