"""Synthetic Chinese hospital-IT tickets made by recombining phrases (for speed benchmarks)."""

from __future__ import annotations

import random

DEPARTMENTS = [
    "门诊",
    "急诊",
    "住院部",
    "药剂科",
    "检验科",
    "放射科",
    "收费处",
    "护士站",
    "手术室",
    "体检中心",
    "儿科",
    "妇产科",
    "心内科",
    "骨科",
    "信息科",
    "超声科",
    "病理科",
    "输血科",
]
SYSTEMS = [
    "HIS",
    "LIS",
    "PACS",
    "EMR",
    "电子病历",
    "医保结算",
    "自助机",
    "叫号系统",
    "移动护理",
    "手麻系统",
    "体检系统",
    "OA",
    "医生工作站",
    "护士工作站",
    "合理用药",
    "院感系统",
]
SYMPTOMS = [
    "无法登录",
    "打印机不出纸",
    "一直转圈",
    "提示数据库连接失败",
    "报错闪退",
    "读卡失败",
    "影像打不开",
    "网络中断",
    "界面白屏",
    "数据不同步",
    "上传失败",
    "速度很慢",
    "蓝屏",
    "扫码枪无反应",
    "证书过期",
    "发票打不出来",
    "报告无法发布",
    "医嘱保存失败",
    "卡在登录界面",
]
DETAILS = [
    "重启后仍然",
    "多台电脑都",
    "偶尔出现",
    "从早上开始",
    "系统更新后",
    "换了新电脑后",
    "只有这一台",
    "高峰期经常",
    "患者排长队，",
    "科室主任反映",
    "夜班时",
    "切换账号后",
]
EXTRAS = [
    "请尽快处理",
    "影响患者就诊",
    "已经重启过电脑",
    "错误代码 E{n}",
    "工号{n}",
    "床号{n}",
    "IP 10.{n}.1.{m}",
    "版本 V{n}.{m}",
    "联系电话 8{n}{m}",
    "已截图发群里",
]
# Free-text noise drawn from ~1,500 CJK characters so the n-gram vocabulary is realistically large.
_POOL = [chr(c) for c in range(0x4E00, 0x4E00 + 1500)]


def synthetic_tickets(n: int, *, seed: int = 0) -> list[str]:
    """`n` ticket texts of roughly 30–60 characters."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        extra = rng.choice(EXTRAS).format(n=rng.randint(1, 999), m=rng.randint(1, 254))
        noise = "".join(rng.choices(_POOL, k=rng.randint(3, 8)))
        out.append(
            f"{rng.choice(DEPARTMENTS)}{rng.choice(SYSTEMS)}{rng.choice(SYMPTOMS)}，"
            f"{rng.choice(DETAILS)}{rng.choice(SYMPTOMS)}，{noise}，{extra}"
        )
    return out


def synthetic_queries(n: int, *, seed: int = 1) -> list[str]:
    """Short colloquial queries."""
    rng = random.Random(seed)
    return [f"{rng.choice(SYSTEMS)}{rng.choice(SYMPTOMS)}" for _ in range(n)]
