"""Every setting Rapport reads, with its environment variable, default and meaning.

This is the only module that reads the environment. `SETTINGS` is the one table of
them: `load_settings` reads it, `rapport settings` prints it with the values in force
(`in_force`), and a test checks the README's settings table against it.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formataddr, parseaddr
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

from scoring.config import ConfigError, ScoringConfig, load_config
from surveys.infra.errors import RapportError


class SettingsError(RapportError, ValueError):
    """A setting has a value Rapport cannot use; the message names the variable."""


@dataclass(frozen=True)
class Setting:
    """One documented setting."""

    env: str
    default: str
    meaning: str
    shown: Callable[[Settings], str]
    """The value in force as `rapport settings` prints it (secrets never in clear)."""


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DATABASE_URL",
        "sqlite:///var/rapport.sqlite",
        "Database: `sqlite:///relative/or/absolute/path.sqlite` (embedded default, WAL mode) "
        "or `postgresql://user@host:port/dbname` (production).",
        lambda s: s.database.display,
    ),
    Setting("RAPPORT_HOST", "127.0.0.1", "Interface the web server listens on.", lambda s: s.host),
    Setting("RAPPORT_PORT", "8000", "Port the web server listens on.", lambda s: str(s.port)),
    Setting(
        "RAPPORT_WORKERS",
        "1",
        "Web server processes; one per core serves more respondents at once.",
        lambda s: str(s.workers),
    ),
    Setting(
        "RAPPORT_TRUSTED_PROXIES",
        "127.0.0.1",
        "Addresses of the reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are "
        "believed (comma-separated); from anyone else they are ignored, so a client cannot "
        "pose as another address to dodge the rate limits.",
        lambda s: s.trusted_proxies,
    ),
    Setting(
        "RAPPORT_PUBLIC_URL",
        "http://{host}:{port}",
        "Base URL used in every link Rapport sends (survey links, e-mails); never taken "
        "from a request's Host header.",
        lambda s: s.public_url,
    ),
    Setting(
        "RAPPORT_SECRET_KEY",
        "(generated once into var/secret_key)",
        "Secret for signing sessions and CSRF tokens; set it explicitly in production.",
        lambda s: "(set)" if os.environ.get("RAPPORT_SECRET_KEY") else "(generated)",
    ),
    Setting(
        "RAPPORT_VAR_DIR",
        "var",
        "Folder for the SQLite file, the secret key and outboxes.",
        lambda s: str(s.var_dir),
    ),
    Setting(
        "RAPPORT_DB_TIMEOUT",
        "30",
        "Seconds a query waits for a locked SQLite database, or for a PostgreSQL connection.",
        lambda s: str(s.db_timeout),
    ),
    Setting(
        "RAPPORT_DB_POOL_SIZE",
        "10",
        "Largest PostgreSQL connection pool the app opens.",
        lambda s: str(s.db_pool_size),
    ),
    Setting(
        "RAPPORT_MAIL_FROM",
        "Rapport surveys <surveys@rapport.invalid>",
        "Sender of invitation and reminder e-mails.",
        lambda s: s.mail_from,
    ),
    Setting(
        "RAPPORT_SMTP_URL",
        "",
        "Mail server: `smtp://user:password@host:587` (STARTTLS required), "
        "`smtps://user:password@host:465`, or `smtp+plain://localhost:25` for a relay on this "
        "machine. Empty: e-mails are written to var/outbox/ instead.",
        lambda s: s.smtp.display if s.smtp else "(outbox folder)",
    ),
    Setting(
        "RAPPORT_LINK_RATE",
        "60",
        "Survey-link lookups that find nothing one address may make per minute; after that "
        "it gets a 'please wait' page (working links are never limited).",
        lambda s: str(s.link_rate),
    ),
    Setting(
        "RAPPORT_REMINDERS",
        "2",
        "Reminders a respondent gets at most per cycle.",
        lambda s: str(s.reminders),
    ),
    Setting(
        "RAPPORT_REMINDER_DAYS",
        "5",
        "Days at least between two e-mails to one respondent.",
        lambda s: str(s.reminder_days),
    ),
    Setting(
        "RAPPORT_SERVE_RUNS_PROGRAMME",
        "auto",
        "Whether `rapport serve` runs the programme's due work itself: `auto` does on SQLite "
        "(the embedded default needs no worker) and leaves it to `rapport worker` processes on "
        "PostgreSQL; `yes` or `no` decide.",
        lambda s: s.serve_runs_programme,
    ),
    Setting(
        "RAPPORT_WORKER_HEARTBEAT",
        "10",
        "Seconds between two heartbeats of a `rapport worker` (PostgreSQL); a worker silent "
        "for three of them is taken for dead and its jobs are queued again.",
        lambda s: str(s.worker_heartbeat),
    ),
    Setting(
        "RAPPORT_JOB_STALE",
        "120",
        "Seconds a running background job may go without a sign of life (it beats every "
        "second) before it counts as interrupted and may be started again.",
        lambda s: str(job_stale_after().seconds),
    ),
    Setting(
        "RAPPORT_KEEP_COMMENTS_CYCLES",
        "",
        "Comment texts are kept for the newest this many scored cycles; "
        "`rapport comments purge` blanks older ones (scores are kept). Empty: kept forever.",
        lambda s: str(s.keep_comments_cycles) if s.keep_comments_cycles else "(kept forever)",
    ),
    Setting(
        "RAPPORT_SCORING_CONFIG",
        "",
        "Scoring configuration TOML (thresholds, weights; see docs/scoring.example.toml) for "
        "scoring and for every statement of the anonymity rule (survey form, e-mails). "
        "Empty: the built-in defaults.",
        lambda s: str(s.scoring_config) if s.scoring_config else "(built-in defaults)",
    ),
)


def in_force(settings: Settings) -> tuple[tuple[Setting, str], ...]:
    """Every setting beside the value in force, in the order of `SETTINGS`."""
    return tuple((setting, setting.shown(settings)) for setting in SETTINGS)


def _env(name: str) -> str:
    default = next(s.default for s in SETTINGS if s.env == name)
    return os.environ.get(name, "").strip() or default


def _choice(name: str, allowed: tuple[str, ...]) -> str:
    value = _env(name).lower()
    if value not in allowed:
        raise SettingsError(f"{name}={value!r} must be one of {', '.join(allowed)}")
    return value


def _positive_int(name: str) -> int:
    raw = _env(name)
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number") from None
    if value <= 0:
        raise SettingsError(f"{name}={raw!r} must be greater than 0")
    return value


def _optional_positive_int(name: str) -> int | None:
    return _positive_int(name) if _env(name) else None


@dataclass(frozen=True)
class DatabaseURL:
    """A parsed DATABASE_URL: which engine, and where."""

    url: str
    kind: str
    """`sqlite` or `postgres`."""
    sqlite_path: Path | None = None
    """The database file, for SQLite."""
    postgres: dict[str, str | int] = field(default_factory=dict)
    """Connection keywords for asyncpg, for PostgreSQL."""

    @property
    def display(self) -> str:
        """The URL with any password masked, for logs and error messages."""
        parts = urlsplit(self.url)
        if parts.password:
            return self.url.replace(f":{parts.password}@", ":***@", 1)
        return self.url


def parse_database_url(url: str) -> DatabaseURL:
    """Return the parsed form of a DATABASE_URL, or raise SettingsError saying what is wrong.

    Relative SQLite paths resolve against the current directory, as every tool does.
    """
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        raw_path = url[len("sqlite://") :]
        if raw_path.startswith("//") or raw_path.startswith("/"):  # sqlite:////abs/path
            path = Path(raw_path[1:])
        else:
            raise SettingsError(
                f"DATABASE_URL={url!r}: write sqlite:///relative/path.sqlite "
                "or sqlite:////absolute/path.sqlite"
            )
        if not path.name or path.name == ":memory:":
            raise SettingsError(
                f"DATABASE_URL={url!r}: give a file name (an in-memory SQLite database "
                "cannot be shared between connections)"
            )
        if not path.is_absolute():
            path = Path.cwd() / path
        return DatabaseURL(url=url, kind="sqlite", sqlite_path=path)
    if parts.scheme in {"postgresql", "postgres"}:
        if not parts.hostname or not parts.path.strip("/"):
            raise SettingsError(f"DATABASE_URL={url!r}: write postgresql://user@host:port/dbname")
        try:
            port = parts.port or 5432
        except ValueError:
            raise SettingsError(f"DATABASE_URL={url!r}: the port is not a number") from None
        config: dict[str, str | int] = {
            "host": parts.hostname,
            "port": port,
            "database": parts.path.strip("/"),
            "user": parts.username or "postgres",
        }
        if parts.password:
            config["password"] = parts.password
        return DatabaseURL(url=url, kind="postgres", postgres=config)
    raise SettingsError(
        f"DATABASE_URL={url!r}: unknown scheme {parts.scheme or '(none)'!r}; "
        "use sqlite:///path.sqlite or postgresql://user@host:port/dbname"
    )


@dataclass(frozen=True)
class Settings:
    """The settings in force, read once from the environment."""

    database: DatabaseURL
    host: str
    port: int
    public_url: str
    var_dir: Path
    db_timeout: int
    db_pool_size: int
    mail_from: str
    smtp: SMTPServer | None
    """None: e-mails go to the outbox folder."""
    reminders: int
    reminder_days: int
    link_rate: int
    """Survey-link requests per minute from one address."""
    workers: int
    keep_comments_cycles: int | None = None
    """Scored cycles whose comment texts are kept; None keeps them all."""
    public_url_is_default: bool = False
    """RAPPORT_PUBLIC_URL is unset: links in e-mails point at this machine's host and port,
    which commands that send mail say (a server elsewhere needs the address set)."""
    scoring_config: Path | None = None
    """The scoring configuration file; None: the built-in defaults."""
    serve_runs_programme: str = "auto"
    """auto, yes or no (RAPPORT_SERVE_RUNS_PROGRAMME)."""
    trusted_proxies: str = "127.0.0.1"
    """RAPPORT_TRUSTED_PROXIES, as uvicorn's forwarded_allow_ips takes it."""
    worker_heartbeat: int = 10
    """Seconds between a worker's heartbeats (RAPPORT_WORKER_HEARTBEAT)."""

    def serves_programme(self) -> bool:
        """Whether the web server runs the programme's ticks in its own processes."""
        if self.serve_runs_programme == "auto":
            return self.database.kind == "sqlite"
        return self.serve_runs_programme == "yes"

    @property
    def outbox(self) -> Path:
        """Where e-mails are written as .eml files (the default delivery: nothing leaves)."""
        return self.var_dir / "outbox"

    @property
    def secret_key(self) -> str:
        """RAPPORT_SECRET_KEY, else a key generated once and kept in var/secret_key."""
        explicit = os.environ.get("RAPPORT_SECRET_KEY", "").strip()
        if explicit:
            return explicit
        key_file = self.var_dir / "secret_key"
        if not key_file.exists():
            # several server processes may start at once: the first link wins, and every
            # process reads that one key (two keys would refuse each other's CSRF tokens)
            self.var_dir.mkdir(parents=True, exist_ok=True)
            candidate = self.var_dir / f".secret_key.{os.getpid()}"
            handle = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(handle, "w") as key:
                key.write(secrets.token_urlsafe(48))
            try:
                os.link(candidate, key_file)
            except FileExistsError:
                pass
            finally:
                candidate.unlink()
        return key_file.read_text().strip()


