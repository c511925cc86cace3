"""Confidence fitted to the KB being served, from the KB's own evidence.

Evidence: each ticket linked to an entry is a query whose right answer is known. Asked with
every linked ticket's words removed from the entry, in the lexical and the dense channels
alike (leave-one-out), it gives a positive (the entry) and negatives (the other hits); asked
with the entry and its near duplicates (`indexer.neardup`) out of every channel it is a
no-answer query, a near miss by construction;
unrelated text gives more no-answers. A logistic model over
`confidence_features.FEATURES` turns a hit into a probability; the operating point is read
from out-of-fold predictions (`operating_point`).
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np

from embeddings.base import Embedder
from indexer.confidence_features import FEATURES, hit_features
from indexer.docs import EntryDoc
from indexer.errors import IndexStoreError
from indexer.fields import Filters
from indexer.lexical import LexicalIndex
from indexer.manifest import commit, open_part, read_json_file, write_atomic
from indexer.neardup import near_duplicates
from indexer.overlay import Overlay
from indexer.retriever import DenseChannel, Hit, Retriever
from indexer.vector import VectorIndex

Band = Literal["high", "medium", "low"]
RIGHT_CONFIDENT = 0.90  # share of right top hits that must show as confident
NO_ANSWER_HIGH = 0.05  # share of no-answer queries allowed a high top hit
NO_ANSWER_CONFIDENT = 0.5  # quantile of near misses that bounds `medium` from above
HIGH_AS_RIGHT = 0.5  # quantile of right answers that bounds `high` from below
MIN_EVIDENCE = 30  # answerable queries below which the shipped prior is used
MAX_QUERIES = 400  # evidence queries per fit (the fit runs at reindex, inside its budget)
K = 5
FOLDER = "calibration"  # a part of the saved index: manifest.json + MODEL
MODEL = "model.json"
KIND = "confidence-calibration"
FORMAT_VERSION = 2  # 2: near duplicates count as one (margin, agreement, near-miss evidence)
PUBLISHED = Filters(status="published")


@dataclass(frozen=True)
class Probe:
    """One evidence query: its text and the entry that answers it (None: nothing does)."""

    query: str
    entry_id: int | None
    own_text: str = ""  # the ticket's own text, removed from the entry while it is asked
    hide: bool = False  # ask with the entry hidden: a near-miss no-answer query


_COVERAGE = FEATURES.index("coverage")
_BIGRAMS = FEATURES.index("bigram_coverage")


@dataclass
class Evidence:
    x: np.ndarray  # (n hits, features)
    y: np.ndarray  # 1 = the hit answers its query
    group: np.ndarray  # query index of each hit
    answerable: list[bool] = field(default_factory=list)  # per query


@dataclass
class Calibration:
    """A fitted (or prior) logistic model plus its operating point."""

    key: str
    mean: list[float]
    scale: list[float]
    coef: list[float]
    intercept: float
    high: float
    medium: float
    source: str = "fitted"  # fitted | prior
    report: dict[str, Any] = field(default_factory=dict)
    features: list[str] = field(default_factory=lambda: list(FEATURES))

    def prob(self, x: np.ndarray) -> np.ndarray:
        z = (x - np.asarray(self.mean)) / np.asarray(self.scale)
        out: np.ndarray = 1.0 / (1.0 + np.exp(-(z @ np.asarray(self.coef) + self.intercept)))
        return out

    def band(self, p: float) -> Band:
        return "high" if p >= self.high else "medium" if p >= self.medium else "low"

    def rate(self, r: Retriever, query: str, hits: Sequence[Hit]) -> list[tuple[float, Band]]:
        """(probability, band) per hit."""
        if not hits:
            return []
        x = hit_features(r, query, hits)
        probs = self.prob(x)
        # A hit sharing no word and no character bigram with the query is a dense channel's
        # guess alone (LSA fitted on a small KB maps unseen text anywhere): shown, never
        # confident. Capped just under the medium threshold so band and probability agree.
        blind = (x[:, _COVERAGE] == 0) & (x[:, _BIGRAMS] == 0)
        probs = np.where(blind, np.minimum(probs, np.nextafter(self.medium, 0.0)), probs)
        return [(float(p), self.band(float(p))) for p in probs]

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Calibration:
        names = {f.name for f in dataclasses.fields(cls)}
        cal = cls(**{k: v for k, v in data.items() if k in names})
        if list(cal.features) != list(FEATURES):
            raise ValueError("calibration was fitted on other features")
        return cal


def probes_from_links(
    docs: Sequence[EntryDoc], unrelated: Sequence[str] = (), limit: int = MAX_QUERIES
) -> list[Probe]:
    """Linked tickets asked with their entry (leave-one-out) and with it hidden, plus
    unrelated text; at most `limit` linked-ticket queries, spread evenly over the KB.

    The ticket an entry was written from (same title) is asked only with its entry hidden:
    asked for its entry it would be the entry's own words, evidence of nothing.
    """
    pairs = [(d, t) for d in docs for t in d.ticket_texts]
    step = max(1, -(-len(pairs) // max(1, limit // 2)))
    out = []
    for doc, text in pairs[::step]:
        query = "\n".join(text.splitlines()[:2])
        if text.splitlines()[0].strip() != doc.title.strip():
            out.append(Probe(query, doc.id, text))
        out.append(Probe(query, doc.id, hide=True))
    return out + [Probe(u, None) for u in unrelated]


def unrelated_queries() -> list[str]:
    """Shipped text that no hospital-IT entry answers (cafeteria, parking, HR, weather …)."""
    text = (resources.files("indexer") / "data" / "unrelated_queries.txt").read_text("utf-8")
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


def _sharing_lexical(r: Retriever, channels: dict[str, tuple[Embedder, VectorIndex]]) -> Retriever:
    """A retriever over these dense channels that shares `r`'s lexical index (the caller's
    own copy, edited per probe)."""
    primary = channels.get(r.name)
    extra = {n: DenseChannel(e, v) for n, (e, v) in channels.items() if n != r.name}
    out = Retriever(
        r.analyzer,
        primary[0] if primary else None,
        r.config,
        primary[1] if primary else None,
        name=r.name,
        extra=extra,
    )
    out.lexical = r.lexical
    return out


def _overlaid(r: Retriever) -> tuple[Retriever, dict[str, tuple[Embedder, Overlay]]]:
    """A lexical copy of `r` whose dense channels are overlays of `r`'s (shared, unchanged)."""
    lays = {name: (emb, Overlay(vecs)) for name, (emb, vecs) in r.dense_channels().items()}
    views = {n: (e, cast(VectorIndex, o)) for n, (e, o) in lays.items()}
    return _sharing_lexical(r, views), lays


