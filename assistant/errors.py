"""Errors that carry their meaning to the CLI (exit codes) and the API (HTTP status)."""


class CaretrailError(Exception):
    status_code = 500
    exit_code = 1


class BadRequest(CaretrailError):
    status_code = 400
    exit_code = 2


class NotFound(CaretrailError):
    status_code = 404
    exit_code = 2


class PermissionDenied(CaretrailError):
    status_code = 403
    exit_code = 2


class Unauthenticated(CaretrailError):
    """No credentials, or credentials that do not verify (expired, revoked, wrong audience)."""

    status_code = 401
    exit_code = 2


class Conflict(CaretrailError):
    status_code = 409
    exit_code = 2


class TooManyRequests(CaretrailError):
    status_code = 429
    exit_code = 2