def _scoring_config_path() -> Path | None:
    raw = _env("RAPPORT_SCORING_CONFIG")
    return Path(raw) if raw else None


def programme_scoring_config() -> ScoringConfig:
    """Return the programme's scoring configuration: RAPPORT_SCORING_CONFIG's file, else the
    defaults, or raise SettingsError naming the variable, the file and the key it gets wrong.

    The one source of the thresholds: scoring (console and `rapport score` without
    --config) applies them, and the form and the e-mails state them, so a promise made to a
    respondent is the rule their answers are scored under. The file is read again only
    when it changes.
    """
    path = _scoring_config_path()
    if path is None:
        return ScoringConfig()
    try:
        stat = path.stat()
    except OSError as error:
        raise SettingsError(
            f"RAPPORT_SCORING_CONFIG={str(path)!r}: {error.strerror or error}"
        ) from None
    return _scoring_config_file(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)
def _scoring_config_file(path: Path, modified: int, size: int) -> ScoringConfig:
    """The configuration in `path` as it was at `modified` and `size` (the cache's key)."""
    try:
        return load_config(path)
    except ConfigError as error:  # its message names the file and the key
        raise SettingsError(f"RAPPORT_SCORING_CONFIG: {error}") from None


def job_stale_after() -> dt.timedelta:
    """RAPPORT_JOB_STALE as a duration: read on its own, since every job's start asks."""
    return dt.timedelta(seconds=_positive_int("RAPPORT_JOB_STALE"))