def _unseen(r: Retriever, docs: Sequence[EntryDoc], probes: Sequence[Probe]) -> Retriever:
    """`r` with each corpus-fitted dense channel (LSA) refitted on the KB without the text of
    the tickets asked as probes: a staff query is text the model never saw, and a ticket it
    was fitted on lands beside its entry by construction (the evidence would overrate it)."""
    channels = r.dense_channels()
    if not any(emb.needs_fit for emb, _ in channels.values()):
        return r
    asked = {p.query for p in probes}
    learn = r.config.learn_from_use
    blind = [
        dataclasses.replace(
            d,
            ticket_texts=[t for t in d.ticket_texts if "\n".join(t.splitlines()[:2]) not in asked],
        )
        for d in docs
    ]
    passages = [d.passage(learn_from_use=learn) for d in blind]
    out: dict[str, tuple[Embedder, VectorIndex]] = {}
    for name, (emb, vecs) in channels.items():
        if emb.needs_fit and len(passages) >= 2:
            emb = copy.copy(emb)  # fitting installs new arrays: the served model is untouched
            fitted = emb.fit_encode(passages)  # one n-gram pass, not one to fit and one to embed
            vecs = VectorIndex(emb.dim, emb.model_id, ann_threshold=len(docs) + 1)
            vecs.add([d.id for d in docs], fitted)
        out[name] = (emb, vecs)
    return _sharing_lexical(r, out)


def _own_vectors(
    lays: dict[str, tuple[Embedder, Overlay]], docs: Sequence[EntryDoc]
) -> dict[str, dict[int, np.ndarray]]:
    """Per dense channel, each probed entry embedded from its own text (no linked tickets)."""
    out: dict[str, dict[int, np.ndarray]] = {}
    texts = [dataclasses.replace(d, ticket_texts=[]).passage() for d in docs]
    for name, (emb, _lay) in lays.items():
        if texts:
            vecs = emb.encode(texts, kind="passage")
            out[name] = {d.id: vecs[i] for i, d in enumerate(docs)}
    return out


