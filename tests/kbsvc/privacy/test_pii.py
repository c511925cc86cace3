"""Patient-identifier masking: positive and negative cases, settings, ticket helpers."""

from __future__ import annotations

import pytest

from kbsvc.config import ExtraPattern, PrivacySettings
from kbsvc.privacy.pii import id_checksum_ok, scrub_text, scrub_ticket_fields, scrub_ticket_in
from kbsvc.tickets.models import TicketIn

VALID_ID_X = "11010519491231002X"  # GB 11643 sample number, check digit X


@pytest.mark.parametrize(
    ("text", "masked", "kinds"),
    [
        ("患者张三反映无法挂号", "患者【患者姓名】反映无法挂号", ["name"]),
        ("病人王小明的检验报告打不开", "病人【患者姓名】的检验报告打不开", ["name"]),
        ("家属李女士来电询问", "家属【患者姓名】来电询问", ["name"]),
        ("患儿欧阳娜娜说腕带打不出", "患儿【患者姓名】说腕带打不出", ["name"]),
        ("患者姓名：赵小红", "患者姓名：【患者姓名】", ["name"]),
        (f"身份证号{VALID_ID_X}读不出", "身份证号【身份证号】读不出", ["id_card"]),
        (f"证件 {VALID_ID_X.lower()} 无效", "证件 【身份证号】 无效", ["id_card"]),
        ("身份证号110105194912310021有误", "身份证号【身份证号】有误", ["id_card"]),
        ("旧证号 110105491231002 无法识别", "旧证号 【身份证号】 无法识别", ["id_card"]),
        ("回电13812345678", "回电【电话】", ["phone"]),
        ("手机 138-1234-5678", "手机 【电话】", ["phone"]),
        ("座机0571-87654321转", "座机【电话】转", ["phone"]),
        ("住院号：ZY2023001查不到", "住院号：【住院号】查不到", ["record_no"]),
        ("门诊号 M0012345", "门诊号 【门诊号】", ["record_no"]),
        ("病案号为 88001234", "病案号为 【病案号】", ["record_no"]),
        ("就诊卡号#600123456", "就诊卡号#【就诊卡号】", ["record_no"]),
        ("患者ID号：A10086", "患者ID号：【ID号】", ["record_no"]),
        ("12床腕带打不出", "【床号】腕带打不出", ["bed"]),
        ("3床位和加2床", "【床号】和【床号】", ["bed", "bed"]),
    ],
)
def test_masks(text: str, masked: str, kinds: list[str]) -> None:
    result = scrub_text(text, PrivacySettings())
    assert result.text == masked
    assert [f.kind for f in result.findings] == kinds
    for f in result.findings:  # offsets point into the original text
        assert text[f.start : f.end] and f.replacement in masked


@pytest.mark.parametrize(
    "text",
    [
        "门诊",
        "门诊医生站无法登录",
        "患者反映门诊医生站打不开",
        "患者在门诊排队",
        "病人的报告",
        "家属说没有收到短信",
        "患者信息显示不全",
        "病人高血压随访表打不开",
        "患者于今日就诊",
        "病人向医生反映",
        "门诊号",
        "床旁设备",
        "服务器IP 10.1.2.3 端口 8080",
        "订单号202311230001234567",  # 18 digits, but not a valid resident ID
        "版本 2023.11.23 发布",
    ],
)
def test_leaves_non_pii_alone(text: str) -> None:
    result = scrub_text(text, PrivacySettings())
    assert (result.text, result.findings) == (text, [])


def test_checksum() -> None:
    assert id_checksum_ok(VALID_ID_X) and not id_checksum_ok("110105194912310021")


def test_settings_switch_kinds_and_add_patterns() -> None:
    cfg = PrivacySettings(
        enabled_kinds=["phone"],
        extra_patterns=[ExtraPattern(kind="mrn", pattern=r"MRN\d{6}", replacement="【病历号】")],
    )
    result = scrub_text("患者张三 12床 13812345678 MRN123456", cfg)
    assert result.text == "患者张三 12床 【电话】 【病历号】"
    with pytest.raises(ValueError, match="unknown PII kinds"):
        PrivacySettings(enabled_kinds=["email"])
    with pytest.raises(ValueError, match="invalid PII regex"):
        ExtraPattern(kind="x", pattern="(")


def test_ticket_fields_and_raw_row() -> None:
    fields = {
        "title": "12床腕带打印失败",
        "symptom": "患者张三反映",
        "system": "HIS",
        "handler": "王工",
    }
    masked, findings = scrub_ticket_fields(fields, PrivacySettings())
    assert masked == {**fields, "title": "【床号】腕带打印失败", "symptom": "患者【患者姓名】反映"}
    assert [(f.field, f.kind) for f in findings] == [("title", "bed"), ("symptom", "name")]

    item = TicketIn(title="患者李明住院号：ZY001234", raw={"描述": "患者李明 13812345678"})
    stored, found = scrub_ticket_in(item, PrivacySettings())
    assert stored.title == "患者【患者姓名】住院号：【住院号】"
    assert stored.raw == {"描述": "患者【患者姓名】 【电话】"} and len(found) == 2
    kept, found = scrub_ticket_in(item, PrivacySettings(keep_raw_ticket_text=True))
    assert kept.title == item.title and kept.raw == item.raw and len(found) == 2