def load_settings() -> Settings:
    """Return the settings from the environment, or raise SettingsError naming the variable.

    A scoring configuration that cannot be used is refused here, at start-up, rather than
    when the first respondent opens a form.
    """
    programme_scoring_config()
    var_dir = Path(_env("RAPPORT_VAR_DIR"))
    if not var_dir.is_absolute():
        var_dir = Path.cwd() / var_dir
    host = _env("RAPPORT_HOST")
    port = _positive_int("RAPPORT_PORT")
    if port > 65535:
        raise SettingsError(f"RAPPORT_PORT={port} is not a valid port (1–65535)")
    public_url = _env("RAPPORT_PUBLIC_URL").format(host=host, port=port).rstrip("/")
    if urlsplit(public_url).scheme not in {"http", "https"}:
        raise SettingsError(
            f"RAPPORT_PUBLIC_URL={public_url!r} must start with http:// or https://"
        )
    return Settings(
        database=parse_database_url(_env("DATABASE_URL")),
        host=host,
        port=port,
        public_url=public_url,
        var_dir=var_dir,
        db_timeout=_positive_int("RAPPORT_DB_TIMEOUT"),
        db_pool_size=_positive_int("RAPPORT_DB_POOL_SIZE"),
        mail_from=_mail_from(_env("RAPPORT_MAIL_FROM")),
        smtp=parse_smtp_url(_env("RAPPORT_SMTP_URL")),
        reminders=_positive_int("RAPPORT_REMINDERS"),
        reminder_days=_positive_int("RAPPORT_REMINDER_DAYS"),
        link_rate=_positive_int("RAPPORT_LINK_RATE"),
        workers=_positive_int("RAPPORT_WORKERS"),
        keep_comments_cycles=_optional_positive_int("RAPPORT_KEEP_COMMENTS_CYCLES"),
        public_url_is_default=not os.environ.get("RAPPORT_PUBLIC_URL", "").strip(),
        scoring_config=_scoring_config_path(),
        serve_runs_programme=_choice("RAPPORT_SERVE_RUNS_PROGRAMME", ("auto", "yes", "no")),
        worker_heartbeat=_positive_int("RAPPORT_WORKER_HEARTBEAT"),
        trusted_proxies=",".join(
            part.strip() for part in _env("RAPPORT_TRUSTED_PROXIES").split(",") if part.strip()
        ),
    )


