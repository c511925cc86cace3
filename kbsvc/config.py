"""One typed Settings object for the whole service (env prefix KBSVC_, .env supported)."""

from __future__ import annotations

import ipaddress
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class EmbeddingSettings(BaseModel):
    """Which embedding backend feeds the dense channel."""

    # "auto": what `kbsvc reindex` chose from this KB's linked tickets (LSA until then); one
    # backend, or several joined by "+" ("lsa+e5": fused by rank with the lexical channel).
    backend: str = Field(default="auto", pattern=r"^(auto|none|(lsa|sbert|e5)(\+(lsa|sbert|e5))*)$")
    # Local directory of a sentence-transformers model; empty = the bundled all-MiniLM-L6-v2.
    model_path: str = ""
    query_prompt: str = ""
    passage_prompt: str = ""
    batch_size: int = Field(default=32, ge=1, le=1024)
    lsa_dim: int = Field(default=256, ge=8, le=1024)
    # OpenMP threads of the bundled e5 model; one keeps the other core free for requests.
    e5_threads: int = Field(default=1, ge=1, le=64)


class SearchSettings(BaseModel):
    """Fusion weights and result caps."""

    lexical_weight: float = Field(default=1.0, ge=0)
    dense_weight: float = Field(default=0.5, ge=0)
    max_k: int = Field(default=50, ge=1, le=500)
    max_query_chars: int = Field(default=2000, ge=16)
    # Past this many vectors the dense channel uses HNSW: flat search over 100k × 256 costs
    # ~5 ms of the ~15 ms suggest budget (bench/bench_suggest.py).
    ann_threshold: int = Field(default=50_000, ge=1000)
    # "score": weighted mean of bound-normalised BM25 and cosine; "rrf": weighted reciprocal rank.
    fusion: Literal["score", "rrf"] = "score"
    # Index the text of tickets linked to an entry with it ("learning from use").
    learn_from_use: bool = True
    # Confidence band thresholds on the calibrated probability that a hit answers the query;
    # None = the operating point fitted to this KB at reindex time (see /readyz).
    confidence_high: float | None = Field(default=None, ge=0, le=1)
    confidence_medium: float | None = Field(default=None, ge=0, le=1)
    sync_interval_s: float = Field(default=0.3, gt=0, le=60)
    # The index writer publishes a new memory-mapped generation this long after the first
    # change it holds only in memory (sooner when the in-memory delta grows large).
    publish_interval_s: float = Field(default=30.0, gt=0, le=3600)
    # PostgreSQL with the data directory shared by several hosts: elect one index writer
    # across hosts with an advisory lock instead of a file lock.
    shared_index: bool = False


class LimitSettings(BaseModel):
    """Input size limits enforced at the edge."""

    max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    max_text_chars: int = Field(default=20_000, ge=100)
    max_import_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)
    max_import_rows: int = Field(default=200_000, ge=1)
    max_bulk_tickets: int = Field(default=1000, ge=1)
    max_page_size: int = Field(default=200, ge=1)
    # Slow clients: a request's headers must arrive within header_timeout_s of its first byte
    # (api/server.py), its body within body_timeout_s of the headers (api/middleware/limits.py).
    header_timeout_s: float = Field(default=10, gt=0, le=300)
    body_timeout_s: float = Field(default=60, gt=0, le=3600)
    # /readyz reports not ready below this much free space in the data directory: writes
    # (database pages, index generations, uploads) start failing well before zero.
    min_free_mb: int = Field(default=32, ge=0)


class KeyRate(BaseModel):
    """A token bucket's refill (requests a minute) and depth (requests at once)."""

    per_minute: int = Field(ge=1)
    # Empty: three seconds' worth, at least 10.
    burst: int | None = Field(default=None, ge=1)

    def depth(self) -> int:
        """The bucket's depth."""
        return self.burst or burst_for(self.per_minute)


