"""`pubmed:QUERY` — PubMed through NCBI's E-utilities: esearch by entry date, then efetch in batches.

esearch (`db=pubmed`, `term=QUERY`, `datetype=edat`, `mindate`/`maxdate`, JSON) pages with
`retstart`/`retmax` (its counts are strings); efetch (`retmode=xml`) reads the PMIDs in batches of
`pubmed_batch_size`. Every request carries `tool` and `email` (NCBI asks for both) and `api_key`
when set; requests to NCBI start at least 1/3 s apart (1/10 s with a key), NCBI's documented limit.
Structured abstracts keep their labels ("BACKGROUND: …"); inline markup (`<i>`, `<sup>`), MathML
and their tail text are kept as text; dates may be year-only or carry a text month. A record keeps
its DOI and PMID (alias `pmid:N`); its MeSH descriptors become categories. `parse_efetch()` is
also what `file:` uses for a saved efetch response.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import Element

from digest.core import ids
from digest.core.records import PaperRecord
from digest.query.people import ORCIDS_EXTRA, orcid_pairs
from digest.sources.base import FetchContext, FetchResult, ParsedDocument, SourceError
from digest.sources.hf_daily import decode_json
from digest.sources.scholarly import add_record, finish, merge_pages, secret, today, window_start
from digest.sources.xmlsafe import parse_xml

MML = "{http://www.w3.org/1998/Math/MathML}"
_SPACED_INLINE = {"i", "b", "u", "italic", "bold"}  # PubMed drops the spaces around these: "the<i>TERT</i>gene"
_MONTHS = {m: n for n, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                                        "dec"), start=1)}
ESEARCH_PAGE = 1000


def _math(element: Element) -> str:
    """MathML as plain text: prescripts before their base ("3He"), everything else in document order."""
    name = element.tag.removeprefix(MML)
    if name == "mmultiscripts":
        children = list(element)
        marker = next((i for i, c in enumerate(children) if c.tag == f"{MML}mprescripts"), len(children))
        pre = "".join(_math(c) for c in children[marker + 1 :])
        return pre + "".join(_math(c) for c in children[:marker])
    if name in ("none", "mprescripts"):
        return ""
    if name == "mtext":
        return " " if not (element.text or "").strip() else (element.text or "")
    inner = (element.text or "").strip() + "".join(_math(c) for c in element)
    return inner


def inline_text(element: Element | None) -> str:
    """The element's text with inline markup and MathML flattened, tail text of every child kept."""
    if element is None:
        return ""
    parts: list[str] = [element.text or ""]
    for child in element:
        name = child.tag.rsplit("}", 1)[-1].lower()
        if child.tag.startswith(MML):
            parts.append(_math(child))
        else:
            inner = inline_text(child)
            if name in _SPACED_INLINE and inner:
                before = parts[-1][-1:] if parts and parts[-1] else ""
                inner = (" " if before.isalnum() else "") + inner
                after = (child.tail or "")[:1]
                inner += " " if after.isalnum() else ""
            parts.append(inner)
        parts.append(child.tail or "")
    return "".join(parts)


def _abstract(article: Element) -> str:
    sections = []
    for part in article.findall("Abstract/AbstractText"):
        text = ids.normalize_text(inline_text(part))
        label = (part.get("Label") or "").strip()
        if text:
            sections.append(f"{label}: {text}" if label and label.upper() != "UNLABELLED" else text)
    return " ".join(sections)


def _date(node: Element | None) -> datetime | None:
    """Year, Year+Month (number or text) or Year+Month+Day; a MedlineDate "2020 Jan-Feb" gives its year."""
    if node is None:
        return None
    year = (node.findtext("Year") or node.findtext("MedlineDate") or "").strip()[:4]
    if not year.isdigit():
        return None
    month_text = (node.findtext("Month") or "1").strip()
    month = int(month_text) if month_text.isdigit() else _MONTHS.get(month_text[:3].lower(), 1)
    day_text = (node.findtext("Day") or "1").strip()
    try:
        return datetime(int(year), month, int(day_text) if day_text.isdigit() else 1, tzinfo=UTC)
    except ValueError:
        return None


