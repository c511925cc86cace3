"""The confidence model: a logistic fit over hit features, its operating point read out of fold."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from indexer.calibration_evidence import Evidence
from indexer.confidence_features import FEATURES, hit_features
from indexer.retriever import Hit, Retriever

Band = Literal["high", "medium", "low"]
RIGHT_CONFIDENT = 0.90  # share of right top hits that must show as confident
NO_ANSWER_HIGH = 0.05  # share of no-answer queries allowed a high top hit
NO_ANSWER_CONFIDENT = 0.5  # quantile of near misses that bounds `medium` from above
HIGH_AS_RIGHT = 0.5  # quantile of right answers that bounds `high` from below

_COVERAGE = FEATURES.index("coverage")
_BIGRAMS = FEATURES.index("bigram_coverage")


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