def collect(r: Retriever, docs: Sequence[EntryDoc], probes: Sequence[Probe]) -> Evidence:
    """Run every probe on a copy of `r` (its lexical index must be the copy's own); hits are
    labelled against the probe's entry."""
    r, lays = _overlaid(_unseen(r, docs, probes)) if r.dense_channels() else (r, {})
    by_id = {d.id: d for d in docs}
    probed = {p.entry_id for p in probes if not p.hide and p.entry_id in by_id}
    own = _own_vectors(lays, [by_id[i] for i in sorted(i for i in probed if i is not None)])
    xs: list[np.ndarray] = []
    ys: list[int] = []
    gs: list[int] = []
    answerable: list[bool] = []
    learn = r.config.learn_from_use
    # An entry's near duplicates answer its tickets too: they leave with it when it is
    # hidden (else a near miss would be a right answer), and are no wrong answer beside it.
    ids = {p.entry_id for p in probes if p.entry_id in by_id}
    copies = {i: near_duplicates(r.lexical, i) & by_id.keys() for i in ids if i is not None}
    for p in probes:
        doc = by_id.get(p.entry_id) if p.entry_id is not None else None
        group = copies.get(doc.id, set()) if doc is not None else set()
        trimmed = doc is not None and not p.hide and p.own_text in doc.ticket_texts
        if trimmed and doc is not None:
            # Every linked ticket's words go, not just the probe's: a family's tickets are
            # near-paraphrases, and staff queries are worded unlike any of them. The dense
            # channels see the entry embedded from its own text too (an overlay).
            one = dataclasses.replace(doc, ticket_texts=[])
            r.lexical.add(doc.id, r.analyzer.weighted(one.fields(learn_from_use=learn)), one.meta())
            for name, (_emb, lay) in lays.items():
                lay.replace(doc.id, own[name][doc.id])
        hidden = p.hide and doc is not None
        gone = [doc.id, *sorted(group)] if hidden and doc is not None else []
        if gone:
            # Out of every channel, not just out of the list: the rest rank as they would
            # if the KB had never had it (rank 1 in a channel stays evidence of an answer).
            r.lexical.remove(gone)
            for _emb, lay in lays.values():
                for i in gone:
                    lay.hide(i)
        try:
            hits = r.search(p.query, K + 1, PUBLISHED).hits
            if p.hide or doc is None:
                hits = [h for h in hits if h.id != p.entry_id]
            hits = hits[:K]
            # Features too are read while the entry is trimmed: its coverage of the query
            # must not count the words just taken out.
            x = hit_features(r, p.query, hits) if hits else None
        finally:
            back = [doc] if (trimmed or hidden) and doc is not None else []
            for d in back + [by_id[i] for i in gone[1:]]:
                r.lexical.add(d.id, r.analyzer.weighted(d.fields(learn_from_use=learn)), d.meta())
            for _emb, lay in lays.values():
                lay.clear()
        if x is None:
            continue
        answer = None if p.hide else p.entry_id
        keep = [i for i, h in enumerate(hits) if h.id not in group]  # a copy is no wrong answer
        xs.append(x[keep])
        ys += [1 if hits[i].id == answer else 0 for i in keep]
        gs += [len(answerable)] * len(keep)
        answerable.append(answer is not None)
    x = np.vstack(xs) if xs else np.zeros((0, len(FEATURES)))
    return Evidence(x, np.asarray(ys), np.asarray(gs), answerable)


def _fit_lr(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    model = LogisticRegression(C=0.1, class_weight="balanced", max_iter=1000)
    model.fit((x - mean) / scale, y)
    return mean, scale, model.coef_[0], float(model.intercept_[0])


def _tops(ev: Evidence, probs: np.ndarray) -> tuple[list[float], list[float]]:
    """Top-hit probabilities of answerable queries answered right, and of no-answer queries."""
    right, none = [], []
    for g, ok in enumerate(ev.answerable):
        idx = np.flatnonzero(ev.group == g)
        if not len(idx):
            continue
        first = idx[0]
        if ok and ev.y[first] == 1:
            right.append(float(probs[first]))
        elif not ok:
            none.append(float(probs[first]))
    return right, none


def operating_point(right: list[float], none: list[float]) -> tuple[float, float]:
    """(high, medium) from out-of-fold top-hit probabilities of right answers and no-answers.

    Evidence is cleaner than what staff type: a linked ticket is worded like its family, and
    the two kinds separate almost perfectly there while real queries overlap. So neither
    threshold is read off the tail of its own kind alone. `medium` is the lower of what keeps
    90 % of right top hits confident and the median near miss (never hide a likely fix);
    `high` is the higher of what only 5 % of near misses reach and the median right answer
    (as sure as a typical right answer found without any linked ticket's words).
    """
    medium = float(np.quantile(right, 1 - RIGHT_CONFIDENT, method="lower")) if right else 0.5
    if none:
        medium = min(medium, float(np.quantile(none, NO_ANSWER_CONFIDENT, method="higher")))
    high = float(np.quantile(none, 1 - NO_ANSWER_HIGH, method="higher")) + 1e-6 if none else 0.9
    if right:
        high = max(high, float(np.quantile(right, HIGH_AS_RIGHT, method="lower")))
    return max(high, medium), medium


def share(values: list[float], threshold: float) -> float:
    return round(float(np.mean([v >= threshold for v in values])), 3) if values else 0.0


def fit(ev: Evidence, key: str, folds: int = 5) -> Calibration:
    """Fit on all evidence; thresholds and the report come from out-of-fold predictions."""
    n_groups = len(ev.answerable)
    oof = np.zeros(len(ev.y))
    for f in range(folds):
        test = ev.group % folds == f
        train = ~test
        if test.any() and len(set(ev.y[train].tolist())) == 2:
            mean, scale, coef, b = _fit_lr(ev.x[train], ev.y[train])
            oof[test] = 1.0 / (1.0 + np.exp(-(((ev.x[test] - mean) / scale) @ coef + b)))
    right, none = _tops(ev, oof)
    high, medium = operating_point(right, none)
    mean, scale, coef, b = _fit_lr(ev.x, ev.y)
    report = {
        "queries": n_groups,
        "answerable": int(sum(ev.answerable)),
        "no_answer": int(n_groups - sum(ev.answerable)),
        "right_top_confident": share(right, medium),
        "right_top_high": share(right, high),
        "no_answer_high": share(none, high),
        "no_answer_confident": share(none, medium),
    }
    return Calibration(
        key, mean.tolist(), scale.tolist(), coef.tolist(), b, high, medium, report=report
    )


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
