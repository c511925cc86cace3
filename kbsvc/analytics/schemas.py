"""Report shapes returned by the API and the CLI (JSON), and flattened into tables for export."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

NO_DEPARTMENT = "未填写科室"
NO_SYSTEM = "未填写系统"
NO_CATEGORY = "未分类"
# What the effort chart measures; elapsed time is never called 工作量 (it counts queues and
# nights), only the helpdesk's recorded handling time is.
EFFORT_LABELS = {"handling": "处理工作量（工时）", "elapsed": "解决用时（自然时间）"}


class PeriodOut(BaseModel):
    from_: str | None = Field(default=None, alias="from", serialization_alias="from")
    to: str | None = None

    model_config = {"populate_by_name": True}


class Matrix(BaseModel):
    """Ticket counts, departments (rows) × systems (columns), both ordered by volume."""

    departments: list[str] = []
    systems: list[str] = []
    counts: list[list[int]] = []


class MonthCount(BaseModel):
    month: str
    count: int


class NameCount(BaseModel):
    name: str
    count: int


class SystemEffort(BaseModel):
    system: str
    tickets: int
    total_hours: float
    median_hours: float


class DemandReport(BaseModel):
    period: PeriodOut
    total: int
    matrix: Matrix
    by_month: list[MonthCount]
    by_category: list[NameCount]
    effort: list[SystemEffort]
    effort_basis: Literal["handling", "elapsed"] = "elapsed"
    effort_label: str = EFFORT_LABELS["elapsed"]
    effort_with_handling: int = 0  # tickets in the period with a handling time


class LinkMonth(BaseModel):
    month: str
    resolved: int
    linked: int
    link_rate: float | None
    new: int  # tickets that created an entry (source link)
    known: int  # tickets that reused an existing entry (cited link only)


class EntryReuse(BaseModel):
    entry_id: int
    title: str
    system: str
    status: str
    citations: int
    linked_tickets: int


class EntryBrief(BaseModel):
    entry_id: int
    title: str
    system: str
    created_at: datetime | None = None


class Feedback(BaseModel):
    helpful: int
    not_helpful: int
    ratio: float | None


class ReuseReport(BaseModel):
    period: PeriodOut
    resolved: int
    linked: int
    link_rate: float | None
    new: int
    known: int
    unlinked: int
    by_month: list[LinkMonth]
    top_entries: list[EntryReuse]
    never_reused_count: int
    never_reused: list[EntryBrief]
    feedback: Feedback | None = None


class QueryCluster(BaseModel):
    label: str  # the most frequent query of the topic
    terms: list[str]
    searches: int
    queries: list[str]


class TicketCluster(BaseModel):
    label: str
    terms: list[str]
    system: str
    ticket_ids: list[int]  # row ids, for the drill-down link only
    ticket_numbers: list[str] = []  # the helpdesk's ticket numbers, what people read
    best_similarity: float


class SystemCoverage(BaseModel):
    system: str
    tickets: int
    entries: int
    tickets_per_entry: float | None  # None: no published entry at all


class GapsReport(BaseModel):
    period: PeriodOut
    searches: int
    gap_searches: int
    confidence_threshold: float
    search_topics: list[QueryCluster]
    uncovered_tickets: int
    considered_tickets: int
    non_fault_tickets: int = 0  # unlinked non-faults left out (咨询, 需求 …)
    ticket_topics: list[TicketCluster]
    systems: list[SystemCoverage]


class HealthReport(BaseModel):
    period: PeriodOut
    total: int
    by_status: dict[str, int]
    overdue_reviews: int | None  # None: this installation has no review schedule
    overdue: list[EntryBrief]
    open_flags: int | None
    flagged: list[EntryBrief]
    published_never_reused: int


class DrillFilters(BaseModel):
    """What a report cell, bar or row counted: labels are the report's (canonical) names."""

    department: list[str] = []
    system: list[str] = []
    category: list[str] = []
    month: str | None = None  # YYYY-MM, local
    by: Literal["raised", "resolved"] = "raised"  # the clock: reported (demand) or resolved
    entry: int | None = None  # tickets linked to this entry
    ticket: list[int] = []  # explicit tickets (a 建议沉淀 topic)
    effort: bool = False  # only tickets the effort chart measured (with a time to count)


class DrillEntry(BaseModel):
    entry_id: int
    title: str
    status: str
    kind: str  # source | cited


class DrillTicket(BaseModel):
    id: int
    source: str
    external_id: str  # the helpdesk's ticket number
    title: str
    department: str
    system: str
    category: str
    opened_at: datetime | None
    resolved_at: datetime | None
    handling_minutes: int | None  # recorded working time, when the helpdesk gives it
    elapsed_hours: float | None  # resolved − opened (natural time)
    entries: list[DrillEntry]  # only entries the caller may see


class DrillDown(BaseModel):
    period: PeriodOut
    filters: DrillFilters
    total: int
    offset: int
    limit: int
    data: list[DrillTicket]


class EntryDrill(BaseModel):
    """Entries behind a health figure; only those the caller may see (counts are whole-KB)."""

    set: str
    label: str
    data: list[EntryBrief]