def _authors(article: Element) -> list[str]:
    names = []
    for author in article.findall("AuthorList/Author"):
        collective = author.findtext("CollectiveName")
        given, last = author.findtext("ForeName") or author.findtext("Initials") or "", author.findtext("LastName")
        name = collective or (f"{given} {last}" if last else "")
        if ids.normalize_text(name):
            names.append(ids.normalize_text(name))
    return names


def _orcids(article: Element) -> list[list[str]]:
    """[[author as in `_authors`, ORCID]] for the authors with an `Identifier Source="ORCID"`."""
    pairs = []
    for author in article.findall("AuthorList/Author"):
        given, last = author.findtext("ForeName") or author.findtext("Initials") or "", author.findtext("LastName")
        orcid = next((i.text for i in author.findall("Identifier") if i.get("Source") == "ORCID"), None)
        if last and orcid:
            pairs.append((ids.normalize_text(f"{given} {last}"), orcid))
    return orcid_pairs(pairs)


def _record(node: Element, source: str) -> tuple[PaperRecord, datetime | None] | None:
    citation = node.find("MedlineCitation")
    article = citation.find("Article") if citation is not None else None
    pmid = (citation.findtext("PMID") or "").strip() if citation is not None else ""
    if article is None or not pmid.isdigit():
        return None
    title = ids.normalize_text(inline_text(article.find("ArticleTitle"))).strip()
    if not title:
        return None
    id_list = {a.get("IdType"): (a.text or "").strip() for a in node.findall("PubmedData/ArticleIdList/ArticleId")}
    doi_text = id_list.get("doi") or next(
        (e.text for e in article.findall("ELocationID") if e.get("EIdType") == "doi" and e.text), None
    )
    doi = ids.normalize_doi(doi_text)
    url = f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/"
    found = ids.canonical_id(id_list.get("arxiv"), doi=doi, fallback=url)
    assert found is not None  # the URL is a fallback
    mesh = [ids.normalize_text(d.text) for d in citation.findall("MeshHeadingList/MeshHeading/DescriptorName")
            if d.text] if citation is not None else []
    entrez = next((_date(d) for d in node.findall("PubmedData/History/PubMedPubDate")
                   if d.get("PubStatus") in ("entrez", "pubmed")), None)
    published = _date(article.find("ArticleDate")) or _date(article.find("Journal/JournalIssue/PubDate")) or entrez
    extras: dict[str, Any] = {"pmid": pmid, "pubmed_url": url}
    journal = ids.normalize_text(article.findtext("Journal/Title"))
    if journal:
        extras["journal"] = journal
    if id_list.get("pmc"):
        extras["pmcid"] = id_list["pmc"]
    keywords = [ids.normalize_text(k.text) for k in citation.findall("KeywordList/Keyword") if k.text] if (
        citation is not None) else []
    if keywords:
        extras["keywords"] = keywords
    if orcids := _orcids(article):
        extras[ORCIDS_EXTRA] = orcids
    aliases = [f"pmid:{pmid}"] + ([f"doi:{doi}"] if doi and found[0] != f"doi:{doi}" else [])
    record = PaperRecord(
        canonical_id=found[0], version=found[1], title=title.rstrip(), abstract=_abstract(article),
        authors=_authors(article), categories=mesh, primary_category=mesh[0] if mesh else None, doi=doi,
        abs_url=f"https://doi.org/{doi}" if doi and found[0].startswith("doi:") else url, pdf_url=None,
        published_at=published, updated_at=entrez, source=source, extras=extras, aliases=aliases,
    )
    return record, entrez


def is_efetch(root: Element) -> bool:
    return root.tag == "PubmedArticleSet"


