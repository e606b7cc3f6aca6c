"""E-mail address and display-name checks at the door (email-validator), and again before sending.

Called by digest.services.subscribers (every interface adds subscribers through it) and by
digest.email.digests (a stored row from before these checks is re-checked, and paused
with the reason instead of crashing a send). Policy: the local part must be ASCII (no SMTPUTF8, so
every server can take our mail); an internationalised domain is accepted and stored IDNA-encoded
(`user@xn--exmple-cua.org`), which needs no SMTPUTF8 either. Display names carry no control
characters (CR/LF would inject headers) and are encoded by the message builder.
"""

from __future__ import annotations

import unicodedata

MAX_DISPLAY_NAME = 255


class AddressError(ValueError):
    """An address or display name is refused; str = one line for a person."""


def normalize_address(address: str) -> str:
    """The address as stored (lower case, IDNA domain), or AddressError saying why it is refused."""
    # imported here: email-validator loads dnspython, which commands that only list addresses never need
    from email_validator import EmailNotValidError, validate_email

    text = address.strip()
    try:
        checked = validate_email(text, allow_smtputf8=False, check_deliverability=False, globally_deliverable=False)
    except EmailNotValidError as exc:
        raise AddressError(f"not an e-mail address {text!r}: {exc}") from None
    # globally_deliverable=False admits special-use names (example.test) for self-hosted labs, but a
    # single-label domain (`a@b`) is never a real mailbox on the Internet: refuse it at the door.
    if "." not in (checked.ascii_domain or checked.domain):
        raise AddressError(f"not an e-mail address {text!r}: the part after the @-sign needs a period")
    ascii_form = checked.ascii_email or checked.normalized
    return ascii_form.lower()


def address_problem(address: str) -> str | None:
    """None when a stored address can be sent to as it is, else why not (legacy rows from before the checks)."""
    try:
        ok = normalize_address(address)
    except AddressError as exc:
        return str(exc)
    return None if ok == address.strip().lower() else f"address {address!r} is not in its deliverable form {ok!r}"


def clean_display_name(name: str | None) -> str | None:
    """A display name without control characters (refused at the door), or None when empty."""
    if name is None:
        return None
    text = name.strip()
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        raise AddressError("display name must not contain control characters (line breaks, tabs, ...)")
    if len(text) > MAX_DISPLAY_NAME:
        raise AddressError(f"display name is longer than {MAX_DISPLAY_NAME} characters")
    return text or None


def header_safe_name(name: str | None) -> str:
    """For rows stored before the door checks: control characters become spaces, so nothing is injected."""
    if not name:
        return ""
    return " ".join("".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in name).split())
