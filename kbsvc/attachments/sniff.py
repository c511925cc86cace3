"""Upload checks: type from magic bytes, polyglot refusal, image re-encoding, PDF inspection.

Why re-encode: decoding and encoding again with Pillow keeps only pixels, so EXIF (GPS, device,
time), text chunks, ICC profiles and anything smuggled after the image's end marker are gone,
and a file that does not decode is refused instead of stored.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from PIL import Image, ImageOps
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from kbsvc.config import AttachmentSettings
from kbsvc.exceptions import TooLarge, UnsupportedMedia, ValidationFailed

PNG, JPEG, PDF = "image/png", "image/jpeg", "application/pdf"
MAGIC = ((b"\x89PNG\r\n\x1a\n", PNG), (b"\xff\xd8\xff", JPEG), (b"%PDF-", PDF))
EXTENSIONS = {PNG: (".png",), JPEG: (".jpg", ".jpeg", ".jfif"), PDF: (".pdf",)}
LABELS = {PNG: "PNG 图片", JPEG: "JPEG 图片", PDF: "PDF 文件"}
# Other formats' signatures inside an image mean one file read two ways (a polyglot).
_FOREIGN = (b"%PDF-", b"PK\x03\x04", b"<script", b"<html", b"<?php", b"<svg")
# PDF features that run code or carry files; a knowledge-base attachment needs none of them.
_PDF_ACTIVE = ("/JavaScript", "/JS", "/Launch", "/EmbeddedFiles", "/RichMedia", "/XFA")


@dataclass
class Clean:
    """Bytes ready to store."""

    data: bytes
    media_type: str
    filename: str
    width: int | None = None
    height: int | None = None
    pages: int | None = None
    thumb: bytes | None = None


def sniff(data: bytes) -> str | None:
    """Media type from the first bytes, or None."""
    return next((media for magic, media in MAGIC if data.startswith(magic)), None)


def _filename(name: str, media_type: str) -> str:
    """The client's name if its extension agrees with the content, else refused."""
    base = PurePosixPath(name.replace("\\", "/")).name.strip()[:150] or "附件"
    ext = PurePosixPath(base).suffix.lower()
    if not ext:
        return base + EXTENSIONS[media_type][0]
    if ext not in EXTENSIONS[media_type]:
        raise UnsupportedMedia(
            f"文件内容是{LABELS[media_type]}，但文件名后缀是 {ext}：请核对文件后重新上传",
            sniffed=media_type,
            extension=ext,
        )
    return base


def _polyglot(data: bytes, media_type: str) -> None:
    head = data[:4096].lower()
    found = [m.decode() for m in _FOREIGN if m.lower() in head]
    if media_type == PNG and not data.rstrip(b"\0").endswith(b"IEND\xaeB`\x82"):
        found.append("data after IEND")
    if media_type == JPEG and not data.rstrip(b"\0").endswith(b"\xff\xd9"):
        found.append("data after EOI")
    if found:
        raise ValidationFailed(
            f"{LABELS[media_type]}中夹带了其他格式的数据（多重格式文件），已拒绝",
            reason="polyglot",
            found=found,
        )


def _image(data: bytes, media_type: str, cfg: AttachmentSettings) -> Clean:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(io.BytesIO(data))
            width, height = probe.size
            if width * height > cfg.max_pixels:
                raise TooLarge(
                    f"图片尺寸 {width}×{height} 超过上限（{cfg.max_pixels} 像素）",
                    max_pixels=cfg.max_pixels,
                )
            probe.verify()  # structure and CRCs; the image must be reopened after this
            img: Image.Image = Image.open(io.BytesIO(data))
            img.load()
    except TooLarge:
        raise
    except Exception as exc:  # Pillow raises many types for broken files
        raise ValidationFailed(
            f"无法解码这个{LABELS[media_type]}，文件可能已损坏或不是真正的图片",
            reason="undecodable",
            error=str(exc)[:200],
        ) from exc
    img = ImageOps.exif_transpose(img)  # keep what the camera meant before dropping EXIF
    fmt = "PNG" if media_type == PNG else "JPEG"
    if fmt == "JPEG" and img.mode not in ("RGB", "L"):
        img = img.convert("RGB")
    if fmt == "PNG" and img.mode not in ("RGB", "RGBA", "L", "LA", "P", "1"):
        img = img.convert("RGBA")
    keep: dict[str | tuple[int, int], Any] = {
        k: v for k, v in img.info.items() if k == "transparency"
    }
    img.info = keep  # nothing else survives: no exif, icc_profile, text chunks, dpi
    out = io.BytesIO()
    options = {"quality": cfg.jpeg_quality} if fmt == "JPEG" else {}
    img.save(out, format=fmt, **options, **{str(k): v for k, v in keep.items()})
    return Clean(
        data=out.getvalue(),
        media_type=media_type,
        filename="",
        width=img.width,
        height=img.height,
        thumb=_thumb(img, fmt, cfg.thumb_px),
    )


