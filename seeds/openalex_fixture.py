"""A generated file of OpenAlex works, in the shape of the API's snapshot, for benchmarks.

    python -m seeds.openalex_fixture OUT.jsonl.gz --works 100000 --seed 1

Deterministic: the same arguments write the same file. Authors are drawn
from a pool of a tenth as many people, so imports exercise matching too.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from seeds.generate import FAMILY, GIVEN, WORDS


def works(count: int, seed: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    people = [
        (f"A{9_000_000 + i}", f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}")
        for i in range(max(1, count // 10))
    ]
    for index in range(count):
        year = rng.randint(2000, 2026)
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 8))).capitalize()
        team = rng.sample(people, k=min(len(people), rng.randint(1, 6)))
        cited = int((rng.paretovariate(1.3) - 1) * 10)
        yield {
            "id": f"https://openalex.org/W{5_000_000_000 + index}",
            "doi": f"https://doi.org/10.5555/bench.{seed}.{index}",
            "title": f"{title} {index}",
            "publication_year": year,
            "publication_date": f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "authorships": [
                {
                    "author_position": "first" if place == 0 else "middle",
                    "author": {
                        "id": f"https://openalex.org/{aid}",
                        "display_name": name,
                        "orcid": None,
                    },
                    "institutions": [],
                    "raw_author_name": name,
                }
                for place, (aid, name) in enumerate(team)
            ],
            "cited_by_count": cited,
            "counts_by_year": [{"year": 2025, "cited_by_count": cited}] if cited else [],
        }


def write_works(path: Path, count: int, seed: int) -> None:
    with gzip.open(path, "wt", encoding="utf-8") as out:
        for work in works(count, seed):
            out.write(json.dumps(work) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("--works", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    write_works(args.out, args.works, args.seed)


if __name__ == "__main__":
    main()
