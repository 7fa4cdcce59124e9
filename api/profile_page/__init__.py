"""The reference profile page at /researchers/{slug}, served from what Vite built into dist/.

The page is a frontend project of its own in this folder (package.json, package-lock.json,
vite.config.ts, src/): one GraphQL operation, ProfilePage, kept with the typed-client tests
(tests/clients/operations/ProfilePage.graphql) so the suite runs it, typed by graphql-codegen
from schema.graphql and bundled with Chart.js into `dist/` (not committed). `make run` and
`make test` build it when it is missing or its sources changed.

The app serves `dist/index.html` for every /researchers/{slug}: the page reads the slug from
its address and asks /graphql for the rest, so an unknown slug is the page's own "no such
researcher". The bundle's files are served under `assets_url`; their names carry a content
hash, so they are cached as immutable. Without a build, both answer 503 and say what to run;
the rest of the API works as before.
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

__all__ = ["BUILD_DIR", "profile_page_routes"]

BUILD_DIR: Path = Path(__file__).resolve().parent / "dist"
"""Where `npm run build` (Vite) writes the page and its assets."""

NOT_BUILT = "The profile page is not built; run make profile-page (make run builds it too)"
_IMMUTABLE = "public, max-age=31536000, immutable"


def _not_built() -> Response:
    return PlainTextResponse(NOT_BUILT, status_code=503, headers={"Retry-After": "3600"})


async def profile_page(_request: Request) -> Response:
    """The page's HTML; the slug in the address is read by the page's script."""
    try:
        page = (BUILD_DIR / "index.html").read_text(encoding="utf-8")
    except OSError:
        return _not_built()
    # Revalidated on every visit, so a new build's hashed assets are picked up at once.
    return HTMLResponse(page, headers={"Cache-Control": "no-cache"})


class _BuiltAssets(StaticFiles):
    """dist/assets/, read-only; 503 until the page is built."""

    def __init__(self) -> None:
        super().__init__(directory=BUILD_DIR / "assets", check_dir=False)

    async def check_config(self) -> None:
        """Nothing to check up front: a missing build is a 503 per request, not a crash."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if scope["method"] not in ("GET", "HEAD"):
            return PlainTextResponse(
                "Method Not Allowed", status_code=405, headers={"Allow": "GET, HEAD"}
            )
        if not (BUILD_DIR / "index.html").is_file():
            return _not_built()
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            response.headers["Cache-Control"] = _IMMUTABLE
        return response


def profile_page_routes(*, assets_url: str = "/profile-assets") -> list[BaseRoute]:
    """The page at /researchers/{slug} and its built assets under `assets_url`/assets/."""
    return [
        Route("/researchers/{slug}", profile_page, methods=["GET", "HEAD"]),
        Mount(f"{assets_url.rstrip('/')}/assets", app=_BuiltAssets(), name="profile-assets"),
    ]