def _thumb(img: Image.Image, fmt: str, px: int) -> bytes:
    small = img.copy()
    small.thumbnail((px, px))
    if fmt == "JPEG" or small.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        small = small.convert("RGB")
    out = io.BytesIO()
    small.save(out, format=fmt)
    return out.getvalue()


def _pdf(data: bytes) -> Clean:
    tail = data[-2048:].rstrip(b"\r\n\t \0")
    if not tail.endswith(b"%%EOF"):
        raise ValidationFailed(
            "PDF 文件不完整，或结尾附带了其他数据（多重格式文件），已拒绝", reason="pdf_tail"
        )
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise ValidationFailed("PDF 文件已加密，无法检查内容，请另存为未加密的 PDF 后上传")
        pages = len(reader.pages)
        root = reader.trailer["/Root"].get_object()
        active = sorted(_active_keys(root, reader))
    except ValidationFailed:
        raise
    except (PdfReadError, KeyError, ValueError, TypeError, RecursionError) as exc:
        raise ValidationFailed(
            "无法解析这个 PDF 文件，文件可能已损坏", reason="undecodable", error=str(exc)[:200]
        ) from exc
    if active:
        raise ValidationFailed(
            "PDF 中含有脚本、自动动作或内嵌文件，已拒绝；请打印为普通 PDF 后再上传",
            reason="pdf_active",
            found=active,
        )
    return Clean(data=data, media_type=PDF, filename="", pages=pages)


def _active_keys(root: object, reader: PdfReader) -> set[str]:
    """Active-content names anywhere in the catalog, its name tree and the pages' actions."""
    found: set[str] = set()
    stack, seen = [root], set[object]()
    while stack and len(seen) < 20_000:
        obj = stack.pop()
        ref = getattr(obj, "indirect_reference", None)
        key = (ref.idnum, ref.generation) if ref is not None else id(obj)
        if key in seen:
            continue
        seen.add(key)
        if isinstance(obj, dict):
            found.update(k for k in obj if k in _PDF_ACTIVE)
            if obj.get("/S") in ("/JavaScript", "/Launch"):
                found.add(str(obj.get("/S")))
            children = [v for k, v in obj.items() if k not in ("/Parent", "/Contents")]
        elif isinstance(obj, list):
            children = list(obj)
        else:
            continue
        for child in children:
            stack.append(child.get_object() if hasattr(child, "get_object") else child)
    return found


def clean_upload(data: bytes, filename: str, cfg: AttachmentSettings) -> Clean:
    """Check and normalise an upload, or raise a 4xx domain error (Chinese message)."""
    if not data:
        raise ValidationFailed("文件是空的", reason="empty")
    media_type = sniff(data)
    if media_type is None:
        raise UnsupportedMedia(
            "只能上传 PNG、JPEG 图片或 PDF 文件（按文件内容判断，不看文件名）",
            accepted=[PNG, JPEG, PDF],
        )
    limit = cfg.max_pdf_bytes if media_type == PDF else cfg.max_image_bytes
    if len(data) > limit:
        raise TooLarge(f"{LABELS[media_type]}不能超过 {limit // (1024 * 1024)} MB", max_bytes=limit)
    name = _filename(filename, media_type)
    if media_type == PDF:
        clean = _pdf(data)
    else:
        clean = _image(data, media_type, cfg)  # undecodable first: a fake image is not a polyglot
        _polyglot(data, media_type)
    clean.filename = name
    return clean
