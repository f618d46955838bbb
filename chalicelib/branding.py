"""White label per partner: display name, logo, primary colour, imprint and privacy links and
the default language, applied to the embedded widget, the result page and the PDF report.

The logo is stored as a small validated image (PNG, JPEG, GIF or WebP, at most
``MAX_LOGO_BYTES``) and always served from our own origin inside a ``data:`` URL: the pages'
Content-Security-Policy stays ``img-src 'self' data:``, the PDF can embed it without fetching
anything, and a respondent's browser makes no request to a third party. SVG is refused (it
can carry scripts). The primary colour must carry white text with at least WCAG AA contrast
(4.5:1): buttons show white text on it and links show it on white."""

from __future__ import annotations

import base64
import binascii
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from chalicelib.errors import InvalidInput, NotFound
from chalicelib.storage import Store

MAX_LOGO_BYTES = 40 * 1024  # base64 in a JSON body within the 64 KiB request limit
MAX_LOGO_SIDE = 2000
MIN_CONTRAST = 4.5  # WCAG 2.x AA for normal text
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
_DATA_URL = re.compile(
    r"^data:(image/(?:png|jpeg|gif|webp));base64,([A-Za-z0-9+/]+={0,2})$"
)
_MAGIC = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
}
_PIL_FORMAT = {
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/gif": "GIF",
    "image/webp": "WEBP",
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Branding:
    partner_id: str
    display_name: str
    primary_color: str | None = None
    logo: str | None = None  # data:image/...;base64,...
    imprint_url: str | None = None
    privacy_url: str | None = None
    language: str | None = None  # "de" | "en": the widget's default language
    updated_at: str = ""

    def public(self) -> dict[str, Any]:
        """What pages show (everything but the partner id and the update time)."""
        d = asdict(self)
        d.pop("partner_id")
        d.pop("updated_at")
        if self.primary_color:
            d["text_color"] = "#ffffff"
        return d

    def logo_bytes(self) -> bytes | None:
        if not self.logo:
            return None
        return base64.b64decode(self.logo.split(",", 1)[1])


def _luminance(hex_color: str) -> float:
    def channel(c: int) -> float:
        v = c / 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    """The WCAG contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _check_color(value: str, errors: list[tuple[str, str]]) -> str | None:
    if not _HEX.fullmatch(value):
        errors.append(("/primary_color", "a hex colour like #1f5fbf"))
        return None
    ratio = contrast(value, "#ffffff")
    if ratio < MIN_CONTRAST:
        errors.append(
            (
                "/primary_color",
                (
                    f"white text on {value} has a contrast of {ratio:.2f}:1; at least "
                    f"{MIN_CONTRAST}:1 is needed (choose a darker colour)"
                ),
            )
        )
        return None
    return value.lower()


def _check_logo(value: str, errors: list[tuple[str, str]]) -> str | None:
    if value.startswith(("https://", "http://")):
        errors.append(
            (
                "/logo",
                (
                    "send the image itself as a data: URL (data:image/png;base64,...): "
                    "it is served from our origin, so pages need no third-party images"
                ),
            )
        )
        return None
    m = _DATA_URL.fullmatch(value)
    if m is None:
        errors.append(
            ("/logo", "a data:image/png|jpeg|gif|webp;base64,... URL (no SVG)")
        )
        return None
    mime = m.group(1)
    try:
        data = base64.b64decode(m.group(2), validate=True)
    except (binascii.Error, ValueError):
        errors.append(("/logo", "invalid base64"))
        return None
    if len(data) > MAX_LOGO_BYTES:
        errors.append(("/logo", f"at most {MAX_LOGO_BYTES // 1024} KiB"))
        return None
    if not data.startswith(_MAGIC[mime]) or (
        mime == "image/webp" and data[8:12] != b"WEBP"
    ):
        errors.append(("/logo", f"the data is not a {mime} image"))
        return None
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.format != _PIL_FORMAT[mime]:
                raise UnidentifiedImageError(img.format)
            width, height = img.size
            if not (1 <= width <= MAX_LOGO_SIDE and 1 <= height <= MAX_LOGO_SIDE):
                errors.append(
                    ("/logo", f"at most {MAX_LOGO_SIDE} x {MAX_LOGO_SIDE} pixels")
                )
                return None
            img.load()  # decodes every pixel: a truncated or corrupt file fails here
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
    ):
        errors.append(("/logo", f"the data is not a valid {mime} image"))
        return None
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def check_https_url(
    value: str, pointer: str, errors: list[tuple[str, str]]
) -> str | None:
    """An https:// link to show (imprint, privacy policy): printable ASCII, a host name, no
    credentials; it is only ever a link target, never fetched."""
    rule = "an https:// URL (printable ASCII, no user:password@)"
    if (
        len(value) > 500
        or not value.isascii()
        or _CONTROL.search(value)
        or " " in value
    ):
        errors.append((pointer, rule))
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        errors.append((pointer, rule))
        return None
    if parts.scheme != "https" or not parts.hostname or "@" in parts.netloc:
        errors.append((pointer, rule))
        return None
    return value


def validate(partner_id: str, body: Mapping[str, Any], now: datetime) -> Branding:
    """Branding from a ``BrandingIn`` body (already shape-checked by pydantic)."""
    errors: list[tuple[str, str]] = []
    name = str(body.get("display_name") or "").strip()
    if not name or len(name) > 80 or _CONTROL.search(name):
        errors.append(("/display_name", "1 to 80 characters, no control characters"))
    color = body.get("primary_color")
    logo = body.get("logo")
    imprint = body.get("imprint_url")
    privacy = body.get("privacy_url")
    out = Branding(
        partner_id=partner_id,
        display_name=name,
        primary_color=_check_color(color, errors) if color else None,
        logo=_check_logo(logo, errors) if logo else None,
        imprint_url=check_https_url(imprint, "/imprint_url", errors)
        if imprint
        else None,
        privacy_url=check_https_url(privacy, "/privacy_url", errors)
        if privacy
        else None,
        language=body.get("language"),
        updated_at=now.isoformat(timespec="seconds"),
    )
    if errors:
        raise InvalidInput(f"{len(errors)} branding setting(s) are invalid", errors)
    return out


class BrandingService:
    def __init__(
        self, store: Store, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.store = store
        self.clock = clock or (lambda: datetime.now(UTC))

    def set(self, partner_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        branding = validate(partner_id, body, self.clock())
        self.store.put_branding(partner_id, asdict(branding))
        return render(branding)

    def get(self, partner_id: str | None) -> Branding | None:
        if not partner_id:
            return None
        d = self.store.get_branding(partner_id)
        return None if d is None else Branding(**d)

    def remove(self, partner_id: str) -> None:
        """Back to our own look (404 when none is set)."""
        if self.store.get_branding(partner_id) is None:
            raise NotFound("no branding set", [("/branding", "not set")])
        self.store.delete_branding(partner_id)

    def read(self, partner_id: str) -> dict[str, Any]:
        branding = self.get(partner_id)
        if branding is None:
            raise NotFound(
                "no branding set: PUT /v1/partner/branding",
                [("/branding", "not set")],
            )
        return render(branding)


def render(b: Branding) -> dict[str, Any]:
    """The partner's own view (PUT and GET /v1/partner/branding)."""
    return {**b.public(), "updated_at": b.updated_at}
