"""QR codes that lead a reader of a printed handbook back to the live entry."""

from __future__ import annotations

import base64
import io
from functools import lru_cache


@lru_cache(maxsize=4096)
def qr_png(url: str) -> bytes:
    """A small black-on-white PNG QR code for `url`."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    # A fixed mask skips scoring all eight (≈75% of the time per code); any mask scans fine.
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=4, border=2, mask_pattern=2)
    code.add_data(url)
    code.make(fit=True)
    buf = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(buf, format="PNG")
    return buf.getvalue()


def qr_data_uri(url: str) -> str:
    """The QR code inline, so the PDF renderer never needs to fetch anything."""
    return "data:image/png;base64," + base64.b64encode(qr_png(url)).decode("ascii")
