"""The root of every write. Each mutation needs a bearer token with the write scope."""

from __future__ import annotations

from typing import Annotated

import strawberry

from resolvers.auth import require_write_scope
from resolvers.context import Context
from resolvers.mutations import citations, imports, merge, papers, researchers
from schema.mutation_inputs import (
    CitationCountInput,
    CreatePaperInput,
    CreateResearcherInput,
    ImportProfileInput,
    UpdatePaperInput,
    UpdateResearcherInput,
)
from schema.payloads import (
    DeletePayload,
    ImportPayload,
    PaperPayload,
    ResearcherPayload,
    SetCitationCountsPayload,
)


def _arg(description: str) -> object:
    return strawberry.argument(description=description)


@strawberry.type(
    description="Everything that can be written. Every mutation needs an 'Authorization: "
    "Bearer <token>' header with a token that has the write scope, runs in one transaction, "
    "and writes nothing when its payload has userErrors."
)
class Mutation:
    @strawberry.mutation(description="Add a paper with its byline, institutions and category.")
    async def create_paper(
        self, info: strawberry.Info[Context], input: Annotated[CreatePaperInput, _arg("The paper.")]
    ) -> PaperPayload:
        await require_write_scope(info.context)
        return PaperPayload.from_written(await papers.create_paper(info.context, input.to_spec()))

    @strawberry.mutation(description="Change some fields of a paper; the others stay.")
    async def update_paper(
        self,
        info: strawberry.Info[Context],
        input: Annotated[UpdatePaperInput, _arg("The paper and its changes.")],
    ) -> PaperPayload:
        await require_write_scope(info.context)
        return PaperPayload.from_written(await papers.update_paper(info.context, input.to_spec()))

    @strawberry.mutation(
        description="Delete a paper with its authorships, links and citation counts; its "
        "researchers stay."
    )
    async def delete_paper(
        self,
        info: strawberry.Info[Context],
        id: Annotated[strawberry.ID, _arg("The paper's global ID.")],
    ) -> DeletePayload:
        await require_write_scope(info.context)
        return DeletePayload.from_written(await papers.delete_paper(info.context, id))

    @strawberry.mutation(
        description="Set the citation counts of several papers at once: all of them or none."
    )
    async def set_citation_counts(
        self,
        info: strawberry.Info[Context],
        input: Annotated[list[CitationCountInput], _arg("One entry per paper, at most 1000.")],
    ) -> SetCitationCountsPayload:
        await require_write_scope(info.context)
        batch = [entry.to_spec() for entry in input]
        written = await citations.set_citation_counts(info.context, batch)
        return SetCitationCountsPayload.from_written(written)

    @strawberry.mutation(description="Add a researcher; the slug is made from the name.")
    async def create_researcher(
        self,
        info: strawberry.Info[Context],
        input: Annotated[CreateResearcherInput, _arg("The researcher.")],
    ) -> ResearcherPayload:
        await require_write_scope(info.context)
        written = await researchers.create_researcher(info.context, input.to_spec())
        return ResearcherPayload.from_written(written)

    @strawberry.mutation(
        description="Change some fields of a researcher; given aliases replace the stored ones."
    )
    async def update_researcher(
        self,
        info: strawberry.Info[Context],
        input: Annotated[UpdateResearcherInput, _arg("The researcher and the changes.")],
    ) -> ResearcherPayload:
        await require_write_scope(info.context)
        written = await researchers.update_researcher(info.context, input.to_spec())
        return ResearcherPayload.from_written(written)

    @strawberry.mutation(
        description="Move every authorship and alias of source onto target, then delete source. "
        "The source's name becomes an alias; its external ids and reported figures move where "
        "the target has none; on a paper both wrote the target's authorship stays. The source's "
        "ID then resolves to null."
    )
    async def merge_researchers(
        self,
        info: strawberry.Info[Context],
        source_id: Annotated[strawberry.ID, _arg("The researcher that goes away.")],
        target_id: Annotated[strawberry.ID, _arg("The researcher that stays.")],
    ) -> ResearcherPayload:
        await require_write_scope(info.context)
        written = await merge.merge_researchers(info.context, source_id, target_id)
        return ResearcherPayload.from_written(written)

    @strawberry.mutation(
        description="Load a profile page's text as the command line does: idempotent, and all "
        "or nothing (a line that does not parse is reported with its number)."
    )
    async def import_profile(
        self,
        info: strawberry.Info[Context],
        input: Annotated[ImportProfileInput, _arg("The profile's text.")],
    ) -> ImportPayload:
        await require_write_scope(info.context)
        written = await imports.import_profile(info.context, input.to_spec())
        return ImportPayload.from_written(written)
