"""The text and HTML parts are quoted-printable as the standard library makes them: same decoded text, short lines."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import charset, message_from_bytes
from email.mime.text import MIMEText

from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from digest.email.headers import outgoing_bytes
from digest.email.message import build_message, part_boundary
from digest.email.render import RenderedMail
from digest.settings import Settings

_STDLIB_QP = charset.Charset("utf-8")
_STDLIB_QP.body_encoding = charset.QP
# what a mail client reads back: the wire's CRLF (or a lone CR, which the wire turns into CRLF) is a newline
_LINE_BREAKS = re.compile(r"\r\n|\r")
TEXTS = st.text(st.characters(blacklist_categories=("Cs",)), max_size=400) | st.text(
    st.sampled_from(list("ab =.\t\r\n€é<>\"'")), max_size=400)


def _decoded_parts(raw: bytes) -> dict[str, str]:
    parts = {}
    for part in message_from_bytes(raw).walk():
        if part.get_content_maintype() == "text":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            parts[part.get_content_type()] = _LINE_BREAKS.sub("\n", payload.decode("utf-8"))
    return parts


def _wire(settings: Settings, text: str, html: str) -> bytes:
    message = build_message(
        settings, to_address="ada@example.org", to_name="Ada", mail=RenderedMail("Subject", html, text),
        message_id="<pb.1.x@paperbell.test>", date=datetime(2026, 3, 2, tzinfo=UTC),
        unsubscribe_url="https://paperbell.example/unsubscribe/t", subscriber_id=1,
    )
    return outgoing_bytes(message, None)


@hypothesis_settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXTS, html=TEXTS)
@example(text="a\r\r\nb", html="\n\r\r\n")  # binascii.b2a_qp drops the first CR of "\r\r\n"
def test_each_part_decodes_to_the_rendered_text_in_lines_of_at_most_76(
    settings: Settings, text: str, html: str
) -> None:
    raw = _wire(settings, text, html)
    assert _decoded_parts(raw) == {"text/plain": _LINE_BREAKS.sub("\n", text),
                                   "text/html": _LINE_BREAKS.sub("\n", html)}
    body = raw.split(b"\r\n\r\n", 1)[1]
    assert all(len(line) <= 76 for line in body.split(b"\r\n"))
    assert b"\r" not in body.replace(b"\r\n", b"")  # no bare CR reaches the wire


@hypothesis_settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=TEXTS)
def test_a_part_reads_back_as_the_standard_librarys_encoding_does(settings: Settings, text: str) -> None:
    ours = _decoded_parts(_wire(settings, text, "<p>x</p>"))["text/plain"]
    reference = MIMEText(text, "plain", _STDLIB_QP)  # type: ignore[arg-type]
    payload = message_from_bytes(reference.as_bytes()).get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert ours == _LINE_BREAKS.sub("\n", payload.decode("utf-8"))


@hypothesis_settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(before=TEXTS, after=TEXTS)
def test_no_text_can_end_a_part_early(settings: Settings, before: str, after: str) -> None:
    """The boundary is fixed before the parts are written (no search of the text for it): a text holding the
    boundary itself, alone on a line, still reads back whole."""
    boundary = part_boundary("<pb.1.x@paperbell.test>")
    text = f"{before}\n--{boundary}\n--{boundary}--\n{after}"
    raw = _wire(settings, text, text)
    assert _decoded_parts(raw) == {"text/plain": _LINE_BREAKS.sub("\n", text),
                                   "text/html": _LINE_BREAKS.sub("\n", text)}
    assert raw.count(f"--{boundary}".encode()) == 3  # two parts opened, one close