def burst_for(per_minute: int) -> int:
    """The default depth of a bucket refilled at `per_minute`: three seconds' worth, ≥ 10."""
    return max(10, per_minute // 20)


KEY_ROLES = ("viewer", "editor", "reviewer", "admin", "widget")
KeyRole = Literal["viewer", "editor", "reviewer", "admin", "widget"]


def _key_rates() -> dict[KeyRole, KeyRate]:
    # An integration (HIS, ITSM) asks for every ticket typed: 100 requests a second per key.
    # A widget key is shared by every browser of a hospital: its bucket is per key and address.
    staff = KeyRate(per_minute=6000, burst=300)
    return {
        "viewer": staff,
        "editor": staff,
        "reviewer": staff,
        "admin": staff,
        "widget": KeyRate(per_minute=120, burst=30),
    }


class RateLimitSettings(BaseModel):
    """Token buckets on the costly read paths: per API key (its role's rate, or the key's own),
    widget keys per key and browser address, per login session, per anonymous address."""

    # Login sessions and callers without a key (per address).
    per_minute: int = Field(default=120, ge=1)
    burst: int = Field(default=30, ge=1)
    # API keys by role; a key created with its own rate_per_minute uses that instead.
    keys: dict[KeyRole, KeyRate] = Field(default_factory=_key_rates)
    # Path prefixes the bucket applies to; login has its own, stricter bucket.
    paths: list[str] = ["/api/v1/suggest", "/api/v1/search", "/api/v1/widget"]
    login_per_minute: int = Field(default=10, ge=1)

    @field_validator("keys")
    @classmethod
    def _every_role(cls, v: dict[KeyRole, KeyRate]) -> dict[KeyRole, KeyRate]:
        # Setting one role (KBSVC_RATE_LIMIT__KEYS='{"widget": {...}}') keeps the others'.
        return {**_key_rates(), **v}


class AuthSettings(BaseModel):
    """Web UI sessions."""

    # Empty: a random secret is generated once and kept in DATA_DIR/secret_key (mode 0600).
    secret_key: str = ""
    session_hours: float = Field(default=12, gt=0, le=24 * 30)
    # Intranet deployments often run plain http; set true behind TLS.
    cookie_secure: bool = False
    # Login backoff (kbsvc/auth/lockout.py): failures from one address lock the account there;
    # failures from everywhere lock it everywhere. The lock doubles from 30 s up to the max.
    lockout_after: int = Field(default=5, ge=1)
    account_lockout_after: int = Field(default=20, ge=1)
    lockout_max_s: int = Field(default=900, ge=30)
    # API keys are verified from memory; each worker looks for revocations and key edits made
    # elsewhere this often, so a revoked key stops working everywhere within this many seconds.
    key_check_s: float = Field(default=2.0, gt=0, le=60)


_WEAK_SECRETS = {"changeme" * 4, "secret" * 6, "x" * 32}


class AnalyticsSettings(BaseModel):
    """Search log retention and the thresholds the insight reports use."""

    search_log_days: int = Field(default=180, ge=1, le=3650)
    # A search whose best result is below this confidence counts as a knowledge gap.
    gap_confidence: float = Field(default=0.35, ge=0, le=1)
    # A resolved ticket whose best char-bigram cosine to any published entry is below this
    # is treated as not covered by the knowledge base.
    coverage_similarity: float = Field(default=0.3, ge=0, le=1)
    # Cosine at which two queries / tickets join the same gap topic.
    cluster_similarity: float = Field(default=0.3, ge=0, le=1)


class LifecycleSettings(BaseModel):
    """Review dates, duplicate detection and vocabulary matching."""

    review_days_default: int = Field(default=180, ge=1, le=3650)
    # Fast-changing areas (insurance rules, interfaces) deserve a shorter review cycle.
    review_days_by_category: dict[str, int] = {"医保": 90, "接口对接": 120}
    duplicate_min_score: float = Field(default=0.3, ge=0, le=1)
    duplicate_pool_limit: int = Field(default=20_000, ge=100)
    vocab_match_cutoff: float = Field(default=0.6, ge=0, le=1)

    def review_days(self, category: str) -> int:
        """Days until a newly published entry of `category` is due for review."""
        return self.review_days_by_category.get(category, self.review_days_default)


class ExtraPattern(BaseModel):
    """A site-specific PII rule: every match of `pattern` becomes `replacement`."""

    kind: str = Field(min_length=1, max_length=40)
    pattern: str = Field(min_length=1)
    replacement: str = "【已脱敏】"

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"invalid PII regex {v!r}: {exc}") from None
        return v


PII_KINDS = ("name", "id_card", "phone", "record_no", "bed")


class PrivacySettings(BaseModel):
    """Patient-identifier masking at capture and import."""

    enabled_kinds: list[str] = list(PII_KINDS)
    extra_patterns: list[ExtraPattern] = []
    # False: imported tickets keep only the masked text (the raw row is masked too).
    keep_raw_ticket_text: bool = False

    @field_validator("enabled_kinds")
    @classmethod
    def _known_kinds(cls, v: list[str]) -> list[str]:
        unknown = sorted(set(v) - set(PII_KINDS))
        if unknown:
            raise ValueError(f"unknown PII kinds {unknown}; known: {list(PII_KINDS)}")
        return v


