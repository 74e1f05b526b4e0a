"""Settings production refuses to run with: safe only for the demo on one machine.

One rule each, as plain functions of the values, so that settings.py can stop start-up with them
(every web, worker and beat process, and every manage.py command) and checks.py can report them
as system-check errors when settings come from elsewhere. Each returns what is wrong, naming the
variable to set, or None. Nothing here imports Django: settings.py runs it before Django is set up.
"""

from __future__ import annotations

# Keys published in this repository (the demo's, docker-compose.yml's old default): anyone can
# sign with them, forging email-confirmation keys, password-reset tokens and View booking links.
PUBLISHED_SECRET_KEYS = frozenset(
    {
        "django-insecure-embedded-demo-key-never-use-in-production",
        "change-me-to-a-long-random-string-before-deploying",
    }
)
# Words that mark a key as a placeholder someone meant to replace.
PLACEHOLDER_MARKERS = ("django-insecure", "change-me", "changeme", "change_me")
# Django's own rule for a key worth having (security.W009): at least 50 characters, 5 different.
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_UNIQUE_CHARACTERS = 5

PAYMENT_GATEWAYS = ("stripe", "offline")


def secret_key_problem(key: str) -> str | None:
    if key in PUBLISHED_SECRET_KEYS or any(marker in key.lower() for marker in PLACEHOLDER_MARKERS):
        problem = "SECRET_KEY is a published placeholder: anyone could sign links and keys with it."
    elif len(key) < SECRET_KEY_MIN_LENGTH or len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS:
        problem = (
            f"SECRET_KEY is too weak: it needs at least {SECRET_KEY_MIN_LENGTH} characters, "
            f"{SECRET_KEY_MIN_UNIQUE_CHARACTERS} of them different."
        )
    else:
        return None
    return (
        f"{problem} Set SECRET_KEY (or SECRET_KEY_FILE) to a long random string, e.g. the output of "
        "python -c 'import secrets; print(secrets.token_urlsafe(50))'."
    )


def payment_gateway_problem(gateway: str, stripe_secret_key: str) -> str | None:
    """`gateway` is PAYMENT_GATEWAY as settings resolved it: "" when nothing chose one."""
    if not gateway:
        return (
            "No payment gateway is configured: set STRIPE_SECRET_KEY to take card payments, or "
            "PAYMENT_GATEWAY=offline to accept every payment without a card (demos only)."
        )
    if gateway not in PAYMENT_GATEWAYS:
        return f"PAYMENT_GATEWAY must be stripe or offline, not {gateway!r}."
    if gateway == "stripe" and not stripe_secret_key:
        return "PAYMENT_GATEWAY=stripe needs STRIPE_SECRET_KEY (or STRIPE_SECRET_KEY_FILE)."
    return None


def email_problem(email_host: str, email_to_files: bool) -> str | None:
    if not email_host and not email_to_files:
        return (
            "No mail server: set EMAIL_HOST (and EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD), "
            "or EMAIL_TO_FILES=true to only write mail to EMAIL_FILE_PATH."
        )
    return None


def production_problems(
    *, secret_key: str, payment_gateway: str, stripe_secret_key: str, email_host: str, email_to_files: bool
) -> list[str]:
    problems = [
        secret_key_problem(secret_key),
        payment_gateway_problem(payment_gateway, stripe_secret_key),
        email_problem(email_host, email_to_files),
    ]
    return [problem for problem in problems if problem]