@dataclass(frozen=True)
class SMTPServer:
    """Where e-mails are handed over, and how."""

    host: str
    port: int
    username: str | None
    password: str | None = field(repr=False)
    implicit_tls: bool
    """smtps:// (TLS from the first byte)."""
    start_tls: bool = True
    """smtp:// must upgrade with STARTTLS (a server that does not offer it is refused, so
    no one on the way can strip the encryption); smtp+plain:// is for a relay on this
    machine or a test server, and sends in clear."""

    @property
    def display(self) -> str:
        """The server as it may be printed: never the password."""
        user = f"{self.username}:***@" if self.username else ""
        scheme = "smtps" if self.implicit_tls else ("smtp" if self.start_tls else "smtp+plain")
        return f"{scheme}://{user}{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SMTPServer | None:
    """Return the mail server of RAPPORT_SMTP_URL, None when it is empty, or raise SettingsError."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtps", "smtp+plain"} or not parts.hostname:
        raise SettingsError(
            "RAPPORT_SMTP_URL must look like smtp://user:password@host:587, smtps://host:465 "
            "or, for a relay on this machine, smtp+plain://localhost:25"
        )
    try:
        port = parts.port or (465 if parts.scheme == "smtps" else 587)
    except ValueError:
        raise SettingsError("RAPPORT_SMTP_URL has a port that is not a number") from None
    return SMTPServer(
        host=parts.hostname,
        port=port,
        username=unquote(parts.username or "") or None,
        password=unquote(parts.password or "") or None,
        implicit_tls=parts.scheme == "smtps",
        start_tls=parts.scheme == "smtp",
    )


def _mail_from(value: str) -> str:
    """Return a sender address, or raise SettingsError if it has no usable address in it."""
    name, address = parseaddr(value)
    if "@" not in address:
        raise SettingsError(f"RAPPORT_MAIL_FROM={value!r} needs an address, e.g. Surveys <a@b.org>")
    return formataddr((name, address))
