"""Error objects in the console's wire format.

Every error response is a JSON array of ``{"code", "title", "description", "subject", "data"?,
"trace"?}`` objects; the HTTP status is the first error's code.
"""

from __future__ import annotations

import secrets


def error(code: int, title: str, description: str, subject: str = "elemental", attribute: str | None = None) -> dict:
    out = {"code": code, "title": title, "description": description, "subject": subject}
    if attribute is not None:
        out["data"] = {"attribute": attribute}
    return out


def validation(attribute: str, description: str, subject: str = "elemental") -> dict:
    return error(422, "Validation Error", description, subject, attribute)


def gaia(attribute: str, description: str) -> dict:
    """A validation error raised by a gaia custom validator (subject ``gaia``)."""
    return validation(attribute, description, "gaia")


class ApiError(Exception):
    """Raised anywhere in request processing; rendered as an error array."""

    def __init__(self, errors: list[dict] | dict, headers: list[tuple[str, str]] | None = None):
        self.errors = errors if isinstance(errors, list) else [errors]
        self.headers = headers or []
        super().__init__(self.errors[0]["description"] if self.errors else "error")

    @property
    def status(self) -> int:
        return self.errors[0]["code"]

    def payload(self) -> list[dict]:
        trace = secrets.token_hex(8)
        return [dict(e, trace=trace) for e in self.errors]


def bad_request(description: str, subject: str = "elemental") -> ApiError:
    return ApiError(error(400, "Bad Request", description, subject))


def not_found(description: str = "Unable to find the requested resource", subject: str = "bahamut") -> ApiError:
    return ApiError(error(404, "Not Found", description, subject))


# The object-level 404 text of the console is not public; manipulate's storage drivers say this.
def object_not_found() -> ApiError:
    return ApiError(error(404, "Not Found", "cannot find the object for the given ID", "elemental"))


def not_allowed(operation: str, category: str) -> ApiError:
    return ApiError(error(405, "Not allowed", "%s operation not allowed on %s" % (operation, category), "bahamut"))


def unauthorized(description: str = "You are not authorized to access this resource.") -> ApiError:
    return ApiError(error(401, "Unauthorized", description, "bahamut"))


def forbidden() -> ApiError:
    return ApiError(error(403, "Forbidden", "You are not allowed to access this resource.", "bahamut"))
