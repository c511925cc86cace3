"""One typed Settings object for the whole service (env prefix KBSVC_, .env supported)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class EmbeddingSettings(BaseModel):
    """Which embedding backend feeds the dense channel."""

    # "auto" picks the best measured configuration (see README, Retrieval).
    backend: Literal["auto", "lsa", "sbert", "none"] = "auto"
    # Local directory of a sentence-transformers model; empty = the bundled all-MiniLM-L6-v2.
    model_path: str = ""
    query_prompt: str = ""
    passage_prompt: str = ""
    batch_size: int = Field(default=32, ge=1, le=1024)
    lsa_dim: int = Field(default=256, ge=8, le=1024)


class SearchSettings(BaseModel):
    """Fusion weights and result caps."""

    lexical_weight: float = Field(default=1.0, ge=0)
    dense_weight: float = Field(default=0.5, ge=0)
    max_k: int = Field(default=50, ge=1, le=500)
    max_query_chars: int = Field(default=2000, ge=16)
    ann_threshold: int = Field(default=200_000, ge=1000)


class LimitSettings(BaseModel):
    """Input size limits enforced at the edge."""

    max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    max_text_chars: int = Field(default=20_000, ge=100)
    max_import_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)
    max_import_rows: int = Field(default=200_000, ge=1)
    max_bulk_tickets: int = Field(default=1000, ge=1)
    max_page_size: int = Field(default=200, ge=1)
    max_concurrent_exports: int = Field(default=2, ge=1)


class RateLimitSettings(BaseModel):
    """Token buckets per caller (API key, session or client IP) on the costly read paths."""

    per_minute: int = Field(default=120, ge=1)
    burst: int = Field(default=30, ge=1)
    # Path prefixes the bucket applies to; login has its own, stricter bucket.
    paths: list[str] = ["/api/v1/suggest", "/api/v1/search"]
    login_per_minute: int = Field(default=10, ge=1)


class AuthSettings(BaseModel):
    """Web UI sessions."""

    # Empty: a random secret is generated once and kept in DATA_DIR/secret_key (mode 0600).
    secret_key: str = ""
    session_hours: float = Field(default=12, gt=0, le=24 * 30)
    # Intranet deployments often run plain http; set true behind TLS.
    cookie_secure: bool = False


_WEAK_SECRETS = {"changeme" * 4, "secret" * 6, "x" * 32}


class Settings(BaseSettings):
    """Service configuration; invalid values stop start-up with a clear message."""

    model_config = SettingsConfigDict(
        env_prefix="KBSVC_", env_file=".env", env_nested_delimiter="__", extra="ignore"
    )

    data_dir: Path = Path("./var")
    database_url: str = ""
    embedding: EmbeddingSettings = EmbeddingSettings()
    search: SearchSettings = SearchSettings()
    limits: LimitSettings = LimitSettings()
    rate_limit: RateLimitSettings = RateLimitSettings()
    auth: AuthSettings = AuthSettings()
    # Reads without a key are allowed only when a site opts in (intranet kiosks); writes never.
    open_reads: bool = False
    cors_origins: list[str] = []
    trusted_hosts: list[str] = ["*"]
    public_base_url: str = "http://127.0.0.1:8000"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "json"
    # Prometheus scrapes /metrics without a key; aggregate figures only, no ticket text.
    metrics_enabled: bool = True

    @field_validator("database_url")
    @classmethod
    def _check_db_url(cls, v: str) -> str:
        if v and not v.startswith(("sqlite", "postgresql")):
            raise ValueError("database_url must be a sqlite:/// or postgresql+psycopg:// URL")
        return v

    @field_validator("auth")
    @classmethod
    def _check_secret(cls, v: AuthSettings) -> AuthSettings:
        if v.secret_key and (len(v.secret_key) < 32 or v.secret_key in _WEAK_SECRETS):
            raise ValueError("auth.secret_key must be at least 32 random characters "
                             "(or empty, to generate one in the data directory)")
        return v

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, v: list[str]) -> list[str]:
        for origin in v:
            if origin == "*" or not origin.startswith(("http://", "https://")):
                raise ValueError(f"CORS origin must be an explicit http(s) origin, got {origin!r}")
        return v

    @model_validator(mode="after")
    def _resolve_paths(self) -> Settings:
        self.data_dir = self.data_dir.expanduser().resolve()
        return self

    @property
    def db_url(self) -> str:
        """Database URL, defaulting to a SQLite file inside the data directory."""
        return self.database_url or f"sqlite:///{self.data_dir / 'kbsvc.db'}"

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"


@lru_cache
def get_settings() -> Settings:
    """Process-wide settings (tests build their own Settings instead)."""
    return Settings()
