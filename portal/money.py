"""Money is an integer number of minor units plus an ISO currency code; never a float."""

from __future__ import annotations

SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$", "AUD": "A$", "CAD": "C$", "NZD": "NZ$"}
ZERO_DECIMAL = {"JPY", "KRW", "VND", "CLP", "ISK", "HUF"}


def format_money(amount_minor: int, currency: str) -> str:
    sign = "-" if amount_minor < 0 else ""
    amount_minor = abs(amount_minor)
    symbol = SYMBOLS.get(currency)
    if currency in ZERO_DECIMAL:
        number = f"{amount_minor:,}"
    else:
        number = f"{amount_minor // 100:,}.{amount_minor % 100:02d}"
    return f"{sign}{symbol}{number}" if symbol else f"{sign}{number} {currency}"
