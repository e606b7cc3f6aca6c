"""Other names of a stored paper, so records from every source find the one row they belong to.

A bioRxiv preprint's journal DOI, a journal article's preprint DOI, a PubMed id (`pmid:…`), an
OpenAlex work (`openalex:W…`), a Semantic Scholar id (`s2:…`), the DOI of an arXiv paper stored
under its arXiv id: each alias points at exactly one paper (digest.services.paper_aliases).
"""

from __future__ import annotations

from sqlmodel import Field, SQLModel


class PaperAlias(SQLModel, table=True):
    """`alias` (e.g. "doi:10.1016/j.patter.2020.100123") -> the paper it names."""

    __tablename__ = "paper_aliases"

    alias: str = Field(max_length=255, primary_key=True)
    paper_id: int = Field(foreign_key="papers.id", index=True, ondelete="CASCADE")
