"""Request and response schemas for suggest and search."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Confidence = Literal["high", "medium", "low"]
# "lexical", a dense backend by name ("lsa", "e5", "sbert"; "dense" when unnamed) or "boost".
Channel = Literal["lexical", "lsa", "e5", "sbert", "dense", "boost"]


class SuggestRequest(BaseModel):
    """A ticket being typed: free text plus optional title, system and department."""

    text: str = Field(default="", description="Ticket description; long text is truncated.")
    title: str = ""
    system: str = Field(default="", max_length=100)
    department: str = Field(default="", max_length=100)
    k: int = Field(default=5, ge=1, le=50)
    settled: bool = Field(
        default=False,
        description="The writer paused: let a slow dense channel refine (otherwise it joins"
        " only when this query's vector is cached).",
    )


class HitEntry(BaseModel):
    id: int
    title: str
    symptom: str
    cause: str
    solution: str
    workaround: str
    system: str
    department: str
    tags: list[str]
    status: str


class Reason(BaseModel):
    """Why an entry matched: one item per channel that ranked it (and any boost)."""

    channel: Channel
    score: float
    rank: int | None = None
    terms: list[str] = []


class SourceRef(BaseModel):
    source: str
    external_id: str
    kind: str = "source"


class SearchHit(BaseModel):
    entry: HitEntry
    score: float
    confidence: Confidence
    reasons: list[Reason]
    snippet: str = Field(description="HTML-escaped text with <mark> highlights.")
    sources: list[SourceRef]


class SuggestResponse(BaseModel):
    data: list[SearchHit]
    took_ms: float
    confident: bool = Field(description="False when no hit is high or medium confidence.")
    log_id: str | None = Field(default=None, description="Search-log id for click reporting.")
    channels: list[str] = Field(
        default_factory=list, description="Channels that ranked these results."
    )
    refinable: bool = Field(
        default=False,
        description="A dense channel sat out to stay fast; ask again with settled=true to refine.",
    )


class SearchResponse(SuggestResponse):
    total: int
