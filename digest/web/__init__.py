"""The web front (Starlette under uvicorn): day pages, search, subscribe, manage, feeds, JSON API.

`app.create_app` builds it; the runtime (`digest.runtime.web_app`) adds what other packages own:
the e-mail channel's subscriber actions and bounce webhook, /healthz and /metrics. Its own
services: `days` (papers by day, the store version caches key on), `search` (corpus search) and
`subscribe` (the subscribe and settings forms).
"""
