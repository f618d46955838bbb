"""Domain errors. They carry no HTTP types; app.py maps each ``code`` to a status and renders
an RFC 9457 problem document. ``errors`` lists (JSON pointer, message) pairs for field errors."""

from __future__ import annotations


class DomainError(Exception):
    code = "error"
    title = "Error"

    def __init__(
        self, detail: str, errors: list[tuple[str, str]] | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class InvalidInput(DomainError):
    """The request is well-formed JSON but its content is wrong (names the field)."""

    code = "invalid-input"
    title = "Invalid input"


class MalformedRequest(DomainError):
    code = "malformed-request"
    title = "Malformed request"


class UnsupportedMediaType(DomainError):
    code = "unsupported-media-type"
    title = "Unsupported media type"


class PayloadTooLarge(DomainError):
    code = "payload-too-large"
    title = "Payload too large"


class NotFound(DomainError):
    code = "not-found"
    title = "Not found"


class Unauthorized(DomainError):
    code = "unauthorized"
    title = "Unauthorized"


class Forbidden(DomainError):
    code = "forbidden"
    title = "Forbidden"


class Conflict(DomainError):
    code = "conflict"
    title = "Conflict"


class Unavailable(DomainError):
    """The store could not complete the request after bounded retries; nothing was written."""

    code = "unavailable"
    title = "Service temporarily unavailable"

    def __init__(self, detail: str, retry_after: int = 1) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
