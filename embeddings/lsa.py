"""Corpus-fitted Chinese embeddings: TF-IDF over character n-grams → truncated SVD (LSA)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from embeddings import grams
from embeddings.base import (
    BaseEmbedder,
    EmbedderError,
    EmbedderState,
    Kind,
    NotFitted,
    StateCorrupt,
    StateMismatch,
    l2_normalize,
)
from embeddings.grams import Counted

_WHITE_SPACES = re.compile(r"\s\s+")  # as scikit-learn's char analyzer collapses them
_SLICE = 10_000
SVD_ROWS = 30_000  # entries the projection is fitted on (see _fit)


class LsaEmbedder(BaseEmbedder):
    """Needs no download and reads Chinese well: fitted on the KB's own text, refit as it grows.

    Vectors always have `dim` columns; a corpus too small for `dim` SVD components is
    zero-padded, which leaves inner products unchanged and keeps the index width stable.
    """

    needs_fit = True

    def __init__(
        self,
        dim: int,
        *,
        preprocess: Callable[[str], str],
        batch_size: int,
        ngram_range: tuple[int, int] = (1, 2),
        max_features: int = 200_000,
        n_iter: int = 4,
    ) -> None:
        # Sparse products are cheap per row, so encode in larger batches than a neural model.
        super().__init__(batch_size=max(batch_size, 256))
        self._dim = dim
        # Text → the form that is n-grammed (the indexer's normaliser), bm25s-style.
        self.preprocess = preprocess
        self.ngram_range = ngram_range
        self.max_features = max_features
        self.n_iter = n_iter
        # Sorted n-grams (as fitted: scikit-learn sorts its features), searched with
        # np.searchsorted; a loaded one is memory-mapped, shared by every worker.
        self._vocab: np.ndarray | None = None
        self._idf = np.empty(0, np.float32)
        self._proj = np.empty((0, 0), np.float32)  # (n_features, n_components)
        self._fingerprint = ""
        self.fitted_docs = 0
        self._kept: Counted | None = None  # the last counts, for a refit (see count)

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def model_id(self) -> str:
        if not self._fingerprint:
            return "lsa:unfitted"
        lo, hi = self.ngram_range
        return f"lsa:{self._dim}d:c{lo}-{hi}:n{self.fitted_docs}:{self._fingerprint}"

    # -- fitting -------------------------------------------------------------------------

    def _weigh(self, counts: sp.csr_matrix) -> sp.csr_matrix:
        """Sublinear tf × idf, rows L2-normalised (the same maths at fit and encode time)."""
        # Done on the CSR arrays directly: scikit-learn's normalize() and sp.diags cost
        # ~0.4 ms of validation per query, 10x the arithmetic.
        counts = counts.tocsr()
        # One term order per row, so a text's vector is the same from fit_encode and encode.
        counts.sort_indices()
        data = (1.0 + np.log(counts.data.astype(np.float32))) * self._idf[counts.indices]
        rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
        norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=counts.shape[0]))
        data /= norms[rows].astype(np.float32)
        return sp.csr_matrix((data, counts.indices, counts.indptr), shape=counts.shape)

    def _grams(self, text: str) -> list[str]:
        """scikit-learn's char analyzer: runs of white space → one space, then the n-grams."""
        text = _WHITE_SPACES.sub(" ", text)
        lo, hi = self.ngram_range
        return [text[i : i + n] for n in range(lo, hi + 1) for i in range(len(text) - n + 1)]

    def _counts(self, docs: Sequence[str]) -> sp.csr_matrix:
        """N-gram counts over the fitted vocabulary (CountVectorizer.transform's result)."""
        vocab = self._vocab
        if vocab is None or not len(vocab):
            raise NotFitted("the LSA embedder must be fitted (or loaded) before encoding")
        grams = [self._grams(d) for d in docs]
        flat = np.array([g for gs in grams for g in gs], dtype=np.str_)
        rows = np.repeat(np.arange(len(docs)), [len(gs) for gs in grams])
        pos = np.minimum(np.searchsorted(vocab, flat), len(vocab) - 1)
        hit = vocab[pos] == flat
        counts = sp.csr_matrix(
            (np.ones(int(hit.sum()), np.int32), (rows[hit], pos[hit])),
            shape=(len(docs), len(vocab)),
        )
        counts.sum_duplicates()  # sorted indices, summed counts: what scikit-learn returns
        return counts

    def fit(self, corpus: Sequence[str]) -> None:
        """Learn vocabulary, idf and the SVD projection from the corpus."""
        self._fit(corpus)

    def fit_encode(self, corpus: Sequence[str]) -> np.ndarray:
        """fit(corpus), then what encode(corpus) gives, from the fit's own counts: a rebuild
        n-grams each entry once, not once to fit and again to embed."""
        rows, tfidf = self._fit(corpus)
        out = np.zeros((len(corpus), self._dim), dtype=np.float32)
        out[rows, : self._proj.shape[1]] = tfidf @ self._proj
        return l2_normalize(out)

    def count(self, passages: Sequence[str]) -> Counted:
        """Passages preprocessed and n-grammed, as a fit needs them: work that can run in
        another process (the rebuild's analysis workers) and be `remember`ed here."""
        return Counted.of(passages, [self.preprocess(p) for p in passages], self.ngram_range)

    def remember(self, parts: Sequence[Counted]) -> None:
        """Keep these counts for the next fits (a fit reuses the rows of passages it holds)."""
        self._kept = Counted.join(parts)

    def release(self) -> None:
        """Drop the counts kept for a refit (a 100k-entry corpus's take ~250 MB)."""
        self._kept = None

    def _counted(self, passages: list[str]) -> Counted:
        """The passages' counts: rows kept from an earlier count, the rest counted now."""
        kept = self._kept
        rows = kept.rows(passages) if kept is not None else [-1] * len(passages)
        hits = [i for i, r in enumerate(rows) if r >= 0]
        if kept is not None and len(hits) == len(passages):
            return kept.take(rows)
        misses = [i for i, r in enumerate(rows) if r < 0]
        parts = [self.count([passages[i] for i in misses])]
        if kept is not None and hits:
            parts.insert(0, kept.take([rows[i] for i in hits]))
        joined = Counted.join(parts)
        return joined.take(np.argsort(hits + misses, kind="stable").tolist())

    def _fit(self, corpus: Sequence[str]) -> tuple[list[int], sp.csr_matrix]:
        """Fit; returns the corpus rows that had n-grams and their weighted counts."""
        # Only the process that fits needs scikit-learn (~40 MB): readers map a fitted state.
        from sklearn.decomposition import TruncatedSVD

        rows = [i for i, t in enumerate(corpus) if t and t.strip()]
        counted = self._counted([corpus[i] for i in rows])
        self._kept = counted  # a refit on a corpus differing in a few passages recounts those
        docs = np.flatnonzero(counted.nonempty)
        if len(docs) < 2:
            raise EmbedderError("LSA needs at least 2 non-empty documents to fit")
        # CountVectorizer(analyzer="char", min_df, max_features)'s fit, repeated exactly
        # (embeddings/grams.py). Single-occurrence n-grams are mostly noise in a large corpus.
        everything = grams.Counts(counted.counts.keys, counted.counts.matrix[docs])
        min_df = 2 if len(docs) >= 2000 else 1
        cols = grams.prune(everything, min_df=min_df, max_features=self.max_features)
        if not len(cols):
            raise EmbedderError("LSA found no n-gram in enough documents to fit")
        counts = everything.matrix[:, cols].tocsr()
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        # Smooth idf, as scikit-learn's TfidfTransformer does.
        self._idf = (np.log((1 + len(docs)) / (1 + df)) + 1.0).astype(np.float32)
        tfidf = self._weigh(counts)
        k = max(1, min(self._dim, tfidf.shape[0] - 1, tfidf.shape[1] - 1))
        svd = TruncatedSVD(k, algorithm="randomized", n_iter=self.n_iter, random_state=0)
        # One BLAS thread: on a busy 2-core host, OpenBLAS threads spin against the web
        # workers and made this SVD 40x slower in our measurement (0.4 s → 17 s).
        # Past SVD_ROWS entries the projection is learnt from an even spread of them (the
        # vocabulary and idf still from all): the SVD grows with the corpus, the subspace does
        # not, and a 100k rebuild spent a minute here.
        rows_for_svd = tfidf
        if tfidf.shape[0] > SVD_ROWS:
            rows_for_svd = tfidf[np.linspace(0, tfidf.shape[0] - 1, SVD_ROWS).astype(np.int64)]
        with threadpool_limits(limits=1, user_api="blas"):
            svd.fit(rows_for_svd)
        vocab = grams.strings(counted.counts.keys[cols])
        self._install(vocab, self._idf, svd.components_.T, len(docs))
        # A text that is only punctuation has no n-grams: its row stays zero, as in encode.
        return [rows[i] for i in docs.tolist()], tfidf

    def _install(self, vocab: np.ndarray, idf: np.ndarray, proj: np.ndarray, n_docs: int) -> None:
        if len(vocab) > 1 and not bool(np.all(vocab[:-1] < vocab[1:])):
            raise StateCorrupt("LSA vocabulary is not sorted and unique")
        self._vocab = vocab
        self._idf = np.ascontiguousarray(idf, dtype=np.float32)
        self._proj = np.ascontiguousarray(proj, dtype=np.float32)
        self.fitted_docs = n_docs
        # The vocabulary "\n"-joined, hashed in slices: no list of 200k strings is kept around.
        digest = hashlib.sha256()
        for start in range(0, len(vocab), _SLICE):
            head = "\n" if start else ""
            digest.update((head + "\n".join(vocab[start : start + _SLICE].tolist())).encode())
        digest.update(self._idf.data)  # the buffers themselves: no copy of a mapped projection
        digest.update(self._proj.data)
        self._fingerprint = digest.hexdigest()[:12]

    # -- encoding ------------------------------------------------------------------------

    def _encode_batch(self, texts: list[str], kind: Kind) -> np.ndarray:
        tfidf = self._weigh(self._counts([self.preprocess(t) for t in texts]))
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        out[:, : self._proj.shape[1]] = tfidf @ self._proj
        return out

    # -- state -------------------------------------------------------------------------

    def state(self) -> EmbedderState:
        """Vocabulary, idf and projection, for the index store to persist."""
        if self._vocab is None:
            raise NotFitted("nothing to save: the LSA embedder is not fitted")
        vocab = self._vocab
        return EmbedderState(
            params={
                "dim": self._dim,
                "ngram_range": list(self.ngram_range),
                "fitted_docs": self.fitted_docs,
                "model_id": self.model_id,
            },
            arrays={"vocab": vocab, "idf": self._idf, "proj": self._proj},
        )

    def restore(self, state: EmbedderState) -> None:
        """Adopt a fit from `state()`; StateMismatch if fitted under other settings."""
        try:
            vocab = np.asarray(state.arrays["vocab"])
            if vocab.dtype.kind != "U":
                raise TypeError(f"vocabulary of dtype {vocab.dtype}")
            idf, proj = state.arrays["idf"], state.arrays["proj"]
            dim = int(state.params["dim"])
            lo, hi = state.params["ngram_range"]
            ngram = (int(lo), int(hi))
            n_docs = int(state.params["fitted_docs"])
            model_id = str(state.params["model_id"])
        except (KeyError, TypeError, ValueError) as exc:
            raise StateCorrupt(f"LSA state is incomplete: {exc!r}") from exc
        if (dim, ngram) != (self._dim, self.ngram_range):
            raise StateMismatch(
                f"LSA state was fitted with dim={dim}, n-grams {ngram}; "
                f"configured dim={self._dim}, n-grams {self.ngram_range}"
            )
        if proj.ndim != 2 or not (len(vocab) == len(idf) == proj.shape[0]) or proj.shape[1] > dim:
            raise StateCorrupt("LSA state has inconsistent shapes")
        self._install(vocab, idf, proj, n_docs)
        if self.model_id != model_id:
            raise StateCorrupt("LSA state does not match its fingerprint")
