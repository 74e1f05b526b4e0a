from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from functools import partial
from importlib import import_module

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import claims
from accounts.models import PendingClaim, User
from portal.emails import DELETED_DOMAIN
from portal.exceptions import PortalError
from portal.locking import lock_timeout


@transaction.atomic
def booker_create(*, email: str, password: str | None, name: str = "") -> User:
    """A booker account. The email stays unverified until its owner proves it, so no earlier
    booking made with that address becomes theirs yet."""
    user = User.objects.create_user(email=email, password=password, name=name)
    if password is None:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=False)
    return user


# Proving an address ---------------------------------------------------------------------------
#
# Whoever proves an address (a confirmation link, a login code or a reset link that reached its
# inbox) owns what was made for it. An account can be set up for an address by someone who does
# not own it (sign up, or "Create an account" while booking, with a password of their choosing),
# so the first proof of an account's address also takes the account away from that password,
# unless the browser proving it is the one that chose or typed the password.

PASSWORD_KNOWN_SESSION_KEY = "accounts_password_known"


def session_knows_password(session, user: User) -> None:
    """This browser chose or typed `user`'s password (sign up, booking form, password login)."""
    session[PASSWORD_KNOWN_SESSION_KEY] = str(user.pk)


def _session_knew_password(session, user: User) -> bool:
    return session is not None and session.get(PASSWORD_KNOWN_SESSION_KEY) == str(user.pk)


@dataclass(frozen=True)
class EmailProof:
    user: User
    password_cleared: bool  # the password predated the proof: it is gone, other sessions with it
    pending: PendingClaim | None  # what was found waits for the owner to attach it
    attached: int


@transaction.atomic
def email_proved(
    *, user: User, email: str, added: bool = False, session=None, password_known=False
) -> EmailProof:
    """`user` proved they own `email`: mark it verified and decide what it brings.

    - The account's own address (not `added`): what was made for it joins the account now.
    - An address `added` through "Update email": what was found waits in a PendingClaim until the
      owner attaches it (`claim_attach`); nothing joins silently.
    - An account that had no proved address before, with a password that neither this browser
      (`session`) nor the proof itself (`password_known`: a reset sets the password) vouches for:
      the password was chosen by whoever set the account up, maybe not the address's owner. It is
      removed, which also ends every session logged in with it (Django checks the password's hash
      on each request); the owner sets a new one or logs in by code."""
    user = User.objects.select_for_update().get(pk=user.pk)
    EmailAddress.objects.filter(user=user, email__iexact=email).update(verified=True)
    proved_before = (
        EmailAddress.objects.filter(user=user, verified=True).exclude(email__iexact=email).exists()
    )
    cleared = (
        user.has_usable_password()
        and not proved_before
        and not password_known
        and not _session_knew_password(session, user)
    )
    if cleared:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    pending, attached = None, 0
    if added:
        if claims.find(user=user, email=email):
            pending, _ = PendingClaim.objects.get_or_create(user=user, email=email.lower())
    else:
        attached = claims.attach(user=user, email=email)
    return EmailProof(user=user, password_cleared=cleared, pending=pending, attached=attached)


@transaction.atomic
def claim_attach(*, user: User, claim: PendingClaim) -> int:
    """The owner attaches what was found for an address they added and proved. Raises
    AccountError when the claim is not theirs or the address is no longer a proved one of theirs."""
    claim = PendingClaim.objects.select_for_update().filter(pk=claim.pk, user=user).first()
    if claim is None:
        raise AccountError(ERRORS["claim_gone"])
    if not EmailAddress.objects.filter(user=user, email__iexact=claim.email, verified=True).exists():
        claim.delete()
        raise AccountError(ERRORS["claim_gone"])
    attached = claims.attach(user=user, email=claim.email)
    claim.delete()
    return attached


def email_address_ensure(*, user: User) -> None:
    """allauth's (unverified) row for the account's login address, if it has none."""
    if not EmailAddress.objects.filter(user=user, email__iexact=user.email).exists():
        primary = not EmailAddress.objects.filter(user=user, primary=True).exists()
        EmailAddress.objects.get_or_create(
            user=user, email=user.email.lower(), defaults={"primary": primary, "verified": False}
        )


def email_confirmation_send(*, request, user: User) -> None:
    """Email a new account's address the link that proves it (allauth's own email)."""
    address = EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=False).first()
    if address is not None:
        address.send_confirmation(request, signup=True)


def account_exists_tell_owner(*, request, email: str) -> None:
    """Someone asked for an account for an address that has one: tell the address, not them
    (allauth's "account already exists" email, as its signup sends)."""
    from allauth.account.adapter import get_adapter

    get_adapter(request).send_account_already_exists_mail(email)


def booker_ensure_for_bookings(*, email: str) -> User | None:
    """A password-less account for an email that has bookings but no account yet."""
    from bookings.models import Booking

    if User.objects.filter(email__iexact=email).exists():
        return None
    if not Booking.objects.filter(booker_email__iexact=email, user__isnull=True).exists():
        return None
    return booker_create(email=email, password=None)


