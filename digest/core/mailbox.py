"""The mailbox an address reaches, as a key for per-address abuse limits (never for sending).

`mailbox_key` folds the spellings that land in one inbox, so `victim+1@…` … `victim+50@…` count as
one address for the subscribe form's per-address limit:
- a `+tag` after the local part (sub-addressing, RFC 5233), for every domain;
- case (no mailbox provider we know of treats `Ada` and `ada` as two people);
- dots in the local part, and googlemail.com, only for Gmail, which documents both
  ("Dots don't matter in Gmail addresses", https://support.google.com/mail/answer/7436150).
Other providers' rules (e.g. Yahoo's `-` disposable addresses) are not documented as one mailbox.
"""

from __future__ import annotations

_GMAIL = {"gmail.com", "googlemail.com"}


def mailbox_key(address: str) -> str:
    """`ada.lovelace+news@GoogleMail.com` → `adalovelace@gmail.com`; addresses without `@` come back lower-cased."""
    local, at, domain = address.strip().rpartition("@")
    if not at:
        return address.strip().lower()
    local, domain = local.lower().split("+", 1)[0], domain.lower().rstrip(".")
    if domain in _GMAIL:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"
