"""One error hierarchy for the whole API; the handler turns it into RFC 9457 problem JSON."""

from __future__ import annotations

from collections.abc import Mapping


class DomainError(Exception):
    """Base of every error a service raises on purpose. `code` is contract: never renamed or reused."""

    status: int = 400
    code: str = "bad_request"
    title: str = "Bad request"
    headers: Mapping[str, str] = {}  # sent with the problem answer (Retry-After, …)

    def __init__(self, detail: str = "", **extra: object) -> None:
        self.detail = detail or self.title
        self.extra = extra
        super().__init__(self.detail)


class NotFound(DomainError):
    status, code, title = 404, "not_found", "Not found"


class Conflict(DomainError):
    status, code, title = 409, "conflict", "Conflict"


class InvalidInput(DomainError):
    status, code, title = 400, "validation_error", "Invalid input"


class PermissionDenied(DomainError):
    status, code, title = 403, "permission_denied", "Permission denied"


class NotImplementedYet(DomainError):
    status, code, title = 501, "not_implemented", "Not implemented"


class ServiceUnavailable(DomainError):
    """A backing service (the shared cache) is unreachable: retry later, nothing was changed."""

    status, code, title = 503, "service_unavailable", "Service unavailable"


class PayloadTooLarge(DomainError):
    """The declared body is over DATA_UPLOAD_MAX_MEMORY_SIZE: refused before anything reads it."""

    status, code, title = 413, "payload_too_large", "Payload too large"


class BadRequest(DomainError):
    """A request Django refuses as suspicious (too many query or form fields, a malformed
    multipart body...): the client's mistake, never a 500."""

    status, code, title = 400, "bad_request", "Bad request"