class HandbookSettings(BaseModel):
    """Topic handbook assembly and export."""

    max_entries: int = Field(default=500, ge=1, le=5000)
    # PDF/DOCX layout is CPU- and memory-heavy; more requests than this get 429.
    max_concurrent_exports: int = Field(default=2, ge=1, le=64)
    # Run queued background exports in this process (one thread per export slot).
    export_worker: bool = True
    # Preferred print fonts, first one fontconfig knows wins (any `fc-list :lang=zh` font else).
    pdf_fonts: list[str] = [
        "Noto Serif CJK SC",
        "Noto Sans CJK SC",
        "Source Han Sans SC",
        "WenQuanYi Zen Hei",
        "WenQuanYi Micro Hei",
    ]
    # Word/WPS resolve east-Asian text through w:eastAsia; these ship with every Chinese Windows.
    docx_body_font: str = "宋体"
    docx_heading_font: str = "黑体"
    docx_latin_font: str = "Calibri"


class LdapSettings(BaseModel):
    """Directory sign-in (LDAP / Active Directory); local accounts with a password still work."""

    enabled: bool = False
    # ldap://host:389 (with start_tls) or ldaps://host:636.
    url: str = ""
    start_tls: bool = False
    # PEM bundle of the CA that issued the directory's certificate (empty = system CAs).
    ca_file: str = ""
    # Service account used to find users and groups; empty = anonymous search.
    bind_dn: str = ""
    bind_password: str = ""
    search_base: str = ""
    # `{username}` is replaced by the escaped login name. AD: (sAMAccountName={username}).
    user_filter: str = "(uid={username})"
    # Where groups live and how they name members; AD users also carry memberOf.
    group_base: str = ""
    group_filter: str = "(|(member={dn})(uniqueMember={dn}))"
    # Matching users are refused as disabled. AD: (userAccountControl:1.2.840.113556.1.4.803:=2).
    disabled_filter: str = ""
    mail_attribute: str = "mail"
    name_attribute: str = "displayName"
    # Group (full DN or CN, case-insensitive) → role; the highest mapped role wins.
    group_roles: dict[str, Literal["viewer", "editor", "reviewer", "admin"]] = {}
    # Group → department(s) the person belongs to (restricted entries, reports).
    group_departments: dict[str, list[str]] = {}
    timeout_s: float = Field(default=5, gt=0, le=60)

    @model_validator(mode="after")
    def _complete(self) -> LdapSettings:
        if self.enabled:
            if not self.url.startswith(("ldap://", "ldaps://")):
                raise ValueError("ldap.url must be ldap://… or ldaps://…")
            if not self.search_base or "{username}" not in self.user_filter:
                raise ValueError("ldap needs search_base and a user_filter containing {username}")
            if not self.group_roles:
                raise ValueError("ldap.group_roles must map at least one group to a role")
        return self


class ExchangeSettings(BaseModel):
    """Knowledge exchange files (`kbsvc kb export` / `import`)."""

    # Shown to the receiving hospital as the entries' origin, e.g. "市第一人民医院信息科".
    site_name: str = Field(default="", max_length=200)
    # Stable id in provenance; empty = generated once into DATA_DIR/site_id. Set it when several
    # hosts share one PostgreSQL database so they export under one identity.
    site_id: str = Field(default="", max_length=64, pattern=r"^[A-Za-z0-9._-]*$")
    max_entries: int = Field(default=50_000, ge=1)
    # Uncompressed size cap for an imported file (zip bombs).
    max_unpacked_bytes: int = Field(default=200 * 1024 * 1024, ge=1024)


class BackupSettings(BaseModel):
    """`kbsvc backup` / `kbsvc restore`."""

    # Folder holding pg_dump/pg_restore; empty = the newest /usr/lib/postgresql/*/bin, else PATH.
    pg_bin_dir: str = ""


class OcrSettings(BaseModel):
    """Background text recognition of attached images (rapidocr, models inside the wheel)."""

    enabled: bool = True
    # Run the worker thread in this process; several hosts may all run one (rows are leased).
    worker: bool = True
    max_attempts: int = Field(default=3, ge=1, le=20)
    backoff_s: float = Field(default=30, gt=0)
    lease_s: float = Field(default=300, ge=10)
    poll_interval_s: float = Field(default=2, gt=0, le=300)
    # onnxruntime threads per image; one leaves the other core to requests.
    threads: int = Field(default=1, ge=1, le=64)


class AttachmentSettings(BaseModel):
    """Images and PDFs on entries: size limits and image handling."""

    max_image_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    max_pdf_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)
    max_per_entry: int = Field(default=20, ge=1, le=500)
    # Decoded size cap (decompression bombs): 40 MP is a 4K screen shot many times over.
    max_pixels: int = Field(default=40_000_000, ge=10_000)
    jpeg_quality: int = Field(default=88, ge=30, le=95)
    thumb_px: int = Field(default=320, ge=32, le=1024)
    ocr: OcrSettings = OcrSettings()


NOTIFY_EVENTS = ("entry.submitted", "entry.rejected", "flag.opened", "review.due", "digest.weekly")
CHANNEL_KINDS = ("wecom", "dingtalk", "feishu", "webhook", "email")


