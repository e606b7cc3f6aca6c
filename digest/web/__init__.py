"""The web app (Starlette under uvicorn): `digest.web.app.create_app(settings, db, extra_routes=...)`.

Feature routes live in their own modules: email_routes (confirm, one-click unsubscribe, manage) and the
runtime's operational routes (/healthz, /metrics) passed in as `extra_routes`.
"""
