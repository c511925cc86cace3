"""OCR of error-dialog screenshots: character accuracy, error-code exact match, time per image.

    python -m bench.bench_ocr [--scales 1.0,1.25] [--jpeg] [--json OUT]

The dialogs (bench/screens.py) are rendered with Pillow and Noto Sans CJK, so the true text is
known. Each screenshot goes through the upload path first (kbsvc.attachments.sniff: decode,
re-encode), then kbsvc.attachments.ocr.OcrEngine, exactly as the worker runs it. Network use
is refused in-process (socket connect raises), so a model download would fail the run; run it
under `unshare -n` as well to cut the network at the kernel.
"""

from __future__ import annotations

import argparse
import io
import json
import socket
import statistics
import time
from pathlib import Path
from typing import Any

from PIL import Image

from bench.screens import DIALOGS, expected_text, render
from kbsvc.attachments.ocr import OcrEngine
from kbsvc.attachments.sniff import clean_upload
from kbsvc.config import AttachmentSettings


def _no_network(*_a: object, **_k: object) -> None:
    raise OSError("network use refused by bench_ocr: the OCR models must ship in the wheel")


def levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def _squash(text: str) -> str:
    return "".join(text.split())  # OCR drops spaces between CJK and Latin; compare without them


def _jpeg(png: bytes, quality: int = 75) -> bytes:
    out = io.BytesIO()
    Image.open(io.BytesIO(png)).convert("RGB").save(out, format="JPEG", quality=quality)
    return out.getvalue()


def run(scales: list[float], jpeg: bool) -> dict[str, Any]:
    socket.socket.connect = _no_network  # type: ignore[method-assign]
    socket.create_connection = _no_network  # type: ignore[assignment]
    engine = OcrEngine(threads=1)
    t0 = time.perf_counter()
    engine._load()
    load_s = time.perf_counter() - t0
    cfg = AttachmentSettings()
    rows = []
    for scale in scales:
        for fmt in ("png", "jpeg") if jpeg else ("png",):
            for dialog in DIALOGS:
                raw = render(dialog, scale=scale)
                raw = _jpeg(raw) if fmt == "jpeg" else raw
                data = clean_upload(raw, f"shot.{fmt}", cfg).data
                t, c = time.perf_counter(), time.process_time()
                got = engine.recognise(data)
                seconds, cpu = time.perf_counter() - t, time.process_time() - c
                want = _squash(expected_text(dialog))
                dist = levenshtein(_squash(got), want)
                rows.append(
                    {
                        "scale": scale,
                        "format": fmt,
                        "code": dialog.code,
                        "char_accuracy": max(0.0, 1 - dist / len(want)),
                        "code_found": dialog.code in got,
                        "seconds": seconds,
                        "cpu_s": cpu,
                        "text": got,
                    }
                )
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(f"{r['format']} ×{r['scale']}", []).append(r)
    summary = {
        name: {
            "images": len(rs),
            "char_accuracy": round(statistics.mean(r["char_accuracy"] for r in rs), 4),
            "code_exact_match": round(sum(r["code_found"] for r in rs) / len(rs), 4),
            "median_s": round(statistics.median(r["seconds"] for r in rs), 3),
            "max_s": round(max(r["seconds"] for r in rs), 3),
            # CPU seconds of this process: what an image costs, whatever else shares the cores.
            "median_cpu_s": round(statistics.median(r["cpu_s"] for r in rs), 3),
        }
        for name, rs in groups.items()
    }
    misses = [(r["code"], r["format"], r["scale"], r["text"]) for r in rows if not r["code_found"]]
    return {"model_load_s": round(load_s, 2), "summary": summary, "misses": misses}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scales", default="1.0,1.25")
    ap.add_argument("--jpeg", action="store_true", help="also JPEG quality 75 copies")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    result = run([float(s) for s in args.scales.split(",")], args.jpeg)
    print(f"model load {result['model_load_s']} s")
    head = f"{'set':<14}{'images':>7}{'char acc':>10}{'code EM':>9}{'median s':>10}{'max s':>8}"
    print(head + f"{'cpu s':>8}")
    for name, s in result["summary"].items():
        print(
            f"{name:<14}{s['images']:>7}{s['char_accuracy']:>10.3f}{s['code_exact_match']:>9.2f}"
            f"{s['median_s']:>10.2f}{s['max_s']:>8.2f}{s['median_cpu_s']:>8.2f}"
        )
    for miss in result["misses"]:
        print("missed:", miss)
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
