"""GraphiQL served by the API itself, so that /graphql works in a browser with no internet.

The browser assets come from the npm registry: `make install` runs `npm ci` in
this folder (see package.json and package-lock.json beside this file), which
fills `node_modules/` (not committed). The page loads them from this app under
`assets_url`; it names no CDN and no other host.

Why GraphiQL 4.1.2 and React 18 rather than the newest GraphiQL (5.x): a page
without a bundler needs plain <script> builds. GraphiQL 5 ships only ES modules
that import dozens of packages by bare name (and Monaco with its web workers),
and its only documented bundler-free setup loads them from a CDN. GraphiQL 4.1.2
is the newest release with a UMD build (`dist/index.umd.js`, the same bytes as
its `graphiql.min.js`, with GraphQL itself inside) that needs only the globals
`React` and `ReactDOM`; React 19 no longer ships UMD builds, so React and
ReactDOM stay on 18.3.1, whose `umd/*.production.min.js` provide them.

Only the files in `_FILES` are served, under `<assets_url>/<package>@<version>/`
with the version pinned in package.json, so they are cached as immutable. If
they are missing or do not match the pins, the assets answer 503 and the rest
of the API works as before.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

__all__ = ["ASSETS_DIR", "graphiql_html", "graphiql_routes"]

_HERE = Path(__file__).resolve().parent

ASSETS_DIR: Path = _HERE / "node_modules"
"""Where `npm ci` installs GraphiQL and React; the served files are read from here."""

_CACHE_CONTROL = "public, max-age=31536000, immutable"
_NOT_INSTALLED = "GraphiQL assets are not installed; run make install"

# Each npm package, then the files of it that the page needs (paths inside the package).
_FILES: dict[str, tuple[str, ...]] = {
    "react": ("umd/react.production.min.js",),
    "react-dom": ("umd/react-dom.production.min.js",),
    "graphiql": ("dist/index.umd.js", "dist/index.umd.js.map", "dist/style.css"),
}

DEFAULT_QUERY = """\
# Welcome to scholargraph. Run with Ctrl-Enter or ▶.
# The Docs icon (top left) lists every field.
{
  researcher(slug: "david-bau") {
    name
  }
}
"""


def _pinned_versions() -> dict[str, str]:
    """The exact versions that package.json pins for the packages the page uses."""
    manifest = json.loads((_HERE / "package.json").read_text(encoding="utf-8"))
    dependencies: dict[str, str] = manifest["dependencies"]
    return {name: dependencies[name] for name in _FILES}


_VERSIONS = _pinned_versions()


def _asset_path(package: str, file: str) -> str:
    """A file's path below `assets_url`: versioned, so a new pin gets a new URL."""
    return f"{package}@{_VERSIONS[package]}/{file}"


def _script_literal(value: str) -> str:
    """A JavaScript string literal that is safe inside an inline <script>."""
    return (
        json.dumps(value, ensure_ascii=False)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def graphiql_html(*, endpoint: str = "/graphql", assets_url: str = "/graphiql-assets") -> str:
    """The GraphiQL page: its assets come from `assets_url`, its queries go to `endpoint`."""
    base = assets_url.rstrip("/")

    def asset(package: str, file: str) -> str:
        return html.escape(f"{base}/{_asset_path(package, file)}", quote=True)

    return f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>scholargraph — GraphiQL</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="{asset("graphiql", "dist/style.css")}">
    <style>
      html, body {{ height: 100%; margin: 0; }}
      #graphiql {{ height: 100vh; height: 100dvh; }}
      .graphiql-missing {{ font: 16px/1.5 system-ui, sans-serif; padding: 2rem; }}
    </style>
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL…</div>
    <script src="{asset("react", "umd/react.production.min.js")}"></script>
    <script src="{asset("react-dom", "umd/react-dom.production.min.js")}"></script>
    <script src="{asset("graphiql", "dist/index.umd.js")}"></script>
    <script>
      (function () {{
        var root = document.getElementById("graphiql");
        if (typeof React === "undefined" || typeof ReactDOM === "undefined"
            || typeof GraphiQL === "undefined") {{
          root.className = "graphiql-missing";
          root.textContent = {_script_literal(_NOT_INSTALLED + ".")};
          return;
        }}
        var fetcher = GraphiQL.createFetcher({{ url: {_script_literal(endpoint)} }});
        ReactDOM.createRoot(root).render(
          React.createElement(GraphiQL, {{
            fetcher: fetcher,
            defaultQuery: {_script_literal(DEFAULT_QUERY)},
            defaultEditorToolsVisibility: false,
          }})
        );
      }})();
    </script>
  </body>
</html>
"""


class _GraphiQLAssets(StaticFiles):
    """StaticFiles over node_modules that answers only for the allow-listed files."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory=directory, check_dir=False)
        self.assets_dir = directory
        self.allowed = {
            _asset_path(package, file): (package, file)
            for package, files in _FILES.items()
            for file in files
        }

    async def check_config(self) -> None:
        """Nothing to check up front: a missing folder is a 503 per request, not a crash."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if scope["method"] not in ("GET", "HEAD"):
            return PlainTextResponse(
                "Method Not Allowed", status_code=405, headers={"Allow": "GET, HEAD"}
            )
        found = self.allowed.get(path)
        if found is None:
            return PlainTextResponse("Not Found", status_code=404)
        package, file = found
        problem = self._installation_problem(package)
        if problem is not None:
            return PlainTextResponse(problem, status_code=503, headers={"Retry-After": "3600"})
        response = await super().get_response(f"{package}/{file}", scope)
        if response.status_code in (200, 304):
            response.headers["Cache-Control"] = _CACHE_CONTROL
        return response

    def _installation_problem(self, package: str) -> str | None:
        """Why this package's files cannot be served as pinned, or None if they can."""
        try:
            manifest = json.loads(
                (self.assets_dir / package / "package.json").read_text(encoding="utf-8")
            )
        except (OSError, ValueError):
            return _NOT_INSTALLED
        installed, pinned = manifest.get("version"), _VERSIONS[package]
        if installed != pinned:
            return (
                f"GraphiQL assets are out of date ({package} {installed} is installed, "
                f"{pinned} is pinned); run make install"
            )
        return None


def graphiql_routes(*, assets_url: str = "/graphiql-assets") -> list[BaseRoute]:
    """The routes that serve the page's assets under `assets_url`, and nothing else."""
    return [Mount(assets_url.rstrip("/"), app=_GraphiQLAssets(ASSETS_DIR), name="graphiql-assets")]
