"""Text recognition of screenshots with rapidocr (PP-OCRv4 ONNX models shipped in the wheel).

Why rapidocr-onnxruntime: the PaddleOCR Chinese models, which read mixed Chinese/Latin dialog
text well, as one registry package with the model files inside it, run by onnxruntime on CPU;
nothing is fetched at run time (bench/bench_ocr.py checks this with the network cut off).
"""

from __future__ import annotations

import io
import threading
from typing import Any

import numpy as np
from PIL import Image


class OcrEngine:
    """One lazily built recogniser per process; calls are serialised (onnxruntime sessions
    are thread-safe, but two images at once on two cores would starve requests)."""

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads
        self._engine: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        if self._engine is None:
            from rapidocr_onnxruntime import RapidOCR  # heavy (onnxruntime, opencv): on first use

            self._engine = RapidOCR(
                intra_op_num_threads=self.threads, inter_op_num_threads=1, print_verbose=False
            )
        return self._engine

    def recognise(self, data: bytes) -> str:
        """The image's text, one detected line per line, top to bottom, left to right."""
        img = Image.open(io.BytesIO(data))
        # rapidocr wants BGR like OpenCV; our bytes were decoded by Pillow on upload already.
        rgb = np.asarray(img.convert("RGB"))[:, :, ::-1].copy()
        with self._lock:
            result, _elapsed = self._load()(rgb)
        if not result:
            return ""
        lines = [(box[0][1], box[0][0], str(text)) for box, text, _score in result]
        return "\n".join(text for _y, _x, text in _reading_order(lines))


def _reading_order(lines: list[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    """Rows by top edge (boxes within 10 px are one row), each row left to right."""
    rows: list[list[tuple[float, float, str]]] = []
    for line in sorted(lines):
        if rows and abs(rows[-1][0][0] - line[0]) < 10:
            rows[-1].append(line)
        else:
            rows.append([line])
    return [item for row in rows for item in sorted(row, key=lambda t: t[1])]
