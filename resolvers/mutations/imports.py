"""importProfile: a profile page's text, through the loader the command line uses."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from db.reads import changing_everything
from db.tables import AnyRow
from resolvers.context import Context
from resolvers.mutations.transactions import Written, write
from resolvers.mutations.validation import (
    Problem,
    ProblemCode,
    Problems,
    RejectedError,
    check_year,
    optional_text,
)
from seeds.load import LoadResult, import_profile_text
from seeds.manifest import read_manifest
from seeds.profile_text import ProfileFormatError

DEFAULT_SOURCE = "profile text sent to importProfile"
SOURCE_MAX_LENGTH = 200


@dataclass(frozen=True, slots=True)
class ProfileImport:
    text: str
    undated_year: int | None = None
    source: str | None = None


@dataclass(frozen=True, slots=True)
class Imported:
    researcher: AnyRow | None
    papers_created: int
    papers_updated: int


async def import_profile(context: Context, given: ProfileImport) -> Written[Imported]:
    """Load the profile in one transaction; a line that does not parse writes nothing."""
    problems = Problems()
    this_year = context.today.year
    year = given.undated_year if given.undated_year is not None else this_year
    check_year(year, ("input", "undatedYear"), problems, this_year=this_year)
    # A refused year writes nothing; the text is still read, with this year, for its own problems.
    parse_year = this_year if problems.at(("input", "undatedYear")) else year
    source = optional_text(given.source) or DEFAULT_SOURCE
    if len(source) > SOURCE_MAX_LENGTH:
        problems.invalid(("input", "source"), f"At most {SOURCE_MAX_LENGTH} characters.")

    async def work(session: AsyncSession) -> LoadResult:
        try:
            result = await import_profile_text(
                session,
                given.text,
                undated_year=parse_year,
                source=source,
                institution_names=read_manifest().institution_names,
            )
        except ProfileFormatError as error:
            raise RejectedError([*problems.found, _problem_of(error)]) from error
        problems.reject_if_any()
        changing_everything()  # a profile's papers, their bylines and institutions
        return result

    written = await write(context, work)
    if written.value is None:
        return Written(problems=written.problems)
    owner = await context.loaders.researchers_by_id.load(written.value.researcher_id)
    return Written(Imported(owner, written.value.papers_created, written.value.papers_updated))


def _problem_of(error: ProfileFormatError) -> Problem:
    message = str(error)
    return Problem(("input", "text"), message[:1].upper() + message[1:], ProblemCode.INVALID)
