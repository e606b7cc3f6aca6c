"""The bytes a digest goes out as are exactly what the standard library's generator makes (only faster)."""

from __future__ import annotations

from datetime import UTC, datetime
from email import policy

import pytest

from digest.email.headers import outgoing_bytes
from digest.email.message import build_message
from digest.email.render import RenderedMail
from digest.settings import Settings

BODIES = [
    ("plain", "<p>plain</p>"),
    ("Déjà vu — naïve “quotes” ✓\nline two\r\nline three\rlast", "<p>x</p>\n" * 3000),
    ("trailing newline\n", "=3D equals, tabs\t and spaces   \n" + "é" * 500),
    ("", "\n\n\n"),
]


@pytest.mark.parametrize(("text", "html"), BODIES)
def test_outgoing_bytes_equal_the_stdlib_generators(settings: Settings, text: str, html: str) -> None:
    message = build_message(
        settings, to_address="ada@example.org", to_name="Ada Lovelace", mail=RenderedMail("Sujet — été", html, text),
        message_id="<pb.1.x@paperbell.test>", date=datetime(2026, 3, 2, tzinfo=UTC),
        unsubscribe_url="https://paperbell.example/unsubscribe/t", subscriber_id=1,
    )
    assert outgoing_bytes(message, None) == message.as_bytes(policy=policy.compat32.clone(linesep="\r\n"))
