"""Runtime configuration, read once at start-up from `PAPERBELL_*` environment variables and `.env`.

The composition root (CLI command or `paperbell run`) builds one `Settings` and passes it down;
domain code never imports a global settings object. Invalid values fail at start-up with a
message naming the offending setting (see `load_settings`).
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import platformdirs
from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from digest.chat_settings import ChatSettings
from digest.core.env_names import unknown_variables
from digest.core.matchable import BACKFILL_MAX_DAYS
from digest.source_settings import SourceSettings

DEFAULT_SOURCES = ["arxiv:cs.LG+cs.CL+cs.AI", "hf:daily"]
MIN_KEY_BYTES = 32  # link-signing key (HMAC): shorter keys are guessable
_DNS_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*")


class SmtpSecurity(StrEnum):
    NONE = "none"
    STARTTLS = "starttls"
    TLS = "tls"


class InboundProtocol(StrEnum):
    SMTP = "smtp"
    LMTP = "lmtp"


class DigestFrequency(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"


class SettingsError(ValueError):
    """A setting has an invalid value; the message names the environment variable."""


class Settings(SourceSettings, ChatSettings):
    """Every knob paperbell has. Field name `foo_bar` is read from `PAPERBELL_FOO_BAR`.

    The scholarly-API sources' fields come from `SourceSettings` (digest.source_settings), the fields
    shared by the chat channels from `ChatSettings` (digest.chat_settings); each chat channel's own
    fields are in its package and composed in by the composition root (digest.runtime.channels).
    """

    model_config = SettingsConfigDict(
        env_prefix="PAPERBELL_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # --- storage -------------------------------------------------------------------------
    data_dir: Path = Field(
        default_factory=lambda: Path(platformdirs.user_data_dir("paperbell")),
        description="Directory for the SQLite database, the outbox and the signing key.",
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite file `paperbell.db` in the data directory."
    )
    auto_migrate: bool = Field(
        default=True, description="Upgrade the schema at start-up; false = refuse to start on an old schema."
    )
    outbox_dir: Path | None = Field(
        default=None, description="Where mail (.eml/.html) and Discord messages go when no SMTP/token is set."
    )

    # --- email ---------------------------------------------------------------------------
    smtp_host: str | None = Field(default=None, description="SMTP server; unset = write mail to the outbox.")
    smtp_port: int = Field(default=587, ge=1, le=65535, description="SMTP port.")
    smtp_username: str | None = Field(default=None, description="SMTP login (optional).")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password (optional).")
    smtp_security: SmtpSecurity = Field(default=SmtpSecurity.STARTTLS, description="none | starttls | tls.")
    smtp_timeout: float = Field(default=30.0, gt=0, description="Seconds per SMTP operation.")
    smtp_concurrency: int = Field(default=4, ge=1, description="Parallel SMTP connections.")
    smtp_max_retries: int = Field(default=3, ge=0, description="Retries on 4xx and connection errors.")
    bounce_pause_threshold: int = Field(
        default=3, ge=1, description="Permanent (5xx) failures before an email subscriber is paused."
    )
    # --- email isolation: per-subscriber backoff and pause ------------------------
    email_retry_base_seconds: float = Field(
        default=300.0, gt=0, description="First wait after a subscriber's digest failed; doubles per failure."
    )
    email_retry_max_seconds: float = Field(
        default=6 * 3600.0, gt=0, description="Longest wait between a failing subscriber's attempts."
    )
    email_max_failed_attempts: int = Field(
        default=8, ge=1, description="Consecutive failed attempts before a subscriber is paused with the reason."
    )
    mail_from: str = Field(default="paperbell <paperbell@localhost>", description="From: of every mail.")
    send_empty_digests: bool = Field(default=False, description="Send a digest even when nothing matched.")
    near_misses: bool = Field(
        default=True,
        description="The match cycle keeps, for each query that matched fewer than 3 papers in 30 days, up to three "
        "recent papers that satisfied all its clauses but one (shown with the clause they failed).",
    )
    quiet_day_email: bool = Field(
        default=True,
        description="On a day without an arXiv announcement, a daily subscriber with nothing pending gets a short "
        "note saying so (once per quiet day) instead of silence.",
    )
    digest_max_html_bytes: int = Field(default=100_000, ge=10_000, description="HTML size cap (Gmail clips).")
    default_timezone: str = Field(default="UTC", description="IANA time zone for new subscribers.")
    default_digest_hour: int = Field(default=8, ge=0, le=23, description="Local hour digests go out.")
    default_digest_frequency: DigestFrequency = Field(default=DigestFrequency.DAILY, description="daily|weekly.")
    default_digest_weekday: int = Field(default=0, ge=0, le=6, description="Weekday for weekly (0=Monday).")
    confirm_token_max_age_hours: int = Field(default=72, ge=1, description="Lifetime of confirmation links.")

    # --- deliverability: DKIM, list headers, bounces, complaints -----------------
    dkim_selector: str | None = Field(
        default=None,
        description="DKIM selector (`s=`; DNS name SELECTOR._domainkey.DOMAIN); unset = mail is not signed.",
    )
    dkim_domain: str | None = Field(
        default=None,
        description="DKIM signing domain (`d=`); default: the domain of PAPERBELL_MAIL_FROM (DMARC-aligned).",
    )
    dkim_private_key_path: Path | None = Field(
        default=None, validate_default=True,
        description="PEM RSA private key (PKCS#1 or PKCS#8, unencrypted, >= 1024 bits; 2048 recommended) "
        "that signs mail.",
    )
    list_id: str | None = Field(
        default=None,
        description="List-Id of digests (a dot-atom, e.g. digest.example.org); default: paperbell.SENDER-DOMAIN.",
    )
    bounce_domain: str | None = Field(
        default=None,
        description="Domain routed to the inbound role: envelope sender bounces+<signed id>@DOMAIN (VERP) "
        "and mailto: unsubscribe@DOMAIN; set = inbound reports must carry a signed id.",
    )
    inbound_host: str = Field(default="127.0.0.1", description="Bind address of the inbound mail role (SMTP/LMTP).")
    inbound_port: int = Field(default=2525, ge=0, le=65535, description="Port of the inbound mail role.")
    inbound_protocol: InboundProtocol = Field(
        default=InboundProtocol.SMTP, description="smtp | lmtp: what the MTA speaks when it forwards bounces."
    )
    inbound_max_bytes: int = Field(
        default=5_000_000, ge=10_000, description="Largest inbound message accepted (bounces quote the digest)."
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        description="Shared secret of POST /webhooks/bounce (HTTP Basic password or X-Paperbell-Webhook-Secret "
        "header); unset = the webhook refuses every request.",
    )
    webhook_sns_verify: bool = Field(
        default=True, description="Verify the certificate signature of SNS (SES) notifications; refuse replays.",
    )
    webhook_sns_cert_url_pattern: str = Field(
        default=r"https://sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[^?#]+\.pem",
        description="Regular expression an SNS SigningCertURL must match (AWS: only certificates from SNS).",
    )
    webhook_mailgun_signing_key: SecretStr | None = Field(
        default=None, description="Mailgun webhook signing key: Mailgun events must carry a valid HMAC signature, "
        "a timestamp within 5 minutes and an unused token.",
    )

    # --- discord ---------------------------------------------------------------------------
    discord_token: SecretStr | None = Field(default=None, description="Bot token; unset = no bot.")
    discord_dev_guild_id: int | None = Field(
        default=None, description="Guild to register slash commands in at start-up (development)."
    )
    discord_api_base: str = Field(
        default="https://discord.com/api/v10", description="Discord REST base (tests point it at a double)."
    )
    discord_admin_role: str | None = Field(default=None, description="Role name that may run /admin commands.")
    discord_max_subscriptions_per_member: int = Field(default=20, ge=1, description="Per-member limit.")
    discord_queries_per_minute: int = Field(default=10, ge=1, description="Per-member /search and /subscribe rate.")
    # --- discord: Discord's rules --------------------------------------------------
    discord_global_rate: float = Field(
        default=40.0, gt=0, le=50, description="Requests/s the poster sends at most (Discord's global limit: 50)."
    )
    discord_max_ratelimit_wait: float = Field(
        default=30.0, gt=0, description="Longest rate-limit wait (s) before a send gives up and releases its claim."
    )
    discord_invalid_request_budget: int = Field(
        default=1000, ge=1, description="401/403/429 answers per 10 min after which sending pauses (ban: 10,000)."
    )
    discord_search_candidates: int = Field(
        default=2000, ge=10, description="Newest stored matches /search ranks at most (bounds its cost)."
    )
    discord_bot_threads: int = Field(default=4, ge=2, description="Worker threads for the bot's database/CPU work.")
    discord_shards: str | None = Field(default=None, pattern=r"^\d{1,4}(,\d{1,4})*/\d{1,4}$", description=(
        "Shards this process runs, 'IDS/COUNT' (e.g. '0,1/4'; several processes split them); unset: all, "
        "as many as Discord recommends."))

    # --- web -------------------------------------------------------------------------------
    web_host: str = Field(default="127.0.0.1", description="Bind address of the web app.")
    web_port: int = Field(default=8080, ge=0, le=65535, description="Port of the web app.")
    web_max_body_bytes: int = Field(
        default=16_384, ge=1024, description="Largest request body (counted while it streams, chunked too) on every "
        "route but the bounce webhook (256 KB); larger is answered 413.",
    )
    web_header_timeout_seconds: float = Field(
        default=10.0, gt=0, description="A connection that has not sent a complete request (line and headers) "
        "this long after opening or after its last response is closed (slowloris).",
    )
    web_keep_alive_seconds: float = Field(default=5.0, ge=1, description="Idle keep-alive connections close after "
                                          "this long.")
    web_max_connections: int = Field(
        default=500, ge=1, description="Open connections the web server keeps; more are closed at once (and "
        "requests beyond it answered 503), well below the process's file-descriptor limit.",
    )
    public_url: str = Field(default="http://localhost:8080", description="Base URL of links in mail.")
    secret_key: SecretStr | None = Field(
        default=None,
        description="Key (>= 32 bytes) that signs links; default: generated once into the data directory.",
    )

    # --- web front (day page, search, subscribe, feeds, API) ----------------------
    web_search_candidates: int = Field(
        default=5000, ge=1, le=100_000, description="Newest stored papers a web search looks through (bounds its work)."
    )
    web_page_size: int = Field(default=20, ge=1, le=200, description="Results per page on /search and the JSON API.")
    web_subscribe_per_ip_per_hour: int = Field(
        default=5, ge=1, description="Subscribe form posts per client IP per hour."
    )
    web_subscribe_per_address_per_day: int = Field(
        default=3, ge=1, description="Confirmation mails the subscribe form sends one address per day."
    )
    confirmation_mails_per_hour: int = Field(
        default=200, ge=0, description="Confirmation mails sent per hour across all processes (0 = no cap); "
        "over it they wait for the worker's next passes and a warning is logged.",
    )
    web_previews_per_ip_per_minute: int = Field(
        default=30, ge=1, description="Live query previews per client IP per minute."
    )
    web_send_now_interval_minutes: int = Field(
        default=10, ge=1, description="Minimum minutes between two 'send my next digest now' of one subscriber."
    )
    web_external_images: bool = Field(
        default=False, description="Show Hugging Face thumbnails on the day, week and month pages, loaded by the "
        "reader's browser from Hugging Face's image host (off: no images, no request leaves for another site).",
    )
    web_votes_per_ip_per_hour: int = Field(
        default=60, ge=1, description="A web visitor's ▲ votes per client IP per hour.",
    )

    # --- sources ---------------------------------------------------------------------------
    sources: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_SOURCES),
        description="Comma-separated source specs (arxiv:CATS, hf:daily, biorxiv:SUBJECT, pubmed:QUERY, … file:PATH).",
    )
    arxiv_api_url: str = Field(default="https://export.arxiv.org/api/query", description="arXiv API endpoint.")
    arxiv_rss_url: str = Field(default="https://rss.arxiv.org/atom", description="arXiv announcement feed base.")
    hf_api_url: str = Field(default="https://huggingface.co/api", description="Hugging Face API base.")
    hf_papers_url: str = Field(default="https://huggingface.co/papers", description="HF paper page base.")
    contact_email: str = Field(default="admin@localhost", description="Contact in the User-Agent header.")
    http_timeout: float = Field(default=30.0, gt=0, description="Seconds per HTTP request.")
    http_max_bytes: int = Field(default=50_000_000, ge=1024, description="Largest response accepted.")
    http_max_retries: int = Field(default=4, ge=0, description="Retries on 429/5xx/timeouts.")
    http_backoff_base: float = Field(
        default=1.0, ge=0, description="First retry delay in seconds; doubles per retry, plus random jitter."
    )
    http_retry_after_max: float = Field(
        default=300.0, ge=0, description="Longest Retry-After honoured; a longer one fails the run instead."
    )
    arxiv_min_interval: float = Field(default=3.0, ge=0, description="Seconds between requests to arXiv.")
    keep_cross_lists: bool = Field(default=True, description="Keep arXiv cross-listed papers.")
    source_interval_minutes: int = Field(default=60, ge=1, description="Poll interval of non-arXiv sources.")

    # --- matching --------------------------------------------------------------------------
    query_max_length: int = Field(default=500, ge=10, description="Longest query accepted.")
    query_max_clauses: int = Field(default=32, ge=1, description="Most terms/phrases in one query.")
    match_interval_minutes: int = Field(default=10, ge=1, description="How often new papers are matched.")

    # --- summaries -------------------------------------------------------------------------
    summarizer: str = Field(default="extractive", description="extractive | llm (falls back to extractive).")
    llm_base_url: str | None = Field(default=None, description="OpenAI-compatible base URL (…/v1).")
    llm_model: str = Field(default="gpt-4o-mini", description="Model name sent to the LLM endpoint.")
    llm_api_key: SecretStr | None = Field(default=None, description="Bearer token for the LLM endpoint.")
    llm_timeout: float = Field(default=30.0, gt=0, description="Seconds per LLM request.")
    llm_max_concurrency: int = Field(default=4, ge=1, description="Parallel LLM requests.")

    # --- feedback (learning from 👍/👎) -------------------------------------------
    feedback_representation: Literal["tfidf", "wordllama"] = Field(
        default="tfidf", description='Paper vectors for learned ranking: tfidf, or wordllama (needs "[embeddings]").'
    )

    # --- operations ------------------------------------------------------------------------
    log_level: str = Field(default="INFO", description="Logging level.")
    log_json: bool = Field(default=False, description="One JSON object per log line.")
    ops_token: SecretStr | None = Field(
        default=None, description="Bearer token for the operator endpoint /ops/status (details /healthz does not "
        "show); unset = the endpoint is off.",
    )

    # --- runtime (`paperbell run`) ---------------------------------------------------------
    leader_retry_seconds: float = Field(
        default=15.0, gt=0, description="Seconds between leader-lock attempts and leader heartbeats."
    )
    sender_poll_seconds: float = Field(default=10.0, gt=0, description="Idle senders look for work this often.")
    presence_grace_seconds: float = Field(
        default=30.0, gt=0, description="A sender's presence lock must stay free this long before its claims are "
        "taken back (a database restart frees every lock; live senders take theirs again well within it).",
    )
    database_outage_seconds: float = Field(
        default=60.0, gt=0, description="How long the write recording a sent message is retried while the database "
        "is unreachable (restart); a sent message is never released to another sender.",
    )
    shutdown_timeout_seconds: float = Field(
        default=20.0, gt=0, description="On SIGTERM, in-flight sends get this long before they are released."
    )

    # --- first hour and every morning: backfill, arrival calendar, admin health report --------
    subscription_backfill_days: int = Field(
        default=7, ge=0, le=BACKFILL_MAX_DAYS,
        description="A new subscription's first digest includes its matches first seen in this many days (0 = none).",
    )
    admin_emails: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated addresses that get the health report after every cycle.",
    )
    admin_discord_channel: str | None = Field(
        default=None, description="Discord channel id that gets the health report after every cycle.",
    )

    @field_validator("admin_emails", mode="before")
    @classmethod
    def _split_admins(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("sources", mode="before")
    @classmethod
    def _split_sources(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("dkim_selector", "dkim_domain", "bounce_domain", "list_id")
    @classmethod
    def _dns_name(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not _DNS_NAME.fullmatch(value) or len(value) > 253:
            raise ValueError(f"{value!r} is not a DNS name (letters, digits, '-' and '.')")
        return value.lower()

    @field_validator("dkim_private_key_path")
    @classmethod
    def _dkim_key(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        # Checked at start-up so a bad key stops `paperbell run`, not the first digest hours later.
        selector = info.data.get("dkim_selector")
        if value is None:
            if selector:
                raise ValueError("PAPERBELL_DKIM_SELECTOR is set but no private key path is")
            return None
        if not selector:
            raise ValueError("a DKIM key needs PAPERBELL_DKIM_SELECTOR as well")
        from digest.core.dkim_key import read_private_key

        read_private_key(value)  # raises ValueError saying what is wrong with the file
        return value

    @field_validator("default_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @field_validator("secret_key")
    @classmethod
    def _strong_key(cls, value: SecretStr | None) -> SecretStr | None:
        # A short key makes link tokens forgeable (an empty one forged an unsubscribe): refuse to start.
        if value is not None and len(value.get_secret_value().encode()) < MIN_KEY_BYTES:
            raise ValueError(f"must be at least {MIN_KEY_BYTES} bytes (e.g. `python -c 'import secrets; "
                             "print(secrets.token_urlsafe(48))'`), or unset to generate one")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("expected DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return value.upper()

    # --- derived values --------------------------------------------------------------------
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'paperbell.db'}"

    def resolved_outbox_dir(self) -> Path:
        return self.outbox_dir or self.data_dir / "outbox"

    def ensure_dirs(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.resolved_outbox_dir().mkdir(parents=True, exist_ok=True)

    def signing_key(self) -> str:
        """The key that signs links in mail: the setting, else one generated once and kept on disk."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        self.ensure_dirs()
        key_file = self.data_dir / "secret_key"
        if not key_file.exists():
            key_file.write_text(secrets.token_urlsafe(48))
            key_file.chmod(0o600)
        key = key_file.read_text().strip()
        if len(key.encode()) < MIN_KEY_BYTES:
            raise SettingsError(
                f"PAPERBELL_SECRET_KEY: the key file {key_file} holds {len(key.encode())} bytes, at least "
                f"{MIN_KEY_BYTES} are needed (delete it to generate a new one, or set PAPERBELL_SECRET_KEY)"
            )
        return key

    def redacted(self) -> dict[str, Any]:
        """The effective settings as env-var → value, secrets shown as '********'."""
        shown: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "********"
            elif isinstance(value, str) and "://" in value:  # any URL may carry a password or a token
                value = _redact_url_password(value)
            elif isinstance(value, Path):
                value = str(value)
            elif isinstance(value, StrEnum):
                value = value.value
            shown[f"PAPERBELL_{name.upper()}"] = value
        shown["(database)"] = _redact_url_password(self.resolved_database_url())
        shown["(outbox)"] = str(self.resolved_outbox_dir())
        return shown


