"""A small hospital-IT knowledge base for the browser tests (tickets, entries, links)."""

from __future__ import annotations

from sqlmodel import Session

from kbsvc.entries import service as entries
from kbsvc.entries.models import LinkKind
from tests.factories import make_entry, make_ticket

XSS_TITLE = "自助机凭条打印乱码<img src=x onerror=\"alert('xss-title')\">"
XSS_TEXT = '打印出来全是乱码<script>alert("xss-script")</script><b id="injected">粗体</b>'

ENTRIES = [
    dict(
        title="门诊医生站CA证书过期导致无法登录",
        symptom="医生站登录时提示证书无效，医生登不上门诊医生站",
        cause="CA Key证书过期",
        solution="1. 联系CA厂商更新证书\n2. 重新插拔CA Key并在证书助手中刷新",
        workaround="使用临时账号登录",
        system="HIS",
        module="门诊医生站",
        department="心内科",
        tags=["CA证书", "登录"],
        ticket="GD-WEB-0001",
    ),
    dict(
        title="自助机热敏纸用完不出凭条",
        symptom="自助机没纸了不出条，病人拿不到挂号单",
        cause="热敏纸用完且纸将尽传感器脏污",
        solution="更换纸卷，清洁传感器，后台复位打印机",
        system="自助机",
        module="自助挂号缴费机",
        department="门诊部",
        tags=["热敏打印机", "缺纸"],
        ticket="GD-WEB-0002",
    ),
    dict(
        title="异地就医结算提示未备案",
        symptom="外省患者出院结算提示未查询到备案信息",
        cause="患者未办理异地就医备案",
        solution="指导患者在国家医保服务平台APP办理备案后重新读卡结算",
        workaround="先按自费结算",
        system="医保结算",
        module="异地结算",
        department="出入院处",
        tags=["医保", "异地结算"],
        ticket="GD-WEB-0003",
    ),
    dict(
        title="PACS影像调阅黑屏无法显示",
        symptom="医生工作站打开PACS看片子一直黑屏，影像显示不出来",
        cause="显卡驱动版本与阅片软件不兼容",
        solution="回退显卡驱动到厂商认证版本并重启阅片客户端",
        system="PACS",
        module="影像调阅",
        department="放射科",
        tags=["PACS", "显卡驱动"],
        ticket="GD-WEB-0004",
    ),
    dict(
        title="腕带打印机打印空白",
        symptom="住院护士站打印腕带出来是空白的",
        cause="碳带装反",
        solution="按打印机内标识重新安装碳带并校准标签",
        system="HIS",
        module="住院护士站",
        department="护理部",
        tags=["腕带", "打印机"],
        ticket="GD-WEB-0005",
    ),
    dict(
        title="LIS检验结果回传HIS失败",
        symptom="检验科审核后医生站看不到检验结果",
        cause="接口服务消息队列堵塞",
        solution="重启LIS接口服务并重发积压消息",
        system="LIS",
        module="结果回传",
        department="检验科",
        tags=["接口", "LIS"],
        ticket="GD-WEB-0006",
    ),
    dict(
        title=XSS_TITLE,
        symptom=XSS_TEXT,
        cause="<svg onload=alert('xss-cause')>",
        solution="更换打印模板<iframe src=javascript:alert('xss-iframe')></iframe>",
        system="自助机",
        module="凭条打印",
        department="门诊部",
        tags=["乱码", "<i>xss-tag</i>"],
        ticket="GD-WEB-0007",
    ),
]


def seed_kb(session: Session) -> dict[str, int]:
    """Create resolved tickets, published entries and their source links; returns title → id."""
    ids: dict[str, int] = {}
    for spec in ENTRIES:
        spec = dict(spec)
        ticket_no = spec.pop("ticket")
        ticket = make_ticket(
            session,
            source="helpdesk",
            external_id=ticket_no,
            title=spec["title"],
            symptom=spec["symptom"],
            cause=spec["cause"],
            solution=spec["solution"],
            system=spec["system"],
            department=spec["department"],
            tags=spec["tags"],
        )
        entry = make_entry(session, **spec)
        entries.link_ticket(
            session,
            entry_id=entry.id or 0,
            source=ticket.source,
            external_id=ticket.external_id,
            kind=LinkKind.source,
            actor="seed",
        )
        session.commit()
        ids[spec["title"]] = entry.id or 0
    # One resolved ticket nobody has captured yet, for the capture flow.
    make_ticket(
        session,
        source="helpdesk",
        external_id="GD-WEB-0100",
        title="药房发药机屏幕触摸失灵",
        symptom="门诊药房发药机触摸屏点不动",
        cause="触摸屏校准数据丢失",
        solution="进入维护模式重新校准触摸屏",
        system="药房",
        department="门诊药房",
        tags="触摸屏",
    )
    return ids
