"""Detect and mask patient identifiers in ticket text before it becomes knowledge.

Rules (each can be switched off in settings.privacy.enabled_kinds; sites add extra regexes):
name after 患者/病人/家属/患儿, 18-digit (checksum) and 15-digit 身份证号, mobile and landline
numbers, 住院号/门诊号/病案号/就诊卡号/ID号 followed by an identifier, bed numbers (12床).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlmodel import SQLModel

from kbsvc.config import PrivacySettings
from kbsvc.privacy.names import name_at

REPLACEMENTS = {
    "name": "【患者姓名】",
    "id_card": "【身份证号】",
    "phone": "【电话】",
    "bed": "【床号】",
}
TICKET_TEXT_FIELDS = ("title", "symptom", "description", "cause", "solution", "workaround")
# Short fields people also type into (a handler's mobile number, a patient named in a module
# field); masked like the text so the stored row agrees with its masked `raw` copy.
TICKET_META_FIELDS = ("handler", "department", "module", "category")

_NAME_TRIGGER = re.compile(r"(?:患者|病人|家属|患儿|病患)(?:姓名)?\s*[:：]?\s*|姓名\s*[:：]\s*")
_ID18 = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])"
    r"(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx](?![0-9A-Za-z])"
)
_ID15 = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{7}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}"
    r"(?![0-9A-Za-z])"
)
# After the word 身份证 any 15/18-digit number is masked, checksum or not (typos are still PII).
_ID_LABELLED = re.compile(
    r"身份证(?:号码|号)?\s*(?:是|为)?\s*[:：]?\s*(\d{17}[0-9Xx]|\d{15})"
    r"(?![0-9A-Za-z])"
)
_MOBILE = re.compile(r"(?<![0-9])(?:(?:\+|00)?86[-\s]?)?1[3-9]\d(?:[-\s]?\d{4}){2}(?![0-9])")
_LANDLINE = re.compile(
    r"(?<![0-9-])(?:\(0\d{2,3}\)|0\d{2,3}[-\s]?)\d{7,8}(?:-\d{1,5})?"
    r"(?![0-9])"
)
_RECORD = re.compile(
    r"(住院号|门诊号|病案号|病历号|就诊卡号|医保卡号|社保卡号|卡号|登记号|ID号|患者ID|病人ID)"
    r"\s*(?:是|为)?\s*[:：#＃]?\s*([A-Za-z0-9][A-Za-z0-9-]{3,})",
    re.IGNORECASE,
)
_BED = re.compile(r"(?<![0-9])加?\d{1,3}\s*号?\s*床位?|床号\s*[:：]?\s*加?\d{1,3}(?![0-9])")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


class PiiFinding(SQLModel):
    """One masked span: offsets into the original text of `field`."""

    kind: str
    field: str = ""
    start: int
    end: int
    replacement: str


class ScrubResult(SQLModel):
    text: str
    findings: list[PiiFinding]


def id_checksum_ok(number: str) -> bool:
    """GB 11643 check digit of an 18-digit resident ID."""
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == number[17].upper()


def _names(text: str) -> Iterator[tuple[int, int]]:
    for trig in _NAME_TRIGGER.finditer(text):
        name = name_at(text[trig.end() : trig.end() + 4])
        if name:
            yield trig.end(), trig.end() + len(name)


def _spans(text: str, kinds: set[str]) -> Iterator[tuple[str, int, int, str]]:
    """(kind, start, end, replacement) candidates, possibly overlapping."""
    if "id_card" in kinds:
        for m in _ID_LABELLED.finditer(text):
            yield "id_card", m.start(1), m.end(1), REPLACEMENTS["id_card"]
        for m in _ID18.finditer(text):
            if id_checksum_ok(m.group()):
                yield "id_card", m.start(), m.end(), REPLACEMENTS["id_card"]
        for m in _ID15.finditer(text):
            yield "id_card", m.start(), m.end(), REPLACEMENTS["id_card"]
    if "record_no" in kinds:
        for m in _RECORD.finditer(text):
            label = m.group(1).upper() if m.group(1).isascii() else m.group(1)
            label = "ID号" if label.upper().endswith("ID") else label
            yield "record_no", m.start(2), m.end(2), f"【{label}】"
    if "phone" in kinds:
        for rx in (_MOBILE, _LANDLINE):
            for m in rx.finditer(text):
                yield "phone", m.start(), m.end(), REPLACEMENTS["phone"]
    if "bed" in kinds:
        for m in _BED.finditer(text):
            yield "bed", m.start(), m.end(), REPLACEMENTS["bed"]
    if "name" in kinds:
        for start, end in _names(text):
            yield "name", start, end, REPLACEMENTS["name"]


def scrub_text(text: str, settings: PrivacySettings, field: str = "") -> ScrubResult:
    """Masked text and what was masked (offsets refer to the original text)."""
    if not text:
        return ScrubResult(text=text or "", findings=[])
    masked, spans = _mask(text, settings)
    findings = [
        PiiFinding(kind=kind, field=field, start=start, end=end, replacement=replacement)
        for kind, start, end, replacement in spans
    ]
    return ScrubResult(text=masked, findings=findings)


def _mask(text: str, settings: PrivacySettings) -> tuple[str, list[tuple[str, int, int, str]]]:
    """Masked text and the spans it replaced, as plain tuples (imports mask 100k rows)."""
    cfg = settings
    spans = list(_spans(text, set(cfg.enabled_kinds)))
    for extra in cfg.extra_patterns:
        for m in re.finditer(extra.pattern, text):
            if m.end() > m.start():
                spans.append((extra.kind, m.start(), m.end(), extra.replacement))
    # Earliest first, longest first at the same start; overlapping later spans are dropped.
    spans.sort(key=lambda s: (s[1], -(s[2] - s[1])))
    kept: list[tuple[str, int, int, str]] = []
    out, pos = [], 0
    for span in spans:
        _kind, start, end, replacement = span
        if start < pos:
            continue
        out.append(text[pos:start])
        out.append(replacement)
        kept.append(span)
        pos = end
    out.append(text[pos:])
    return "".join(out), kept


# Every built-in rule needs a digit or one of these words; text without any is left as it is.
_MAYBE_PII = re.compile(r"\d|号|床|患|病|家属|姓名")


def mask_texts(texts: Sequence[str], settings: PrivacySettings) -> dict[str, tuple[str, int]]:
    """Each distinct text → (masked text, identifiers found), for a batch: one pass of a cheap
    regex over all of them finds the few that can hold an identifier, and only those run every
    rule (imports mask 100k rows)."""
    unique = list(dict.fromkeys(t for t in texts if t))
    if settings.extra_patterns:
        maybe = set(range(len(unique)))  # a site's own pattern may match anything
    else:
        starts, pos = [], 0
        for text in unique:
            starts.append(pos)
            pos += len(text) + 1
        joined = "\x00".join(unique)
        maybe = {bisect_right(starts, m.start()) - 1 for m in _MAYBE_PII.finditer(joined)}
    done: dict[str, tuple[str, int]] = {"": ("", 0)}
    for i, text in enumerate(unique):
        if i in maybe:
            masked, spans = _mask(text, settings)
            done[text] = (masked, len(spans))
        else:
            done[text] = (text, 0)
    return done


def scrub_ticket_dicts(
    dumped: Sequence[dict[str, Any]], settings: PrivacySettings
) -> list[tuple[dict[str, Any], int]]:
    """scrub_ticket_in over ticket fields given as dicts (a TicketIn's model_dump), unvalidated:
    (masked copy, identifiers found). With keep_raw_ticket_text the copy is unmasked."""
    return _mask_dicts(dumped, settings, keep=settings.keep_raw_ticket_text)


def mask_field_dicts(
    dumped: Sequence[Mapping[str, Any]], settings: PrivacySettings
) -> list[dict[str, Any]]:
    """scrub_ticket_fields over a batch, without the findings (a bulk import's prefilled
    entries): the masked copies, whatever keep_raw_ticket_text says (drafts are masked)."""
    return [fields for fields, _found in _mask_dicts(dumped, settings, keep=False)]


def _mask_dicts(
    dumped: Sequence[Mapping[str, Any]], settings: PrivacySettings, *, keep: bool
) -> list[tuple[dict[str, Any], int]]:
    """Each dict's ticket fields, tags (and raw row unless `keep`) masked in one pass over the
    batch's distinct texts: (copy, identifiers found); with `keep` the copy is unmasked."""
    names = (*TICKET_TEXT_FIELDS, *TICKET_META_FIELDS)
    texts: list[str] = []
    for fields in dumped:
        texts += [v for n in names if isinstance(v := fields.get(n), str) and v]
        texts += [t for t in fields.get("tags") or [] if isinstance(t, str)]
        if not keep and isinstance(fields.get("raw"), dict):
            texts += [v for v in fields["raw"].values() if isinstance(v, str)]
    masked = mask_texts(texts, settings)
    out: list[tuple[dict[str, Any], int]] = []
    for source in dumped:
        fields = dict(source)
        found = 0
        for name in names:
            value = fields.get(name)
            if isinstance(value, str) and value:
                text, n = masked[value]
                found += n
                if not keep:
                    fields[name] = text
        if isinstance(fields.get("tags"), list):
            tags = []
            for tag in fields["tags"]:
                if isinstance(tag, str) and tag:
                    text, n = masked[tag]
                    found += n
                    tag = tag if keep else text
                tags.append(tag)
            fields["tags"] = tags
        if not keep and isinstance(fields.get("raw"), dict):
            fields["raw"] = {
                k: masked[v][0] if isinstance(v, str) and v else v for k, v in fields["raw"].items()
            }
        out.append((fields, found))
    return out


def scrub_ticket_fields(
    fields: Mapping[str, Any],
    settings: PrivacySettings,
    text_fields: tuple[str, ...] = TICKET_TEXT_FIELDS,
) -> tuple[dict[str, Any], list[PiiFinding]]:
    """Mask the free-text fields, the short typed fields and the tags of a ticket (or capture
    draft); other fields pass through."""
    masked = dict(fields)
    findings: list[PiiFinding] = []
    for name in (*text_fields, *TICKET_META_FIELDS):
        value = masked.get(name)
        if isinstance(value, str) and value:
            result = scrub_text(value, settings, field=name)
            masked[name] = result.text
            findings.extend(result.findings)
    if isinstance(masked.get("tags"), list):
        tags = []
        for tag in masked["tags"]:
            if isinstance(tag, str):
                scrubbed = scrub_text(tag, settings, field="tags")
                tag = scrubbed.text
                findings.extend(scrubbed.findings)
            tags.append(tag)
        masked["tags"] = tags
    return masked, findings


def scrub_raw(raw: Mapping[str, Any], settings: PrivacySettings) -> dict[str, Any]:
    """Mask every string value of an intake row (used when keep_raw_ticket_text is off)."""
    return {k: scrub_text(v, settings).text if isinstance(v, str) else v for k, v in raw.items()}


def scrub_ticket_in(item: Any, settings: PrivacySettings) -> tuple[Any, list[PiiFinding]]:
    """Prepare a TicketIn-like object for storage at import.

    With privacy.keep_raw_ticket_text off (the default) the stored ticket, raw row included,
    holds only masked text; with it on the ticket is stored as given (drafts are still masked
    at capture) and the findings only report what is there.
    """
    cfg = settings
    fields, findings = scrub_ticket_fields(item.model_dump(), cfg)
    if cfg.keep_raw_ticket_text:
        return item, findings
    if isinstance(fields.get("raw"), dict):
        fields["raw"] = scrub_raw(fields["raw"], cfg)
    return type(item).model_validate(fields), findings
