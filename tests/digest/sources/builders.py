"""Builders of crafted documents for ingestion tests (arXiv API pages, HF responses, faults)."""

from __future__ import annotations

import json
from xml.sax.saxutils import escape

API_HEAD = (
    "<?xml version='1.0' encoding='UTF-8'?>\n"
    '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom" '
    'xmlns="http://www.w3.org/2005/Atom">\n  <id>https://arxiv.org/api/test</id>\n'
    "  <opensearch:totalResults>{total}</opensearch:totalResults>\n"
)


def api_entry(
    ident: str, version: int = 1, *, title: str = "A paper", abstract: str = "An abstract.",
    published: str = "2024-10-22T17:59:30Z", updated: str | None = None, with_id: bool = True,
) -> str:
    id_line = f"    <id>http://arxiv.org/abs/{ident}v{version}</id>\n" if with_id else ""
    return (
        "  <entry>\n" + id_line
        + f"    <title>{escape(title)}</title>\n    <summary>{escape(abstract)}</summary>\n"
        f"    <published>{published}</published>\n    <updated>{updated or published}</updated>\n"
        f'    <link href="https://arxiv.org/abs/{ident}v{version}"/>\n'
        f'    <link href="https://arxiv.org/pdf/{ident}v{version}"/>\n'
        '    <category term="cs.LG" scheme="http://arxiv.org/schemas/atom"/>\n'
        '    <arxiv:primary_category term="cs.LG"/>\n'
        "    <author><name>Ada Lovelace</name></author>\n  </entry>\n"
    )


def api_feed(*entries: str, total: int | None = None) -> bytes:
    count = total if total is not None else len(entries)
    return (API_HEAD.format(total=count) + "".join(entries) + "</feed>\n").encode()


def hf_item(ident: str, *, title: str = "A paper", upvotes: int = 5, comments: int = 2, **paper: object) -> dict:
    return {
        "paper": {
            "id": ident, "title": title, "summary": "An abstract.", "upvotes": upvotes,
            "publishedAt": "2024-10-22T17:59:30.000Z", "authors": [{"name": "Ada Lovelace", "hidden": False}],
            **paper,
        },
        "numComments": comments,
        "publishedAt": "2024-10-25T00:57:09.392Z",
        "title": title,
    }


def hf_body(*items: dict) -> bytes:
    return json.dumps(list(items)).encode()


XML_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>&lol9;</title><item><title>&lol9;</title></item></channel></rss>
"""
