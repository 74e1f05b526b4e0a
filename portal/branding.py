"""Organiser branding: the accent colour and logo an organiser sets, checked so that every page
stays readable and safe, and the small stylesheet that carries the colour to the pages."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# The platform's own accent, also the fallback when an organiser's colour is missing or unusable.
DEFAULT_ACCENT = "#3d4fc4"
WHITE = "#ffffff"
# WCAG 2.1 AA for normal text: buttons carry white text on the accent, links use it on white.
MIN_CONTRAST = 4.5
HEX = re.compile(r"^#[0-9a-fA-F]{6}$")

LOGO_FORMATS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}  # raster only: an SVG can carry script
LOGO_MAX_BYTES = 1024 * 1024
LOGO_MAX_SIDE = 2000
LOGO_MIN_SIDE = 32


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _hex(rgb) -> str:
    return "#" + "".join(f"{max(0, min(255, round(c))):02x}" for c in rgb)


def luminance(colour: str) -> float:
    r, g, b = (_channel(c) for c in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2.1 contrast ratio of two #rrggbb colours, 1 to 21."""
    lighter, darker = sorted((luminance(first), luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def mix(colour: str, other: str, amount: float) -> str:
    """`amount` (0-1) of `other` mixed into `colour`."""
    return _hex(a + (b - a) * amount for a, b in zip(_rgb(colour), _rgb(other), strict=True))


def validate_accent_colour(value: str) -> None:
    if not HEX.match(value or ""):
        raise ValidationError(_("Enter a colour as # and six hex digits, such as #0f766e."))
    ratio = contrast_ratio(value, WHITE)
    if ratio < MIN_CONTRAST:
        raise ValidationError(
            _(
                "White text on %(value)s is too hard to read (contrast %(ratio).1f:1; at least 4.5:1 "
                "is needed). Choose a darker shade."
            ),
            params={"value": value, "ratio": ratio},
        )


def usable_accent(value: str) -> str:
    """The organiser's colour if it is still a valid, readable one; the platform's otherwise (a row
    saved before the check existed, or changed outside the admin)."""
    try:
        validate_accent_colour(value)
    except ValidationError:
        return DEFAULT_ACCENT
    return value.lower()


def accent_palette(accent: str) -> dict[str, str]:
    """The shades the stylesheet needs, all readable: hover (darker), a soft tint for backgrounds,
    and the accent as text on that tint (darkened until it reads at 4.5:1 on it)."""
    soft = mix(accent, WHITE, 0.9)
    on_soft = accent
    while contrast_ratio(on_soft, soft) < MIN_CONTRAST:
        on_soft = mix(on_soft, "#000000", 0.08)
    return {
        "accent": accent,
        "accent-hover": mix(accent, "#000000", 0.18),
        "accent-soft": soft,
        "accent-on-soft": on_soft,
        "accent-line": mix(accent, WHITE, 0.7),
    }


def validate_logo(file) -> None:
    """A PNG, JPEG or WebP of at most 1 MB and 2000 px a side: checked by reading the image
    itself, not trusting its name or the browser's content type."""
    from PIL import Image, UnidentifiedImageError

    if file.size > LOGO_MAX_BYTES:
        raise ValidationError(_("The logo is too large: at most 1 MB, please."))
    position = file.tell() if hasattr(file, "tell") else None
    try:
        file.seek(0)
        with Image.open(file) as image:
            kind, (width, height) = image.format, image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as error:
        raise ValidationError(_("Upload a PNG, JPEG or WebP image.")) from error
    finally:
        if position is not None:
            file.seek(position)
    if kind not in LOGO_FORMATS:
        raise ValidationError(_("Upload a PNG, JPEG or WebP image."))
    if max(width, height) > LOGO_MAX_SIDE:
        raise ValidationError(
            _("The logo is %(width)s × %(height)s px: at most 2000 px a side, please."),
            params={"width": width, "height": height},
        )
    if min(width, height) < LOGO_MIN_SIDE:
        raise ValidationError(_("The logo is too small: at least 32 px a side, please."))


def brand_css(*, slug: str, accent: str) -> str:
    """The stylesheet of one organiser: its shades as custom properties on `.org-<slug>`, the class
    its pages, booking cards and dialogs carry."""
    palette = accent_palette(usable_accent(accent))
    props = " ".join(f"--{name}: {value};" for name, value in palette.items())
    return f".org-{slug} {{ {props} }}\n"
