"""Refusals raised by service functions; `str(error)` is one line a front end can show as is."""

from __future__ import annotations


class ServiceError(Exception):
    """Base of every expected refusal (bad input, unknown id, duplicate, no permission)."""


class NotFound(ServiceError):
    """The subscriber, subscription or paper named does not exist (or is not visible to the caller)."""


class Conflict(ServiceError):
    """The thing already exists (duplicate subscriber or subscription)."""


class InvalidInput(ServiceError):
    """The input is malformed: a bad query, e-mail address, time zone or schedule."""


class LimitExceeded(ServiceError):
    """A configured limit (subscriptions per member, queries per minute) would be exceeded."""
