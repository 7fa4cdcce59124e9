"""Settings: the only reader of the environment (variables prefixed SCHOLARGRAPH_)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
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
    max_body_bytes: int = Field(default=100_000, ge=1, description="Size of a request body")
    request_timeout_s: float = Field(default=30.0, gt=0, description="Time for one request")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
