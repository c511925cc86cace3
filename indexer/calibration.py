"""Confidence fitted to the KB being served (or the shipped prior), saved beside its index."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from indexer.calibration_evidence import collect, probes_from_links, unrelated_queries
from indexer.calibration_model import Calibration, fit
from indexer.confidence_features import FEATURES
from indexer.docs import EntryDoc
from indexer.errors import IndexStoreError
from indexer.lexical import LexicalIndex
from indexer.manifest import commit, open_part, read_json_file, write_atomic
from indexer.retriever import Retriever

MIN_EVIDENCE = 30  # answerable queries below which the shipped prior is used
FOLDER = "calibration"  # a part of the saved index: manifest.json + MODEL
MODEL = "model.json"
KIND = "confidence-calibration"
FORMAT_VERSION = 2  # 2: near duplicates count as one (margin, agreement, near-miss evidence)


def prior(key: str) -> Calibration:
    """The shipped calibration for a channel configuration (fitted on the demo KB by bench)."""
    path = resources.files("indexer") / "data" / "confidence_prior.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    models = data["models"]
    cal = Calibration.from_json(models.get(key) or models["lexical"])
    return dataclasses.replace(cal, source="prior")


def calibrate(r: Retriever, docs: Sequence[EntryDoc], key: str) -> Calibration:
    """Fit on the KB's own evidence, or the shipped prior when it has too little.

    Runs on a lexical copy sharing `r`'s vectors (the leave-one-out edits only the copy), so
    it can run beside searches on the live retriever.
    """
    published = [d for d in docs if d.status == "published"]
    probes = probes_from_links(published, unrelated_queries())
    if sum(1 for p in probes if not p.hide) < MIN_EVIDENCE:
        return prior(key)
    # `r`'s own terms, not a second analysis of every entry (as long as the rest of a large
    # rebuild): a clone of its index holding exactly the published entries.
    lexical = r.lexical.clone()
    keep = {d.id for d in published}
    lexical.remove([i for i in lexical.ids if i not in keep])
    learn = r.config.learn_from_use
    for d in published:
        if d.id not in lexical:  # written since `r` was built (a loaded index catching up)
            lexical.add(d.id, r.analyzer.weighted(d.fields(learn_from_use=learn)), d.meta())
    r = _with_lexical(r, lexical)
    docs = published
    ev = collect(r, docs, probes)
    if sum(ev.answerable) < MIN_EVIDENCE or len(set(ev.y.tolist())) < 2:
        return prior(key)
    return fit(ev, key)


def _with_lexical(r: Retriever, lexical: LexicalIndex) -> Retriever:
    """`r`'s channels over another lexical index (the leave-one-out edits only that one)."""
    out = Retriever(r.analyzer, r.embedder, r.config, r.vectors, name=r.name, extra=r.extra)
    out.lexical = lexical
    return out


def save(cal: Calibration, directory: Path, version: str) -> None:
    """Write the calibration beside the index it was fitted on, as a part under the one
    manifest schema (indexer/manifest.py): the model file first, its manifest last."""
    folder = directory / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(cal.to_json(), ensure_ascii=False, indent=1)
    write_atomic(folder / MODEL, text.encode("utf-8"))
    commit(
        folder,
        kind=KIND,
        format_version=FORMAT_VERSION,
        version=version,
        files={"model": MODEL},
        params={"key": cal.key, "source": cal.source, "features": list(FEATURES)},
    )
    (directory / "calibration.json").unlink(missing_ok=True)  # the layout before the manifest


def load(directory: Path, key: str) -> Calibration | None:
    """The saved calibration for this channel configuration (None: missing, damaged, fitted
    for other channels or on other features)."""
    try:
        manifest, paths = open_part(directory / FOLDER, kind=KIND, format_version=FORMAT_VERSION)
        manifest.expect(key=key, features=list(FEATURES))
        return Calibration.from_json(read_json_file(paths["model"]))
    except (IndexStoreError, ValueError, TypeError):
        return None
