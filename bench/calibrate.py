"""Fit the shipped confidence prior (indexer/data/confidence_prior.json) on the demo KB.

    python -m bench.calibrate [--dry-run] [--backends lsa:score,e5:rrf]

The prior is what a KB with too little evidence of its own (fewer than
`calibration.MIN_EVIDENCE` linked tickets) uses. It is fitted exactly as a served KB fits its
own at reindex time (linked tickets leave-one-out, the same tickets with their entry hidden,
unrelated text), never on the labelled query sets that bench/bench_confidence.py reports.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any, Literal

from bench.bench_confidence import Cached
from bench.evalkb import family_kb, load_tickets
from embeddings.factory import make_embedder
from indexer.analyzer import Analyzer
from indexer.build import build_retriever
from indexer.calibration_evidence import collect, probes_from_links, unrelated_queries
from indexer.calibration_model import fit
from indexer.retriever import RetrieverConfig
from indexer.text import ngram_text
from kbsvc.config import Settings
from kbsvc.search.engine import embedding_config, retriever_config

SETTINGS = Settings(_env_file=None)
OUT = Path(__file__).resolve().parents[1] / "indexer/data/confidence_prior.json"


def plan(spec: str) -> tuple[str, str | None, RetrieverConfig]:
    """ "lexical" or "backend:method" → (key, backend, retriever config)."""
    base = retriever_config(SETTINGS.search)
    if spec == "lexical":
        return "lexical", None, dataclasses.replace(base, dense_weight=0.0)
    backend, method = spec.split(":")
    if method not in ("score", "rrf"):
        raise SystemExit(f"{spec}: the fusion method is score or rrf")
    fusion: Literal["score", "rrf"] = "score" if method == "score" else "rrf"
    weight = 0.5 if fusion == "score" else 1.0
    return spec, backend, dataclasses.replace(base, dense_weight=weight, method=fusion)


_E5: list[Cached] = []


def _e5() -> Cached:
    """One e5 for every spec: each text embedded once per run (across runs: BENCH_E5_CACHE)."""
    if not _E5:
        cfg = embedding_config(SETTINGS.embedding)
        _E5.append(Cached(make_embedder(cfg, preprocess=ngram_text, backend="e5")))
    return _E5[0]


def fit_one(spec: str) -> dict[str, Any]:
    key, backend, cfg = plan(spec)
    docs, _ = family_kb(load_tickets())
    names = backend.split("+") if backend else []
    ecfg = embedding_config(SETTINGS.embedding)
    emb: dict[str, Any] = {
        n: _e5() if n == "e5" else make_embedder(ecfg, preprocess=ngram_text, backend=n)
        for n in names
    }
    r = build_retriever(
        docs,
        Analyzer(),
        emb.pop(names[0]) if names else None,
        cfg,
        ann_threshold=SETTINGS.search.ann_threshold,
        name=names[0] if names else "dense",
        extra=emb,
    )
    probes = probes_from_links(docs, unrelated_queries())
    cal = fit(collect(r, docs, probes), key)
    print(key, round(cal.high, 4), round(cal.medium, 4), cal.report)
    return cal.to_json()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--dry-run", action="store_true")
    ap.add_argument("--backends", default="lsa:score,lsa:rrf,e5:rrf,e5:score,e5+lsa:rrf")
    args = ap.parse_args()
    models = {spec: fit_one(spec) for spec in ["lexical", *filter(None, args.backends.split(","))]}
    for e5 in _E5:
        e5.save()
    if not args.dry_run:
        doc = {
            "note": "written by bench/calibrate.py from the demo KB's linked tickets",
            "models": models,
        }
        OUT.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