def _redact_url_password(url: str) -> str:
    """The URL with its password (and secret-looking query values) replaced, even when it does not parse.

    Plain string work on purpose: `config show` must not load a URL parser that could show part of a
    password as the host (an unescaped `@`), and must start without the database libraries.
    """
    return _SECRET_QUERY.sub(r"\1********", _redact_userinfo(url))


_SECRET_QUERY = re.compile(r"(?i)([?&;](?:password|passwd|pwd|pass|token|secret|api[_-]?key|key|access_token)=)[^&;#]*")


def _redact_userinfo(url: str) -> str:
    """Everything between `://` and the last `@` past the user name is hidden (over-hiding is safe)."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    userinfo, _, host = rest.rpartition("@")
    user, colon, _ = userinfo.partition(":")
    return f"{scheme}://{user}:********@{host}" if colon else f"{scheme}://********@{host}"


_warned: set[str] = set()


def warn_unknown_variables(environ: Mapping[str, str], settings_class: type[Settings] | None = None) -> list[str]:
    """Warn once per process about each PAPERBELL_* variable that names no setting, with the closest name.

    `settings_class`: the class the process reads (with its channels' fields); default `Settings`.
    """
    known = {f"PAPERBELL_{name.upper()}" for name in (settings_class or Settings).model_fields}
    lines = []
    for name, suggestion in unknown_variables(environ, known):
        if name in _warned:
            continue
        _warned.add(name)
        hint = f"; did you mean {suggestion}?" if suggestion else "; see `paperbell config docs` for every setting"
        lines.append(f"unknown setting {name} is ignored{hint}")
        logging.getLogger("digest.settings").warning("%s", lines[-1])
    return lines


def load_settings(settings_class: type[Settings] | None = None, **overrides: Any) -> Settings:
    """Build the settings once; turn pydantic's error into one naming each bad environment variable.

    `settings_class`: `Settings` with the registered channels' fields (digest.runtime.channels composes
    it); the default `Settings` knows no chat channel's settings.
    """
    cls = settings_class or Settings
    warn_unknown_variables(os.environ, cls)
    try:
        return cls(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            problems.append(f"PAPERBELL_{field.upper()}: {error['msg']}")
        raise SettingsError("invalid settings: " + "; ".join(problems)) from None
