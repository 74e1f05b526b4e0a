"""Money is an integer number of minor units plus an ISO currency code; never a float.

"Minor units" are Stripe's, because Stripe is who we send amounts to: its list of zero-decimal
currencies (https://docs.stripe.com/currencies#zero-decimal) is not ISO 4217's. HUF, ISK and
TWD have no decimals in ISO but are two-decimal at Stripe (amounts a multiple of 100); UGX has
two in ISO and none at Stripe.
"""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$", "AUD": "A$", "CAD": "C$", "NZD": "NZ$"}

ZERO_DECIMAL = frozenset(
    {
        *("BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA"),
        *("PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"),
    }
)
THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})

# The ISO 4217 codes Stripe charges in (its "presentment currencies"); an organiser's currency
# must be one of them, or no booking could ever be paid.
STRIPE_CURRENCIES = (
    ZERO_DECIMAL
    | THREE_DECIMAL
    | frozenset(
        """
    USD AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BWP BYN BZD
    CAD CDF CHF CNY COP CRC CVE CZK DKK DOP DZD EGP ETB EUR FJD FKP GBP GEL GIP GMD GTQ GYD HKD
    HNL HTG HUF IDR ILS INR ISK JMD KES KGS KHR KYD KZT LAK LBP LKR LRD LSL MAD MDL MKD MMK MNT
    MOP MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB
    SAR SBD SCR SEK SGD SHP SLE SOS SRD SZL THB TJS TOP TRY TTD TWD TZS UAH UYU UZS WST XCD YER
    ZAR ZMW
    """.split()
    )
)


# The most one ticket, or one booking, may cost, in minor units: Stripe takes at most eight digits
# in one charge, and a booking is one charge. Every sum of a few such amounts still fits the
# integer columns (2**31 - 1), so bounding the inputs is enough; wider columns would only move
# the failure to Stripe.
MAX_AMOUNT = 99_999_999


def validate_amount(value: int) -> None:
    if value is not None and value > MAX_AMOUNT:
        raise ValidationError(
            _("At most %(max)s in minor units (Stripe's limit for one payment)."),
            params={"max": f"{MAX_AMOUNT:,}"},
        )


def decimals(currency: str) -> int:
    """How many digits of an amount in `currency` are minor units, as Stripe counts them."""
    if currency in ZERO_DECIMAL:
        return 0
    return 3 if currency in THREE_DECIMAL else 2


def validate_currency(value: str) -> None:
    if value not in STRIPE_CURRENCIES:
        raise ValidationError(
            _(
                "%(value)s is not a currency we can take payments in. Use a three-letter ISO code such as GBP."
            ),
            params={"value": value},
        )


def format_money(amount_minor: int, currency: str) -> str:
    """An amount as the active language writes it: "£12.00" in English, "12,00 €" in French."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    if not language.startswith("en"):
        return _format_for_locale(amount_minor, currency, translation.to_locale(language))
    sign = "-" if amount_minor < 0 else ""
    amount_minor = abs(amount_minor)
    symbol = SYMBOLS.get(currency)
    places = decimals(currency)
    units, minor = divmod(amount_minor, 10**places)
    number = f"{units:,}.{minor:0{places}d}" if places else f"{units:,}"
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {currency}"


# For an email's context: written when the template renders, so in the email's language.
format_money_lazy = lazy(format_money, str)


def _format_for_locale(amount_minor: int, currency: str, locale: str) -> str:
    # CLDR's pattern and symbol for the language; never rounded, so no minor unit is lost.
    amount = Decimal(amount_minor).scaleb(-decimals(currency))
    return format_currency(amount, currency, locale=locale, decimal_quantization=False)
