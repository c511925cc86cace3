"""QR codes that lead a reader of a printed handbook back to the live entry."""

from __future__ import annotations

import base64
import io
from functools import lru_cache


@lru_cache(maxsize=4096)
def qr_png(url: str, box_size: int = 4) -> bytes:
    """A black-on-white, 1-bit PNG QR code for `url` (`box_size` pixels per module)."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    # A fixed mask skips scoring all eight (≈75% of the time per code); any mask scans fine.
    code = qrcode.QRCode(
        error_correction=ERROR_CORRECT_M, box_size=box_size, border=2, mask_pattern=2
    )
    code.add_data(url)
    code.make(fit=True)
    buf = io.BytesIO()
    image = code.make_image(fill_color="black", back_color="white").get_image().convert("1")
    image.save(buf, format="PNG")
    return buf.getvalue()


def qr_data_uri(url: str) -> str:
    """The QR code inline at one pixel per module: the PDF scales it up without smoothing
    (CSS image-rendering: pixelated), so the renderer decodes and embeds a few hundred bytes."""
    return "data:image/png;base64," + base64.b64encode(qr_png(url, 1)).decode("ascii")