# Logging in ---------------------------------------------------------------------------------


def email_can_log_in(*, user: User, email: str) -> bool:
    """An address logs in to an account only once it is the account's login (User.email) or
    verified. A pending change of address (allauth adds it unverified) must not: whoever owns a
    mistyped address would otherwise get into someone else's account by password, code or reset."""
    email = email.strip().lower()
    if user.email.lower() == email:
        return True
    return EmailAddress.objects.filter(user=user, email__iexact=email, verified=True).exists()


# Deleting an account ------------------------------------------------------------------------

DELETED_NAME = "Deleted booker"
DELETED_ATTENDEE = "Deleted attendee"
DELETED_ANSWER = "(deleted)"


class AccountError(PortalError):
    default_message = _("Your account could not be deleted just now. Nothing has changed.")


class WrongPassword(AccountError):
    pass


ERRORS = {
    "wrong_password": _("That password is not right. Your account has not been deleted."),
    "staff": _("Organiser accounts cannot be deleted here. Please ask the platform team."),
    "gone": _("This account has already been deleted."),
    "claim_gone": _("There is nothing waiting to be attached for this address any more."),
    "membership": _(
        "We could not cancel your %(plan)s membership with %(organiser)s just now, so your account "
        "has not been deleted. Please try again in a few minutes."
    ),
    "membership_started": _(
        "A membership was started while we were deleting your account, so it has not been deleted. "
        "Please try again."
    ),
}


@dataclass(frozen=True)
class DeletionSummary:
    bookings: int
    memberships_cancelled: int


def _memberships_to_cancel(user: User):
    from memberships.models import Membership

    return Membership.objects.filter(user=user, status__in=Membership.CURRENT, cancel_at_period_end=False)


def account_delete(*, user: User, password: str) -> DeletionSummary:
    """Delete a booker's account. Their memberships are cancelled at the end of the period paid
    for (through the payment gateway); their personal data is replaced by neutral placeholders in
    every booking, attendee, form answer, waiting-list place, credit, pass and voucher of theirs;
    every signed View booking link is revoked; then the user and their email addresses go.
    Booking rows, ticket counts, amounts and dates stay for the organisers' reports.

    Cancelling memberships talks to Stripe, which must not happen inside a database transaction
    (memberships.services calls the gateway between its own transactions), so it runs first: any
    failure stops the deletion before personal data is touched. A membership cancelled that way
    stays cancelled (the booker asked for it); a retry skips it. The rest is one transaction.

    Raises AccountError for a wrong password, an organiser account, an account already deleted,
    or a membership that could not be cancelled; nothing is deleted then.
    """
    if not User.objects.filter(pk=user.pk).exists():
        raise AccountError(ERRORS["gone"])
    if not password or not user.check_password(password):
        raise WrongPassword(ERRORS["wrong_password"])
    if user.is_staff or user.is_superuser:
        raise AccountError(ERRORS["staff"])

    from memberships.services import membership_cancel

    cancelled = 0
    for membership in _memberships_to_cancel(user).select_related("plan", "organiser"):
        try:
            membership_cancel(membership=membership)
        except PortalError as exc:
            raise AccountError(
                ERRORS["membership"] % {"plan": membership.plan.name, "organiser": membership.organiser.name}
            ) from exc
        cancelled += 1

    with transaction.atomic(), lock_timeout():
        locked = User.objects.select_for_update().filter(pk=user.pk).first()
        if locked is None:
            raise AccountError(ERRORS["gone"])
        if _memberships_to_cancel(locked).exists():
            raise AccountError(ERRORS["membership_started"])
        bookings = _anonymise(locked)
        EmailAddress.objects.filter(user=locked).delete()
        user_id = locked.pk
        locked.delete()
        transaction.on_commit(partial(_account_sessions_end_task, user_id))
    return DeletionSummary(bookings=bookings, memberships_cancelled=cancelled)


