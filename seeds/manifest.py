"""The seed manifest: which profile files `scholargraph seed` loads, and from where."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

SEEDS_DIR = Path(__file__).resolve().parent
MANIFEST_PATH = SEEDS_DIR / "manifest.toml"


@dataclass(frozen=True, slots=True)
class ProfileSource:
    path: Path
    source: str
    captured_year: int


@dataclass(frozen=True, slots=True)
class Manifest:
    profiles: tuple[ProfileSource, ...]
    institution_names: Mapping[str, str]


def read_manifest(path: Path = MANIFEST_PATH) -> Manifest:
    with path.open("rb") as file:
        data = tomllib.load(file)
    profiles = tuple(
        ProfileSource(
            path=path.parent / item["file"],
            source=item["source"],
            captured_year=int(item["captured_year"]),
        )
        for item in data.get("profile", [])
    )
    return Manifest(profiles=profiles, institution_names=dict(data.get("institutions", {})))
