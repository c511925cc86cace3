"""What the indexer knows about an entry: its text fields, filters and linked tickets' text."""

from __future__ import annotations

from dataclasses import dataclass, field

from indexer.fields import DocMeta

TEXT_FIELDS = ("title", "symptom", "cause", "solution", "workaround")


@dataclass
class EntryDoc:
    """An entry flattened for indexing (built from the database or from bench data)."""

    id: int
    title: str = ""
    symptom: str = ""
    cause: str = ""
    solution: str = ""
    workaround: str = ""
    system: str = ""
    module: str = ""
    department: str = ""
    category: str = ""
    tags: tuple[str, ...] = ()
    status: str = "published"
    # Text of tickets linked to the entry (source and cited): the words requesters really use.
    ticket_texts: list[str] = field(default_factory=list)
    sources: list[tuple[str, str]] = field(default_factory=list)
    # Text recognised in the entry's attached screenshots (already PII-masked).
    ocr_texts: list[str] = field(default_factory=list)

    def fields(self, *, learn_from_use: bool = True) -> dict[str, str]:
        """Named text fields for the lexical analyzer."""
        out = {name: getattr(self, name) for name in TEXT_FIELDS}
        out["meta"] = " ".join([self.system, self.module, self.category, *self.tags])
        if learn_from_use and self.ticket_texts:
            out["tickets"] = "\n".join(self.ticket_texts)
        if self.ocr_texts:
            out["ocr"] = "\n".join(self.ocr_texts)
        return out

    def passage(self, *, learn_from_use: bool = True, limit: int = 2000) -> str:
        """One text for the dense channel (symptom-side first, truncated)."""
        parts = [self.title, self.symptom, self.system, self.module, self.cause, self.solution]
        if learn_from_use:
            parts.extend(self.ticket_texts)
        return "\n".join(p for p in parts if p)[:limit]

    def meta(self) -> DocMeta:
        return DocMeta(self.system, self.department, self.status, tuple(self.tags))