def _anonymise(user: User) -> int:
    """Replace the booker's personal data everywhere it is kept. Rows found by email are only
    those of addresses the booker proved (or logs in with); an unproved address may be someone
    else's."""
    from bookings.links import revoke_links
    from bookings.models import AccountCredit, Attendee, Booking, BookingFormResponse, WaitingListEntry
    from bookings.services import waiting_list_entries_close
    from memberships.models import Membership, StripeEvent
    from passes.models import Pass
    from vouchers.models import Voucher

    emails = _proved_emails(user)
    placeholder_email = f"deleted-{secrets.token_hex(8)}{DELETED_DOMAIN}"

    def by_email(field: str, lookup: str = "iexact") -> Q:
        q = Q(pk__in=[])
        for email in emails:
            q |= Q(**{f"{field}__{lookup}": email})
        return q

    # A place kept open for nobody would hold a seat back from the next person waiting. Closed
    # first: an offer's places go back on its event's row, which is locked before any booking row.
    entries = WaitingListEntry.objects.filter(Q(user=user) | by_email("email"))
    entry_ids = list(entries.values_list("pk", flat=True))
    waiting_list_entries_close(entry_ids=entry_ids)
    WaitingListEntry.objects.filter(pk__in=entry_ids).update(name=DELETED_NAME, email=placeholder_email)

    bookings = list(
        Booking.objects.select_for_update()
        .filter(Q(user=user) | (Q(user__isnull=True) & by_email("booker_email")))
        .order_by("pk")
    )
    booking_ids = [b.pk for b in bookings]
    names = {user.name.strip()} | {b.booker_name.strip() for b in bookings}
    Booking.objects.filter(pk__in=booking_ids).update(
        booker_name=DELETED_NAME, booker_email=placeholder_email, booker_phone=""
    )
    for booking in bookings:
        revoke_links(booking)
    attendee_ids = list(Attendee.objects.filter(booking__in=booking_ids).values_list("pk", flat=True))
    Attendee.objects.filter(pk__in=attendee_ids).update(name=DELETED_ATTENDEE)
    BookingFormResponse.objects.filter(booking__in=booking_ids).update(answer=DELETED_ANSWER)

    credits = AccountCredit.objects.filter(Q(user=user) | by_email("email"))
    credit_ids = list(credits.values_list("pk", flat=True))
    AccountCredit.objects.filter(pk__in=credit_ids).update(email=placeholder_email)

    # The card is the booker's; the customer and subscription references stay so that Stripe's
    # webhooks can still end the membership at the end of its period.
    membership_ids = list(Membership.objects.filter(user=user).values_list("pk", flat=True))
    Membership.objects.filter(pk__in=membership_ids).update(card_brand="", card_last4="")

    pass_ids = list(Pass.objects.filter(Q(user=user) | by_email("buyer_email")).values_list("pk", flat=True))
    Pass.objects.filter(pk__in=pass_ids).update(buyer_email=placeholder_email)

    # Vouchers they bought stay spendable by whoever they were for (the recipient's details are
    # the recipient's); the buyer's address and the message they wrote go. Vouchers given to them
    # lose the recipient's details.
    bought = Voucher.objects.filter(Q(buyer=user) | by_email("buyer_email"))
    bought_ids = list(bought.values_list("pk", flat=True))
    Voucher.objects.filter(pk__in=bought_ids).update(buyer_email=placeholder_email, message="")
    received_ids = list(Voucher.objects.filter(by_email("recipient_email")).values_list("pk", flat=True))
    Voucher.objects.filter(pk__in=received_ids).update(
        recipient_name=DELETED_NAME, recipient_email=placeholder_email
    )
    # Hook: a new model holding a booker's name, email or free text gets its line above, and the
    # test that searches every column (tests/accounts/test_account_delete.py) finds it if not.

    needles = sorted(emails | {n for n in names if len(n) >= 3}, key=len, reverse=True)
    for event in StripeEvent.objects.filter(by_email("data", "icontains")):
        event.data = _redact(event.data, needles, placeholder_email)
        event.save(update_fields=["data", "updated_at"])

    _anonymise_admin_log(
        [
            (User, [user.pk]),
            (Booking, booking_ids),
            (Attendee, attendee_ids),
            (WaitingListEntry, entry_ids),
            (AccountCredit, credit_ids),
            (Pass, pass_ids),
            (Voucher, bought_ids + received_ids),
        ]
    )
    return len(bookings)


def _account_sessions_end_task(user_id: int) -> None:
    from accounts.tasks import account_sessions_end as account_sessions_end_task

    account_sessions_end_task.delay(user_id)


def account_sessions_end(*, user_id: int) -> int:
    """End every stored session of a deleted user: they log no one in any more, but allauth keeps
    the address each login used in the session. Sessions in a cache cannot be listed; they expire.
    Scans the live sessions once, which is why it runs in a task after the deletion commits."""
    from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
    from django.contrib.sessions.models import Session

    SessionStore = import_module(settings.SESSION_ENGINE).SessionStore
    if not issubclass(SessionStore, DatabaseSessionStore):
        return 0

    ended = []
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator(chunk_size=2000):
        if session.get_decoded().get(SESSION_KEY) == str(user_id):
            ended.append(session.session_key)
    for key in ended:
        SessionStore(session_key=key).delete()  # through the store: cached_db forgets it too
    return len(ended)


def _proved_emails(user: User) -> set[str]:
    emails = {user.email.lower()}
    emails |= {
        e.lower()
        for e in EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)
    }
    return emails


def _redact(value, needles: list[str], placeholder_email: str):
    if isinstance(value, dict):
        return {k: _redact(v, needles, placeholder_email) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, needles, placeholder_email) for v in value]
    if isinstance(value, str):
        for needle in needles:
            replacement = placeholder_email if "@" in needle else DELETED_NAME
            value = re.sub(re.escape(needle), replacement, value, flags=re.IGNORECASE)
    return value


def _anonymise_admin_log(objects) -> None:
    """The admin's history names each object by its str(), which for some is a name or email."""
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    for model, ids in objects:
        if ids:
            LogEntry.objects.filter(
                content_type=ContentType.objects.get_for_model(model), object_id__in=[str(i) for i in ids]
            ).update(object_repr=DELETED_NAME)
