"""HTTP caching of GraphQL GET responses: browsers and proxies may reuse a successful read.

A query sent with GET (a persisted query's hash fits in a URL) that answers
200 without errors, from a caller who sent no Authorization header, is
public for `max_age` seconds and carries an ETag, the hash of its body; a
request whose If-None-Match names that tag gets 304 without a body. When
the response cache (api.cache) holds the answer, the tag comes from there
and the query does not run; otherwise it runs to compute the tag.
Everything else (POST, errors, a caller with a token) is `no-store`.
"""

from __future__ import annotations

import hashlib

from starlette.requests import Request
from starlette.responses import Response


def apply_cache_policy(
    request: Request, response: Response, *, has_errors: bool, max_age: int, tag: str | None = None
) -> Response:
    """The response with its caching headers, or a 304 when the client's copy is current."""
    cacheable = (
        request.method == "GET"
        and response.status_code == 200
        and not has_errors
        and "authorization" not in request.headers
    )
    if not cacheable:
        response.headers["cache-control"] = "no-store"
        return response
    headers = cache_headers(max_age, tag or entity_tag(bytes(response.body)))
    if matches(request.headers.get("if-none-match"), headers["etag"]):
        return Response(status_code=304, headers=headers)
    response.headers.update(headers)
    return response


def cache_headers(max_age: int, tag: str) -> dict[str, str]:
    """What a cacheable answer (a 200 or its 304) says about caching it."""
    return {
        "cache-control": f"public, max-age={max_age}",
        "etag": tag,
        # The media type, and so the status of some answers, follows the Accept header.
        "vary": "Accept",
    }


def entity_tag(body: bytes) -> str:
    return f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def matches(if_none_match: str | None, tag: str) -> bool:
    """If-None-Match's weak comparison: W/"x" matches "x"; * matches anything."""
    if if_none_match is None:
        return False
    candidates = {candidate.strip().removeprefix("W/") for candidate in if_none_match.split(",")}
    return "*" in candidates or tag in candidates
