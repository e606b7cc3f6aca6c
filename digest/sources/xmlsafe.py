"""Strict, safe XML parsing for every XML-based source (arXiv API, announcement feeds, RSS/Atom).

defusedxml refuses entity declarations (billion laughs, quadratic blow-up) and external entities,
so an XML bomb is rejected, never expanded. Feed paths run this check over the raw bytes before
feedparser sees them; a truncated or malformed document therefore fails the run with a clear reason
instead of being half-parsed.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from digest.sources.base import SourceError


def parse_xml(body: bytes) -> Element:
    """The document's root element, or SourceError("unsafe XML…" / "malformed XML…")."""
    if not body.strip():
        raise SourceError("malformed XML: empty document")
    try:
        return SafeET.fromstring(body, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        reason = f"unsafe XML rejected ({exc.__class__.__name__}): entity declarations are not allowed"
        raise SourceError(reason) from None
    except ParseError as exc:
        raise SourceError(f"malformed XML: {exc}") from None
