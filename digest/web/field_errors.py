"""Which field of the settings page a refusal is about, so the page can show it there (with the input kept).

A refused edit re-shows the settings form with the message next to the field and what the visitor
typed still in it, instead of a dead-end "Nothing changed" page.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import FormData


@dataclass(frozen=True)
class FieldError:
    field: str  # the id of the field: "q12" (a query), "timezone", "hour", "weekday", "schedule", or "form"
    message: str
    value: str = ""  # what was typed, shown again


def field_error(form: FormData, message: str) -> FieldError:
    action = str(form.get("action") or "")
    if action == "query":
        subscription = str(form.get("subscription_id") or "")
        return FieldError(f"q{subscription}", message, str(form.get("query") or "")[:2000])
    if action == "schedule":
        lowered = message.lower()
        for field in ("time zone", "hour", "weekday"):
            if field in lowered:
                name = "timezone" if field == "time zone" else field
                return FieldError(name, message, str(form.get(name) or "")[:64])
        return FieldError("schedule", message)
    return FieldError("form", message)