def parse_efetch(body: bytes, source: str) -> ParsedDocument:
    """Records of an efetch `PubmedArticleSet`; an article without PMID or title is counted malformed."""
    root = parse_xml(body)
    if not is_efetch(root):
        raise SourceError("not a PubMed efetch response (expected PubmedArticleSet)")
    parsed = ParsedDocument()
    for node in root.findall("PubmedArticle"):
        found = _record(node, source)
        add_record(parsed, found[0] if found else None, found[1] if found else None)
    parsed.malformed += len(root.findall("PubmedBookArticle"))  # books are not papers we can alert on
    return parsed


def parse_esearch(body: bytes) -> tuple[list[str], int]:
    """(PMIDs, total count) of an esearch reply in JSON or XML form; an `ERROR` fails the run."""
    if body.lstrip()[:1] == b"<":
        root = parse_xml(body)
        if root.tag != "eSearchResult":
            raise SourceError("not a PubMed esearch response")
        error = root.findtext("ERROR")
        if error:
            raise SourceError(f"PubMed esearch: {error}")
        count = (root.findtext("Count") or "0").strip()
        return [i.text.strip() for i in root.findall("IdList/Id") if i.text], int(count) if count.isdigit() else 0
    data = decode_json(body)
    result = data.get("esearchresult") if isinstance(data, dict) else None
    if not isinstance(result, dict):
        raise SourceError("not a PubMed esearch response (no esearchresult)")
    if result.get("ERROR"):
        raise SourceError(f"PubMed esearch: {result['ERROR']}")
    count = str(result.get("count", "0"))
    return [str(i) for i in result.get("idlist") or [] if str(i).isdigit()], int(count) if count.isdigit() else 0


def looks_like_esearch(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("esearchresult"), dict)


class PubmedSource:
    """esearch by entry date since the watermark's day, then efetch the PMIDs in batches."""

    def __init__(self, spec: str, query: str) -> None:
        self.spec = spec
        self.query = query.strip()

    def _common(self, ctx: FetchContext) -> tuple[dict[str, str], float]:
        params = {"db": "pubmed", "tool": ctx.settings.ncbi_tool,
                  "email": ctx.settings.ncbi_email or ctx.settings.contact_email}
        key = secret(ctx.settings.ncbi_api_key)
        if key:
            params["api_key"] = key
        return params, (0.1 if key else 0.34)  # NCBI: 10 requests/s with a key, 3 without

    async def _search(self, ctx: FetchContext, common: dict[str, str], spacing: float) -> list[str]:
        base = ctx.settings.pubmed_eutils_url.rstrip("/")
        window = {"term": self.query, "datetype": "edat", "mindate": window_start(ctx).strftime("%Y/%m/%d"),
                  "maxdate": today().strftime("%Y/%m/%d"), "retmode": "json", "retmax": str(ESEARCH_PAGE)}
        pmids: list[str] = []
        seen: set[str] = set()
        for page in range(ctx.settings.source_max_pages):
            params = {**common, **window, "retstart": str(page * ESEARCH_PAGE)}
            # JSON is asked for, but NCBI's XML form (and its XML error replies) parse too
            response = await ctx.client.get(f"{base}/esearch.fcgi", params=params, expect=None,
                                            min_interval=spacing)
            found, count = parse_esearch(response.body)
            fresh = [p for p in found if p not in seen]
            seen.update(fresh)
            pmids.extend(fresh)
            if not found or len(pmids) >= count:
                break
        return pmids

    async def fetch(self, ctx: FetchContext) -> FetchResult:
        common, spacing = self._common(ctx)
        pmids = await self._search(ctx, common, spacing)
        base = ctx.settings.pubmed_eutils_url.rstrip("/")
        size = ctx.settings.pubmed_batch_size
        pages: list[ParsedDocument] = []
        for start in range(0, len(pmids), size):
            params = {**common, "id": ",".join(pmids[start : start + size]), "retmode": "xml", "rettype": "abstract"}
            response = await ctx.client.get(f"{base}/efetch.fcgi", params=params, expect="xml", min_interval=spacing)
            pages.append(parse_efetch(response.body, self.spec))
            if ctx.progress:
                ctx.progress(self.spec, min(start + size, len(pmids)), len(pmids))
        return finish(ctx, merge_pages(pages))

