"""Bounds on untrusted input that more than one door shares (the web front, the bounce webhook).

Pure functions: a JSON body is checked for nesting depth before any parser recurses into it, so a
100k-deep array is a 400, not a RecursionError.
"""

from __future__ import annotations

WEBHOOK_MAX_BODY = 256_000  # relay notifications are a few KB; SES quotes headers only
MAX_JSON_DEPTH = 64


def json_too_deep(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> bool:
    """True when arrays/objects nest deeper than `max_depth` (strings and escapes are skipped)."""
    depth = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > max_depth:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False
