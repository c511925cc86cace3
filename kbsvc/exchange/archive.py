"""Reading and writing exchange zips: manifest + JSON lines, checked before anything is stored."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ValidationError

from kbsvc.exceptions import TooLarge, ValidationFailed
from kbsvc.exchange.models import (
    ENTRIES,
    FILES_DIR,
    FORMAT,
    MANIFEST,
    VOCABULARY,
    ExchangeEntry,
    ExchangeManifest,
    ExchangeVocab,
)


def _jsonl(rows: Iterable[BaseModel]) -> bytes:
    return "".join(r.model_dump_json() + "\n" for r in rows).encode("utf-8")


def write(
    manifest: ExchangeManifest,
    entries: list[ExchangeEntry],
    vocab: list[ExchangeVocab],
    files: dict[str, bytes] | None = None,
) -> bytes:
    """The zip file's bytes; the manifest (with member checksums) is written last."""
    members = {ENTRIES: _jsonl(entries), VOCABULARY: _jsonl(vocab), **(files or {})}
    manifest.sha256 = {name: hashlib.sha256(data).hexdigest() for name, data in members.items()}
    manifest.entries, manifest.vocabulary = len(entries), len(vocab)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        zf.writestr(MANIFEST, manifest.model_dump_json(indent=2))
    return buf.getvalue()


def _lines(name: str, data: bytes, model: type[BaseModel], limit: int) -> list[Any]:
    out: list[Any] = []
    for n, line in enumerate(data.decode("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        if len(out) >= limit:
            raise TooLarge(f"{name} has more than {limit} records", max_records=limit)
        try:
            out.append(model.model_validate_json(line))
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err.get("loc", ()))
            raise ValidationFailed(
                f"{name} line {n}: {where or 'record'}: {err.get('msg')}", file=name, line=n
            ) from None
    return out


def read(
    data: bytes, *, max_unpacked: int, max_entries: int
) -> tuple[ExchangeManifest, list[ExchangeEntry], list[ExchangeVocab], dict[str, bytes]]:
    """Validate an exchange zip completely; raises with the first problem found."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ValidationFailed("not a zip file (expected a kbsvc exchange file)") from None
    with zf:
        infos = {i.filename: i for i in zf.infolist()}
        unknown = [n for n in infos if n not in (MANIFEST, ENTRIES, VOCABULARY)]
        unknown = [n for n in unknown if not n.startswith(FILES_DIR)]
        if unknown or MANIFEST not in infos or ENTRIES not in infos:
            raise ValidationFailed(
                f"not a {FORMAT} file: needs {MANIFEST} and {ENTRIES}", unexpected=unknown[:10]
            )
        if sum(i.file_size for i in infos.values()) > max_unpacked:
            raise TooLarge(f"the file unpacks to more than {max_unpacked} bytes")
        try:
            manifest = ExchangeManifest.model_validate_json(zf.read(MANIFEST))
        except ValidationError as exc:
            raise ValidationFailed(f"{MANIFEST}: {exc.errors()[0].get('msg')}") from None
        if manifest.format != FORMAT:
            raise ValidationFailed(f"unsupported format {manifest.format!r}; expected {FORMAT}")
        members = {n: zf.read(n) for n in (ENTRIES, VOCABULARY) if n in infos}
        files = {n: zf.read(n) for n in infos if n.startswith(FILES_DIR) and not n.endswith("/")}
    for name, blob in {**members, **files}.items():
        want = manifest.sha256.get(name)
        if want and hashlib.sha256(blob).hexdigest() != want:
            raise ValidationFailed(f"{name} does not match its checksum (damaged transfer?)")
    entries = _lines(ENTRIES, members[ENTRIES], ExchangeEntry, max_entries)
    vocab = _lines(VOCABULARY, members.get(VOCABULARY, b""), ExchangeVocab, 100_000)
    for row in entries:
        if missing := [f for f in row.files if f not in files]:
            raise ValidationFailed(f"{ENTRIES}: files named but not in the zip: {missing[:5]}")
    return manifest, entries, vocab, files
