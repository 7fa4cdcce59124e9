"""Find-or-create under concurrent writers: how many rows one natural key ends with.

    python -m tests.benchmarks.bench_races URL [URL ...] [--writers 30]

Each URL is a migrated database (empty or not: every run uses names and ids
of its own). For each race, `--writers` requests that find or create the same
key are sent at once through the ASGI app, and the rows made for that key are
counted, with what the requests were answered (written, a userErrors code, or
an unexpected error). One row per key and no unexpected error is right.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import func, select

from api.app import create_app
from api.settings import Settings
from db.tables import institution, paper, researcher
from tests.api.writes import add_token

PAPER = """mutation($input: CreatePaperInput!) {
  createPaper(input: $input) { paper { id } userErrors { code } } }"""
RESEARCHER = """mutation($input: CreateResearcherInput!) {
  createResearcher(input: $input) { researcher { id } userErrors { code } } }"""
IMPORT = """mutation($input: ImportProfileInput!) {
  importProfile(input: $input) { researcher { id } userErrors { code } } }"""

Requests = list[tuple[str, dict[str, Any]]]


def names_race(tag: str, writers: int) -> Requests:
    byline = [{"name": f"Racer One {tag}"}, {"name": f"Racer Two {tag}"}]
    return [(PAPER, {"title": f"Race {k}", "authors": byline}) for k in range(writers)]


def rotated_names_race(tag: str, writers: int) -> Requests:
    names = [f"Ana Ahn {tag}", f"Ben Bo {tag}", f"Cy Chu {tag}"]
    return [
        (PAPER, {"title": f"Rotated {k}", "authors": [{"name": n} for n in _rotated(names, k)]})
        for k in range(writers)
    ]


def _rotated(names: list[str], k: int) -> list[str]:
    return names[k % len(names) :] + names[: k % len(names)]


def orcid_race(tag: str, writers: int) -> Requests:
    orcid = _orcid(tag)
    return [(RESEARCHER, {"name": f"Claimant {k}", "orcid": orcid}) for k in range(writers)]


def institution_race(tag: str, writers: int) -> Requests:
    slugs = [f"lab-{tag}", f"other-lab-{tag}"]
    return [
        (
            PAPER,
            {
                "title": f"Lab {k}",
                "authors": [{"name": f"Member {k} {tag}"}],
                "institutions": slugs if k % 2 else slugs[::-1],
            },
        )
        for k in range(writers)
    ]


def doi_race(tag: str, writers: int) -> Requests:
    author = [{"name": f"Claimant {tag}"}]
    return [
        (PAPER, {"title": f"Claim {k}", "authors": author, "doi": f"10.1000/{tag}"})
        for k in range(writers)
    ]


def import_race(tag: str, writers: int) -> Requests:
    ada, charles = f"Ada Lovelace {tag}", f"Charles Babbage {tag}"
    requests = [
        (PAPER, {"title": f"Letter {k}", "authors": [{"name": charles}, {"name": ada}]})
        for k in range(writers - 2)
    ]
    for at, (owner, other) in ((5, (ada, charles)), (15, (charles, ada))):
        text = (
            f"{owner}\n\nCV\nh-index1\n1papers\n\n1 Papers\n\n"
            f"LGMar 3\nOn engines, by {owner}\n{owner}, {other}\nAn abstract.\n"
        )
        requests.insert(at, (IMPORT, {"format": "PROFILE_TEXT", "text": text}))
    return requests


RACES: dict[str, tuple[Callable[[str, int], Requests], Callable[[str], Any]]] = {
    "createPaper, the same 2 new author names": (
        names_race,
        lambda tag: researcher.c.name.in_([f"Racer One {tag}", f"Racer Two {tag}"]),
    ),
    "createPaper, 3 new author names, rotated": (
        rotated_names_race,
        lambda tag: researcher.c.name.in_([f"Ana Ahn {tag}", f"Ben Bo {tag}", f"Cy Chu {tag}"]),
    ),
    "createResearcher, one ORCID": (orcid_race, lambda tag: researcher.c.orcid == _orcid(tag)),
    "createPaper, the same 2 new institution slugs": (
        institution_race,
        lambda tag: institution.c.slug.in_([f"lab-{tag}", f"other-lab-{tag}"]),
    ),
    "createPaper, one DOI": (doi_race, lambda tag: paper.c.doi == f"10.1000/{tag}"),
    "importProfile x2 beside createPaper, 2 names": (
        import_race,
        lambda tag: researcher.c.name.in_([f"Ada Lovelace {tag}", f"Charles Babbage {tag}"]),
    ),
}


async def run(url: str, writers: int) -> None:
    app = create_app(Settings(database_url=url, rate_limit_enabled=False))
    async with app.router.lifespan_context(app):
        engine = app.state.engine
        secret = await add_token(engine, name=f"races-{uuid.uuid4().hex[:8]}")
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {secret}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", headers=headers
        ) as http:
            for name, (make, rows_of) in RACES.items():
                tag = uuid.uuid4().hex[:8]
                answers = await asyncio.gather(*(_send(http, d, v) for d, v in make(tag, writers)))
                condition = rows_of(tag)
                async with engine.connect() as connection:
                    table = condition.left.table  # the column's table
                    statement = select(func.count()).select_from(table).where(condition)
                    rows = (await connection.execute(statement)).scalar_one()
                told = ", ".join(f"{n} {what}" for what, n in sorted(Counter(answers).items()))
                print(f"  {name:46} {rows:3} rows   answers: {told}")


async def _send(http: httpx.AsyncClient, document: str, given: dict[str, Any]) -> str:
    body = (
        await http.post("/graphql", json={"query": document, "variables": {"input": given}})
    ).json()
    if body.get("errors"):
        return "unexpected error"
    [payload] = body["data"].values()
    codes = sorted({error["code"] for error in payload["userErrors"]})
    return "/".join(codes) if codes else "written"


def _orcid(tag: str) -> str:
    draw = random.Random(tag)
    digits = "".join(str(draw.randrange(10)) for _ in range(15))
    total = 0
    for digit in digits:
        total = (total + int(digit)) * 2
    check = (12 - total % 11) % 11
    body = digits + ("X" if check == 10 else str(check))
    return "-".join(body[i : i + 4] for i in range(0, 16, 4))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", nargs="+", help="database URLs")
    parser.add_argument("--writers", type=int, default=30)
    arguments = parser.parse_args()
    for url in arguments.urls:
        print(f"{url}: {arguments.writers} writers per race")
        asyncio.run(run(url, arguments.writers))


if __name__ == "__main__":
    main()
