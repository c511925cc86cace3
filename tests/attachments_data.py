"""Test images made with Pillow: screenshots with EXIF/GPS, polyglots, broken files, PDFs."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw
from pypdf import PdfWriter
from pypdf.actions import JavaScript


def png(width: int = 120, height: int = 60, color: str = "#3a6ea5", text_chunk: str = "") -> bytes:
    """A PNG (optionally with a tEXt chunk that must not survive re-encoding)."""
    from PIL.PngImagePlugin import PngInfo

    img = Image.new("RGB", (width, height), color)
    ImageDraw.Draw(img).rectangle((10, 10, width - 10, height - 10), outline="white")
    info = PngInfo()
    if text_chunk:
        info.add_text("Comment", text_chunk)
    out = io.BytesIO()
    img.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def jpeg_with_gps() -> bytes:
    """A JPEG carrying EXIF camera model and GPS position."""
    img = Image.new("RGB", (160, 90), "#c33")
    exif = Image.Exif()
    exif[0x0110] = "HospitalPhone 12"  # Model
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)}  # GPS IFD
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def pdf(pages: int = 1) -> bytes:
    w = PdfWriter()
    for _ in range(pages):
        w.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def pdf_with_javascript() -> bytes:
    w = PdfWriter()
    w.add_blank_page(width=200, height=200)
    w.add_open_action(JavaScript("app.alert('hi');"))
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def polyglot_png_pdf() -> bytes:
    """A PNG with a PDF appended: image viewers and PDF readers each see their own file."""
    return png() + pdf()
