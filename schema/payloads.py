"""What mutations return: the changed object, or the problems that stopped the change."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

import strawberry

from db.tables import AnyRow
from resolvers.mutations.imports import Imported
from resolvers.mutations.transactions import Written
from resolvers.mutations.validation import Problem
from schema.paper import Paper
from schema.researcher import Researcher


@strawberry.enum(description="What kind of problem a UserError reports.")
class UserErrorCode(Enum):
    INVALID = strawberry.enum_value(
        "INVALID", description="The value is malformed, out of range or contradicts another."
    )
    NOT_FOUND = strawberry.enum_value(
        "NOT_FOUND", description="The input names something that is not stored (any more)."
    )
    CONFLICT = strawberry.enum_value(
        "CONFLICT", description="Another record already has this unique value."
    )
    FORBIDDEN = strawberry.enum_value(
        "FORBIDDEN", description="The caller may not make this particular change."
    )
    AMBIGUOUS = strawberry.enum_value(
        "AMBIGUOUS",
        description="The input matches several stored records; `candidates` lists them, "
        "and the input must name one by ID.",
    )


@strawberry.type(
    description="A problem with the input that the caller can fix. Nothing was written."
)
class UserError:
    field: list[str] | None = strawberry.field(
        description='Path to the input field at fault, e.g. ["input", "authors", "2", "name"]; '
        "list positions count from 0. Null when the problem is not with one field."
    )
    message: str = strawberry.field(description="What is wrong, in a sentence for people.")
    code: UserErrorCode = strawberry.field(description="What kind of problem, for programs.")
    candidates: list[strawberry.ID] | None = strawberry.field(
        default=None,
        description="With AMBIGUOUS: the global IDs of the records the input matches (at "
        "most 10, oldest first). Null with every other code.",
    )

    @classmethod
    def from_problem(cls, problem: Problem) -> UserError:
        path = None if problem.field is None else list(problem.field)
        return cls(
            field=path,
            message=problem.message,
            code=UserErrorCode[problem.code.name],
            candidates=[strawberry.ID(c) for c in problem.candidates] or None,
        )


def user_errors(problems: Sequence[Problem]) -> list[UserError]:
    return [UserError.from_problem(problem) for problem in problems]


@strawberry.type(description="The result of creating or changing a paper.")
class PaperPayload:
    paper: Paper | None = strawberry.field(
        description="The paper as stored now; null when there are userErrors."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Problems with the input; when there are any, nothing was written."
    )

    @classmethod
    def from_written(cls, written: Written[AnyRow]) -> PaperPayload:
        row = written.value
        return cls(
            paper=None if row is None else Paper.from_row(row),
            user_errors=user_errors(written.problems),
        )


@strawberry.type(description="The result of creating, changing or merging researchers.")
class ResearcherPayload:
    researcher: Researcher | None = strawberry.field(
        description="The researcher as stored now; null when there are userErrors."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Problems with the input; when there are any, nothing was written."
    )

    @classmethod
    def from_written(cls, written: Written[AnyRow]) -> ResearcherPayload:
        row = written.value
        return cls(
            researcher=None if row is None else Researcher.from_row(row),
            user_errors=user_errors(written.problems),
        )


@strawberry.type(description="The result of a delete.")
class DeletePayload:
    deleted_id: strawberry.ID | None = strawberry.field(
        description="The global ID of what was deleted; it now resolves to null. Null when "
        "there are userErrors."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Problems with the input; when there are any, nothing was deleted."
    )

    @classmethod
    def from_written(cls, written: Written[str]) -> DeletePayload:
        deleted = None if written.value is None else strawberry.ID(written.value)
        return cls(deleted_id=deleted, user_errors=user_errors(written.problems))


@strawberry.type(description="The result of setting citation counts for a batch of papers.")
class SetCitationCountsPayload:
    papers: list[Paper] = strawberry.field(
        description="The papers with their new counts, in the order given; empty when there "
        "are userErrors."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Problems with the input; when there are any, no count was written."
    )

    @classmethod
    def from_written(cls, written: Written[list[AnyRow]]) -> SetCitationCountsPayload:
        rows = written.value or []
        return cls(
            papers=[Paper.from_row(row) for row in rows], user_errors=user_errors(written.problems)
        )


@strawberry.type(description="The result of importing a profile.")
class ImportPayload:
    researcher: Researcher | None = strawberry.field(
        description="The profile's owner as stored now; null when there are userErrors."
    )
    papers_created: int = strawberry.field(description="Papers that were not stored before.")
    papers_updated: int = strawberry.field(
        description="Papers already stored that the profile changed (unchanged ones not counted)."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Problems with the input; when there are any, nothing was written."
    )

    @classmethod
    def from_written(cls, written: Written[Imported]) -> ImportPayload:
        imported = written.value
        if imported is None:
            return cls(
                researcher=None,
                papers_created=0,
                papers_updated=0,
                user_errors=user_errors(written.problems),
            )
        owner = imported.researcher
        return cls(
            researcher=None if owner is None else Researcher.from_row(owner),
            papers_created=imported.papers_created,
            papers_updated=imported.papers_updated,
            user_errors=[],
        )
