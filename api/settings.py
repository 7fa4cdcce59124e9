"""Settings: the only reader of the environment (variables prefixed SCHOLARGRAPH_)."""

from __future__ import annotations

from functools import lru_cache

from limits import parse_many
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./scholargraph.db"


class Settings(BaseSettings):
    """Everything configurable; `SCHOLARGRAPH_DATABASE_URL=...` sets `database_url`."""

    model_config = SettingsConfigDict(env_prefix="SCHOLARGRAPH_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="sqlite+aiosqlite:///path.db or postgresql+asyncpg://user@host/db",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    forwarded_allow_ips: str = Field(
        default="127.0.0.1,::1",
        description="Proxies whose X-Forwarded-For names the client (comma-separated, * for any)",
    )
    statement_timeout_ms: int = Field(
        default=10_000, ge=0, description="PostgreSQL statement_timeout; 0 for none"
    )
    log_level: str = "info"
    graphiql: bool = Field(default=True, description="Serve GraphiQL to browsers at /graphql")
    # Browsers, caches and operations.
    cors_origins: list[str] = Field(
        default=[], description='Origins whose pages may call the API, as JSON: ["https://a.org"]'
    )
    cache_max_age_s: int = Field(
        default=60, ge=0, description="max-age of successful GET query responses"
    )
    cache_max_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=0,
        description="Response cache size (LRU); 0 turns it off. In Redis when redis_url is set",
    )
    cache_in_process: bool = Field(
        default=False,
        description="Without Redis, cache responses in this process: one worker, no CLI writes",
    )
    persisted_queries_max: int = Field(
        default=1000, ge=1, description="Automatic persisted queries kept in memory (LRU)"
    )
    shutdown_timeout_s: int = Field(
        default=30, ge=1, description="On SIGTERM, seconds for requests in flight to finish"
    )
    # Protection: each limit refuses a request with a message saying which and by how much.
    max_depth: int = Field(default=12, ge=1, description="Deepest nesting of selections")
    max_aliases: int = Field(default=30, ge=0, description="Aliases in one document")
    max_tokens: int = Field(default=2000, ge=1, description="Tokens in one document")
    max_cost: int = Field(
        default=25_000, ge=1, description="Nodes a query's connections may return (GitHub-style)"
    )
    planned_documents_max: int = Field(
        default=500, ge=1, description="Documents kept parsed, validated and measured"
    )
    fast_path: bool = Field(
        default=True, description="Answer reads with the lean executor (schema.fast) when it can"
    )
    compiled_reads: bool = Field(
        default=True,
        description="Answer reads it covers with compiled row-shaping plans (schema.compiled)",
    )
    read_pool_size: int | None = Field(
        default=None,
        ge=1,
        description="Connections GraphQL reads keep open per worker: by default 10 on "
        "PostgreSQL (as many again when busy), 2 on SQLite (db.engine.read_pool says why)",
    )
    list_bounds_refresh_s: float = Field(
        default=300.0, gt=0, description="Seconds between readings of the longest lists"
    )
    max_body_bytes: int = Field(default=100_000, ge=1, description="Size of a request body")
    request_timeout_s: float = Field(default=30.0, gt=0, description="Time for one request")
    rate_limit_enabled: bool = Field(default=True, description="Count /graphql requests")
    rate_limit_per_address: str = Field(
        default="600/minute", description="Requests a client address may make: N/second|minute|hour"
    )
    rate_limit_per_token: str = Field(
        default="6000/minute", description="Requests a caller with a valid token may make"
    )
    redis_url: str | None = Field(
        default=None,
        description="redis://host:6379/0: state that workers and hosts share (cache, counts)",
    )
    redis_prefix: str = Field(
        default="scholargraph:", description="Prefix of every key this server writes to Redis"
    )
    rate_limit_storage: str = Field(
        default="memory://",
        description="Where counts live: memory:// (this process) or a shared redis://host:6379",
    )

    @field_validator("rate_limit_per_address", "rate_limit_per_token")
    @classmethod
    def _a_rate(cls, value: str) -> str:
        try:
            [_rate] = parse_many(value)
        except ValueError:
            raise ValueError(f"{value!r} is not one rate such as 600/minute or 10/second") from None
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
