"""Configuration from environment variables only, read when the app is created."""

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INSTANCE = ROOT / "instance"


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the app refuses to start."""


def _int(env, name, default):
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None


def _ints(env, name, default):
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return [int(part) for part in raw.split(",")]
    except ValueError:
        raise ConfigError(f"{name} must be integers separated by commas, got {raw!r}") from None


def _bool(env, name, default):
    raw = env.get(name)
    if raw in (None, ""):
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _instance_secret(instance: Path) -> str:
    """Generate the embedded default's secret key once and keep it under instance/."""
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def load(env=None) -> dict:
    """Return the Flask config mapping built from ``env`` (default ``os.environ``)."""
    env = os.environ if env is None else env
    instance = Path(env.get("MINGCHA_INSTANCE") or INSTANCE)
    production = env.get("MINGCHA_ENV", "development") == "production"

    database_url = env.get("DATABASE_URL") or f"sqlite:///{instance / 'mingcha.db'}"
    if database_url.startswith("postgres://"):
        database_url = "postgresql://" + database_url[len("postgres://"):]
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]

    secret_key = env.get("SECRET_KEY")
    if not secret_key:
        if production:
            raise ConfigError("SECRET_KEY is required when MINGCHA_ENV=production")
        secret_key = _instance_secret(instance)

    if database_url.startswith("sqlite:///"):
        instance.mkdir(parents=True, exist_ok=True)

    return {
        "ENV_NAME": "production" if production else "development",
        "INSTANCE_DIR": str(instance),
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": env.get("REDIS_URL") or None,
        "MEDIA_ROOT": env.get("MEDIA_ROOT") or str(instance / "media"),
        "UPLOAD_DIR": env.get("UPLOAD_DIR") or str(instance / "uploads"),
        "TUS_MAX_SIZE": _int(env, "TUS_MAX_SIZE", 2 * 1024**3),
        "UPLOAD_EXPIRES_SECONDS": _int(env, "UPLOAD_EXPIRES_SECONDS", 7 * 86400),
        "UPLOADS_WITHOUT_RECORD": _int(env, "UPLOADS_WITHOUT_RECORD", 500),
        "UPLOAD_BYTES_WITHOUT_RECORD": _int(env, "UPLOAD_BYTES_WITHOUT_RECORD", 10 * 1024**3),
        "JOB_RETRY_INTERVALS": _ints(env, "JOB_RETRY_INTERVALS", [10, 60, 300]),
        "SWEEP_SECONDS": _int(env, "SWEEP_SECONDS", 60),
        "JOB_HEARTBEAT_SECONDS": _int(env, "JOB_HEARTBEAT_SECONDS", 30),
        "CORS_ORIGINS": env.get("CORS_ORIGINS") or "*",
        "MAX_CONTENT_LENGTH": _int(env, "MAX_BODY_BYTES", 5 * 1024 * 1024),
        "ARGON2_TIME_COST": _int(env, "ARGON2_TIME_COST", 3),
        "ARGON2_MEMORY_KIB": _int(env, "ARGON2_MEMORY_KIB", 64 * 1024),
        "LOGIN_MAX_FAILURES": _int(env, "LOGIN_MAX_FAILURES", 5),
        "LOGIN_LOCK_SECONDS": _int(env, "LOGIN_LOCK_SECONDS", 60),
        "SESSION_COOKIE_SECURE": _bool(env, "SESSION_COOKIE_SECURE", production),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": _bool(env, "SESSION_COOKIE_SECURE", production),
        "BABEL_DEFAULT_LOCALE": "zh_CN",
        "BABEL_DEFAULT_TIMEZONE": env.get("MINGCHA_TIMEZONE") or "Asia/Shanghai",
        # The issuing organ's abbreviation in bulletins' document numbers: X住建督〔2026〕11号.
        "BULLETIN_NUMBER_PREFIX": env.get("MINGCHA_BULLETIN_PREFIX") or "X住建督",
        # The issuing organ, in red at the head of every bulletin and under its text.
        "BULLETIN_ISSUER": env.get("MINGCHA_BULLETIN_ISSUER") or "X区住房和城乡建设局",
        # A licensed 仿宋_GB2312 font file for bulletins' body text (else a free substitute).
        "BULLETIN_FANGSONG_FONT": env.get("MINGCHA_FANGSONG_FONT") or None,
        "PROXY_COUNT": _int(env, "PROXY_COUNT", 0),
        # A tile server for the review console's maps and the registry's site form, such as
        # https://tiles.example.gov.cn/{z}/{x}/{y}.png (Web Mercator, WGS 84); unset: a
        # plain diagram of site and capture point, and no map to place a site with.
        "MAP_TILE_URL": env.get("MAP_TILE_URL") or None,
        "LOG_LEVEL": env.get("LOG_LEVEL") or "INFO",
        "JSON_AS_ASCII": False,
        "WTF_CSRF_TIME_LIMIT": None,
    }
