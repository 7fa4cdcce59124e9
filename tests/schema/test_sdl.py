"""schema.graphql is what the server serves, and honours the public contract."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from api.cli import SCHEMA_PATH
from schema import sorted_sdl

CONTRACT_CHECK = Path(__file__).resolve().parents[3] / "shared" / "tools" / "contract_check.py"


def test_schema_graphql_is_the_served_schema() -> None:
    committed = SCHEMA_PATH.read_text(encoding="utf-8")
    assert committed == sorted_sdl(), "schema.graphql is stale: run `scholargraph export-schema`"


def test_the_served_schema_honours_the_contract() -> None:
    result = subprocess.run(
        [sys.executable, str(CONTRACT_CHECK), str(SCHEMA_PATH)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("0 breaches")


def test_every_type_field_and_argument_has_a_description() -> None:
    from graphql import (
        GraphQLEnumType,
        GraphQLInputObjectType,
        GraphQLInterfaceType,
        GraphQLObjectType,
    )

    from schema import schema

    missing = []
    for name, named in schema._schema.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Float", "Boolean", "ID"}:
            continue
        if not named.description:
            missing.append(name)
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            for field_name, field in named.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                for arg_name, arg in getattr(field, "args", {}).items():
                    if not arg.description:
                        missing.append(f"{name}.{field_name}({arg_name})")
        if isinstance(named, GraphQLEnumType):
            missing += [f"{name}.{v}" for v, value in named.values.items() if not value.description]
    assert missing == []
