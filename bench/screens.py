"""Error-dialog screenshots rendered with Pillow and Noto CJK: known text for OCR measurement."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT_DIRS = (Path("/usr/share/fonts/opentype/noto"), Path("/usr/share/fonts/truetype/noto"))


@dataclass(frozen=True)
class Dialog:
    """What a dialog says: its title bar, message lines, and the error code it carries."""

    title: str
    lines: tuple[str, ...]
    code: str


DIALOGS = (
    Dialog("HIS 系统错误", ("HIS-ERR-1043 数据库连接超时", "请检查网络后重试"), "HIS-ERR-1043"),
    Dialog("门诊医生站", ("LIS-ERR-2201 检验申请单保存失败", "错误位置：提交申请"), "LIS-ERR-2201"),
    Dialog("医保结算", ("YB-0417 医保接口返回异常", "交易流水号 20261201093015"), "YB-0417"),
    Dialog("电子病历", ("EMR-ERR-3005 病历模板加载失败", "模板编号 MB-88 不存在"), "EMR-ERR-3005"),
    Dialog("PACS 影像", ("PACS-ERR-0502 影像调阅超时", "DICOM 服务无响应"), "PACS-ERR-0502"),
    Dialog("自助机", ("PRN-ERR-07 发票打印机缺纸", "请联系信息科处理"), "PRN-ERR-07"),
    Dialog("护士站", ("NIS-ERR-1120 医嘱同步失败", "请稍后重新刷新医嘱"), "NIS-ERR-1120"),
    Dialog("挂号收费", ("HIS-ERR-4096 号源锁定冲突", "该号源已被其他窗口占用"), "HIS-ERR-4096"),
    Dialog("药房发药", ("PHA-ERR-0333 库存扣减失败", "药品编码 YP10023 库存不足"), "PHA-ERR-0333"),
    Dialog(
        "手术麻醉", ("ORIS-ERR-0901 设备数据采集中断", "监护仪 3 号床连接断开"), "ORIS-ERR-0901"
    ),
)


def font_path(bold: bool = False) -> Path:
    """The Noto Sans CJK file (Debian fonts-noto-cjk)."""
    name = "NotoSansCJK-Bold.ttc" if bold else "NotoSansCJK-Regular.ttc"
    for d in FONT_DIRS:
        if (d / name).exists():
            return d / name
    raise FileNotFoundError(f"{name} not found: install fonts-noto-cjk")


def render(dialog: Dialog, scale: float = 1.0, extra: tuple[str, ...] = ()) -> bytes:
    """A Windows-style error dialog as PNG bytes (`scale` 1.0 is a 100 % desktop)."""
    regular = ImageFont.truetype(str(font_path()), int(15 * scale), index=2)  # SC face
    bold = ImageFont.truetype(str(font_path(bold=True)), int(15 * scale), index=2)
    lines = (*dialog.lines, *extra)
    w, line_h = int(460 * scale), int(26 * scale)
    h = int(120 * scale) + line_h * len(lines)
    img = Image.new("RGB", (w, h), "#f0f0f0")
    d = ImageDraw.Draw(img)
    d.rectangle((0, 0, w, int(32 * scale)), fill="#1f4e8c")
    d.text((int(12 * scale), int(7 * scale)), dialog.title, font=bold, fill="white")
    cx, cy, r = int(36 * scale), int(70 * scale), int(16 * scale)
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill="#d13438")
    d.line((cx - 6 * scale, cy - 6 * scale, cx + 6 * scale, cy + 6 * scale), fill="white", width=3)
    d.line((cx - 6 * scale, cy + 6 * scale, cx + 6 * scale, cy - 6 * scale), fill="white", width=3)
    for i, text in enumerate(lines):
        d.text((int(70 * scale), int(52 * scale) + i * line_h), text, font=regular, fill="#111")
    bx, by = w - int(100 * scale), h - int(44 * scale)
    d.rectangle(
        (bx, by, bx + int(80 * scale), by + int(28 * scale)), outline="#666", fill="#e1e1e1"
    )
    d.text((bx + int(26 * scale), by + int(4 * scale)), "确定", font=regular, fill="#111")
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def expected_text(dialog: Dialog, extra: tuple[str, ...] = ()) -> str:
    """The text a perfect reader returns (title, lines, button), for character accuracy."""
    return "\n".join((dialog.title, *dialog.lines, *extra, "确定"))
