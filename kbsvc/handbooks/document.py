"""The renderer-neutral handbook: cover, changes, numbered chapters, sections and entries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kbsvc.handbooks.models import EditionChanges, Grouping

UNGROUPED = {"system": "其他系统", "module": "其他模块", "category": "其他"}
# Grouping keys, outermost first; the first two become chapters and sections.
LEVELS = {
    Grouping.system_module: ("system", "module", "category"),
    Grouping.category: ("system", "category", "module"),
    Grouping.cause_category: ("category", "system", "module"),
}
_CATCH_ALL = {"其他", "其它", "通用", *UNGROUPED.values()}


@dataclass
class DocEntry:
    number: str  # "1.2.3"
    data: dict[str, Any]  # a selection.snapshot() dict
    url: str
    # The entry's live images (kbsvc.attachments.service.ExportImage), filled by the service.
    images: list[Any] = field(default_factory=list)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["data"][name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass
class Section:
    number: str  # "1.2"
    title: str
    entries: list[DocEntry] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return "sec-" + self.number.replace(".", "-")


@dataclass
class Chapter:
    number: int
    title: str
    sections: list[Section] = field(default_factory=list)
    note: str = ""  # the trainer's Markdown note under the chapter heading

    @property
    def anchor(self) -> str:
        return f"ch-{self.number}"

    @property
    def label(self) -> str:
        return f"第{self.number}章"

    @property
    def entry_count(self) -> int:
        return sum(len(s.entries) for s in self.sections)


@dataclass
class HandbookDoc:
    title: str
    subtitle: str
    intro: str
    grouping: Grouping
    generated_at: datetime
    chapters: list[Chapter]
    levels: tuple[str, str] = ("system", "module")  # what chapters and sections group by
    edition: int | None = None  # None: a live (unfrozen) rendering
    changes: EditionChanges | None = None  # shown from edition 2 on
    base_url: str = ""
    author: str = ""  # the site's name (DOCX/PDF author)

    @property
    def entries(self) -> list[DocEntry]:
        return [e for c in self.chapters for s in c.sections for e in s.entries]

    @property
    def entry_count(self) -> int:
        return sum(c.entry_count for c in self.chapters)

    @property
    def show_changes(self) -> bool:
        return self.changes is not None and (self.edition or 0) >= 2

    @property
    def grouping_label(self) -> str:
        names = {"system": "系统", "module": "模块", "category": "故障类别"}
        return "按" + " → ".join(names[k] for k in self.levels)

    @property
    def edition_label(self) -> str:
        return f"第{self.edition}版" if self.edition else "即时版（未定版）"


def entry_url(base_url: str, entry_id: int) -> str:
    """Link to the live entry in the web UI."""
    return f"{base_url.rstrip('/')}/entries/{entry_id}"


def arrange(entries: list[dict[str, Any]], order: list[int]) -> list[dict[str, Any]]:
    """Entries named in the trainer's `order` first, in that order; the rest keep theirs."""
    pos = {entry_id: n for n, entry_id in enumerate(order)}
    listed = sorted((e for e in entries if int(e["id"]) in pos), key=lambda e: pos[int(e["id"])])
    return listed + [e for e in entries if int(e["id"]) not in pos]


def build(
    entries: list[dict[str, Any]],
    *,
    title: str,
    subtitle: str = "",
    intro: str = "",
    grouping: Grouping = Grouping.system_module,
    base_url: str,
    generated_at: datetime,
    edition: int | None = None,
    changes: EditionChanges | None = None,
    order: list[int] | None = None,
    chapter_notes: dict[str, str] | None = None,
    author: str = "",
) -> HandbookDoc:
    """Group ordered entry snapshots into numbered chapters and sections: the one arrangement
    that the preview and every export format share.

    Without a manual `order`, groups are ordered by size (largest first; ties: the group holding
    the more reused entry; catch-all groups last) so the common faults open the book, and inside
    a section the incoming order (most reused first) is kept. With one, the trainer's order
    decides everything: a group comes where its first entry does.
    A level every entry shares (a handbook on HIS alone) would make one lonely chapter, so it
    is skipped and the next level moves up.
    """
    grouping = Grouping(grouping)  # rows loaded from the database carry a plain str
    manual = bool(order)
    entries = arrange(entries, order or [])
    levels: tuple[str, ...] = LEVELS[grouping]
    if len({e.get(levels[0]) or "" for e in entries}) == 1:
        levels = levels[1:]
    chapter_key, section_key = levels[0], levels[1]
    tree: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for data in entries:
        ch = data.get(chapter_key) or UNGROUPED[chapter_key]
        sec = data.get(section_key) or UNGROUPED[section_key]
        tree.setdefault(ch, {}).setdefault(sec, []).append(data)

    rank = {id(e): i for i, e in enumerate(entries)}

    def size(groups: dict[str, list[dict[str, Any]]]) -> int:
        return sum(len(v) for v in groups.values())

    def best(groups: dict[str, list[dict[str, Any]]]) -> int:
        return min(rank[id(v[0])] for v in groups.values())

    def group_key(name: str, groups: dict[str, list[dict[str, Any]]]) -> tuple[Any, ...]:
        if manual:
            return (best(groups),)
        return (name in _CATCH_ALL, -size(groups), best(groups))

    chapters = []
    notes = chapter_notes or {}
    ch_order = sorted(tree, key=lambda k: group_key(k, tree[k]))
    for ci, ch_title in enumerate(ch_order, start=1):
        chapter = Chapter(number=ci, title=ch_title, note=notes.get(ch_title, ""))
        sections = tree[ch_title]
        sec_order = sorted(sections, key=lambda k: group_key(k, {k: sections[k]}))
        for si, sec_title in enumerate(sec_order, start=1):
            section = Section(number=f"{ci}.{si}", title=sec_title)
            for ei, data in enumerate(sections[sec_title], start=1):
                section.entries.append(
                    DocEntry(
                        number=f"{ci}.{si}.{ei}",
                        data=data,
                        url=entry_url(base_url, int(data["id"])),
                    )
                )
            chapter.sections.append(section)
        chapters.append(chapter)
    return HandbookDoc(
        title=title,
        subtitle=subtitle,
        intro=intro,
        grouping=grouping,
        generated_at=generated_at,
        chapters=chapters,
        levels=(chapter_key, section_key),
        edition=edition,
        changes=changes,
        base_url=base_url,
        author=author,
    )
