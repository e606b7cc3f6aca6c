"""E-mail digests: items (ledger rows → DigestItem), render (Jinja2 + css-inline), message (MIME + headers),
send (aiosmtplib pool or .eml outbox), schedule (when a digest is due) and tokens (signed links).

The service that ties them together is digest.email.digests.
"""
