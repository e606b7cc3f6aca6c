"""The e-mail channel: everything of e-mail below the front ends.

`channel.EmailChannel` is what the runtime delivers through. `digests` ties the steps together
(due → claim → render → send → record), with `rows` (whose rows are pending), `failures`
(backoff and pause), `onboarding` (the confirmation step), `render` (Jinja2 + css-inline),
`message` and `headers` (MIME, list headers, VERP), `dkim`, `send` (aiosmtplib pool or .eml
outbox), `feedback_view` (vote links in a digest) and `inbound/` (bounces and complaints, by SMTP
or webhook).
"""
