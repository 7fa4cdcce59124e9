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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