class ChannelSettings(BaseModel):
    """A notification channel declared in settings (admins add more in the web UI / API)."""

    name: str = Field(min_length=1, max_length=64)
    kind: Literal["wecom", "dingtalk", "feishu", "webhook", "email"]
    # Robot/webhook URL with its token (WeCom ?key=, DingTalk ?access_token=, Feishu hook id).
    url: str = ""
    # DingTalk 加签 secret (SEC…), Feishu 签名校验 secret, or the HMAC key of a generic webhook.
    secret: str = ""
    events: list[str] = Field(min_length=1)
    mail_to: list[str] = []
    audience: bool = False
    enabled: bool = True

    @field_validator("events")
    @classmethod
    def _known_events(cls, v: list[str]) -> list[str]:
        unknown = sorted(set(v) - set(NOTIFY_EVENTS))
        if unknown:
            raise ValueError(f"unknown events {unknown}; known: {list(NOTIFY_EVENTS)}")
        return v

    @model_validator(mode="after")
    def _target(self) -> ChannelSettings:
        if self.kind == "email" and not (self.mail_to or self.audience):
            raise ValueError(f"mail channel {self.name!r} needs mail_to or audience=true")
        if self.kind != "email" and not self.url.startswith(("http://", "https://")):
            raise ValueError(f"channel {self.name!r} needs an http(s) url")
        return self


class SmtpSettings(BaseModel):
    """Outgoing mail server for `email` channels."""

    host: str = ""
    port: int = Field(default=25, ge=1, le=65535)
    # starttls: upgrade on port 25/587; ssl: implicit TLS on 465; none: trusted relay only.
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str = ""
    password: str = ""
    sender: str = "kbsvc@localhost"
    # PEM bundle of the hospital's own CA, when the mail server's certificate is issued by it.
    ca_file: str = ""
    timeout_s: float = Field(default=15, gt=0, le=300)


class NotifySettings(BaseModel):
    """The delivery worker: retries with exponential backoff, leases against double sends."""

    worker: bool = True
    channels: list[ChannelSettings] = []
    smtp: SmtpSettings = SmtpSettings()
    max_attempts: int = Field(default=8, ge=1, le=50)
    backoff_base_s: float = Field(default=30, gt=0)
    backoff_max_s: float = Field(default=3600, gt=0)
    # A claimed delivery not finished within the lease (a crashed worker) is sent again.
    lease_s: float = Field(default=120, ge=5)
    poll_interval_s: float = Field(default=2, gt=0, le=300)
    http_timeout_s: float = Field(default=10, gt=0, le=120)
    # Local (Asia/Shanghai) hour for the daily review-due notice and the Monday digest.
    daily_hour: int = Field(default=8, ge=0, le=23)


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
    analytics: AnalyticsSettings = AnalyticsSettings()
    lifecycle: LifecycleSettings = LifecycleSettings()
    privacy: PrivacySettings = PrivacySettings()
    handbooks: HandbookSettings = HandbookSettings()
    backup: BackupSettings = BackupSettings()
    ldap: LdapSettings = LdapSettings()
    exchange: ExchangeSettings = ExchangeSettings()
    notify: NotifySettings = NotifySettings()
    attachments: AttachmentSettings = AttachmentSettings()
    # Reads without a key are allowed only when a site opts in (intranet kiosks); writes never.
    open_reads: bool = False
    cors_origins: list[str] = []
    trusted_hosts: list[str] = ["*"]
    # Reverse proxies (addresses or CIDRs) whose X-Forwarded-For names the real client: the
    # rate limits, the audit trail and the logs then see each browser, not the proxy. Empty:
    # the header is ignored (anyone could send it). JSON list or comma-separated.
    trusted_proxies: Annotated[list[str], NoDecode] = []
    public_base_url: str = "http://127.0.0.1:8000"
    # `kbsvc serve` worker processes; None = one per CPU (one of them writes the index).
    workers: int | None = Field(default=None, ge=1, le=256)
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
            raise ValueError(
                "auth.secret_key must be at least 32 random characters "
                "(or empty, to generate one in the data directory)"
            )
        return v

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, v: list[str]) -> list[str]:
        for origin in v:
            if origin == "*" or not origin.startswith(("http://", "https://")):
                raise ValueError(f"CORS origin must be an explicit http(s) origin, got {origin!r}")
        return v

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _check_proxies(cls, v: object) -> list[str]:
        if isinstance(v, str):
            v = json.loads(v) if v.strip().startswith("[") else v.split(",")
        if not isinstance(v, list):
            raise ValueError("trusted_proxies must be a list of addresses or CIDRs")
        out = []
        for item in v:
            try:
                out.append(str(ipaddress.ip_network(str(item).strip(), strict=False)))
            except ValueError:
                raise ValueError(f"trusted proxy {item!r} is not an IP address or CIDR") from None
        return out

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
