"""Ingestion sources: one module per kind of source spec, each yielding normalized PaperRecords.

registry.build_source(spec, settings) turns `arxiv:`, `arxiv-api:`, `hf:`, `feed:` and `file:`
specs into sources, and scholarly_registry the `biorxiv:`, `medrxiv:`, `pubmed:`, `openalex:`,
`crossref:` and `s2:` ones; digest.services.ingest runs them and merges records into the database.
ids.py holds canonical ids, http.py the polite client, xmlsafe.py the safe XML check.
"""
