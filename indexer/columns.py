"""Growable numpy columns for the lexical index (amortised O(1) append, code filters)."""

from __future__ import annotations

from typing import Any

import numpy as np


class ArrayColumn:
    """A numpy array that grows by doubling (amortised O(1) append)."""

    def __init__(self, dtype: Any) -> None:
        self._buf = np.zeros(16, dtype=dtype)
        self._n = 0

    def _reserve(self, n: int) -> None:
        if n > len(self._buf):
            buf = np.zeros(max(n, 2 * len(self._buf)), dtype=self._buf.dtype)
            buf[: self._n] = self._buf[: self._n]
            self._buf = buf

    def append(self, value: Any) -> None:
        self._reserve(self._n + 1)
        self._buf[self._n] = value
        self._n += 1

    def extend(self, values: np.ndarray) -> None:
        self._reserve(self._n + len(values))
        self._buf[self._n : self._n + len(values)] = values
        self._n += len(values)

    @property
    def data(self) -> np.ndarray:
        """View of the filled part."""
        return self._buf[: self._n]

    def __len__(self) -> int:
        return self._n


class CodeColumn:
    """String values stored as integer codes so filters are one vector comparison."""

    def __init__(self) -> None:
        self.codes = ArrayColumn(np.int32)
        self._index: dict[str, int] = {}

    @classmethod
    def preset(cls, values: list[str], codes: np.ndarray) -> CodeColumn:
        """A column already holding `codes`, which index into `values`."""
        col = cls()
        col._index = {v: i for i, v in enumerate(values)}
        col.codes.extend(np.asarray(codes, dtype=np.int32))
        return col

    def _code(self, value: str) -> int:
        return self._index.setdefault(value, len(self._index))

    def append(self, value: str) -> None:
        self.codes.append(self._code(value))

    def extend(self, values: list[str]) -> None:
        self.codes.extend(np.array([self._code(v) for v in values], dtype=np.int32))

    def equals(self, value: str, n: int) -> np.ndarray:
        code = self._index.get(value)
        if code is None:
            return np.zeros(n, dtype=np.bool_)
        hits: np.ndarray = self.codes.data[:n] == code
        return hits
