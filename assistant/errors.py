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
