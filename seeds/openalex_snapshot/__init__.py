"""An OpenAlex snapshot folder, imported as published: manifests, parts in order of date,
merged ids, and a record of the parts done so that a rerun resumes."""

from seeds.openalex_snapshot.layout import Part, SnapshotError
from seeds.openalex_snapshot.load import RecordCountError, SnapshotSummary, import_snapshot

__all__ = ["Part", "RecordCountError", "SnapshotError", "SnapshotSummary", "import_snapshot"]
