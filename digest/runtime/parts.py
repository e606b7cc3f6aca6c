"""The ONE builder of the application's parts, shared by the CLI and `paperbell run`.

`build_parts(settings)` makes the long-lived objects every entry point needs: the settings, the
database (migrated or schema-checked), the HTTP clients per remote host, and (on request) the
senders. `digest.cli.context.open_app` and `digest.runtime.app.run_service` both call it, so a
command and the service are wired the same way; nothing is patched globally.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from digest.settings import Settings
from storage.db import Database
from storage.revision import schema_at_head
from storage.target_check import check_migration_target

if TYPE_CHECKING:
    from digest.runtime.metrics import Metrics
    from digest.runtime.senders import Senders
    from digest.sources.http import HostClients


@dataclass
class Parts:
    settings: Settings
    db: Database
    _http: HostClients | None = field(default=None, repr=False)

    @property
    def http(self) -> HostClients:
        """The HTTP clients per remote host, made on first use (a command that fetches nothing needs no httpx)."""
        if self._http is None:
            from digest.sources.http import HostClients

            self._http = HostClients(self.settings)
        return self._http

    def senders(self, metrics: Metrics, *, discord_poster: Any = None) -> Senders:
        """The delivery loop on these parts: e-mail, and Discord when there is somewhere to post."""
        from digest.runtime.channels import build_channels
        from digest.runtime.senders import Senders

        channels = build_channels(self.settings, self.db, discord_poster=discord_poster)
        return Senders(self.settings, self.db, metrics, channels=channels)

    async def aclose(self) -> None:
        """Close the HTTP clients (inside the loop that used them), then the database pool."""
        if self._http is not None:
            await self._http.aclose()
        self.db.dispose()

    def close(self) -> None:
        """Dispose of the database (for callers whose HTTP clients were closed or never used)."""
        self.db.dispose()


def build_parts(settings: Settings, *, migrate: bool | None = None) -> Parts:
    """Settings → data dirs → database (upgraded, or checked: raises SchemaOutOfDate) → HTTP clients.

    `migrate=None` follows the `auto_migrate` setting. Blocking: call before the event loop or in a thread.
    """
    settings.ensure_dirs()
    db = Database(settings.resolved_database_url())
    try:
        if not schema_at_head(db.engine):  # the usual case is answered without importing Alembic
            from storage.migrate import check_schema, upgrade

            if migrate if migrate is not None else settings.auto_migrate:
                check_migration_target(db.engine)  # never into `postgres`, a template or someone else's tables
                upgrade(db.url)
            else:
                check_schema(db.engine)
    except BaseException:
        db.dispose()
        raise
    return Parts(settings=settings, db=db)
