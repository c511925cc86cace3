"""Heuristics for spotting a patient's name after 患者/病人/家属/患儿 in ticket text.

A name is a known surname plus one or two given-name characters. Surnames that double as
everyday words in IT tickets (于今日, 向医生, 付费, 常规) are left out, and a stop list covers
words that start with a surname character (高血压, 余额, 程序).
"""

from __future__ import annotations

# The ~100 most common surnames minus 于 向 付 (prepositions / verbs in ticket prose).
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛闫阎段雷侯龙史陶黎"
    "贺顾毛郝龚邵万钱严覃武戴莫孔汤庞樊兰殷施倪翟颜牛温季俞章鲁葛伍申聂焦柳邢岳齐梅莫"
    "庄辛祝左涂谷舒耿卜詹关苗凌费纪靳盛童欧项甄裴席卫屈鲍霍翁隋甘景柏宁柯阮桂闵柴华冉"
)
COMPOUND_SURNAMES = frozenset(
    [
        "欧阳",
        "司马",
        "诸葛",
        "上官",
        "东方",
        "皇甫",
        "令狐",
        "慕容",
        "夏侯",
        "尉迟",
        "长孙",
        "宇文",
        "司徒",
        "端木",
        "公孙",
        "南宫",
        "西门",
        "独孤",
        "轩辕",
    ]
)
# Words that begin with a surname character but are not names.
NOT_NAMES = frozenset(
    [
        "白细",
        "白天",
        "白班",
        "白屏",
        "高血",
        "高烧",
        "高热",
        "高峰",
        "高危",
        "高龄",
        "余额",
        "方便",
        "方式",
        "方法",
        "方案",
        "方向",
        "万一",
        "石膏",
        "马上",
        "黄疸",
        "陆续",
        "何时",
        "何处",
        "谢谢",
        "许多",
        "许可",
        "唐突",
        "胡乱",
        "杜绝",
        "顾客",
        "范围",
        "钟头",
        "曾经",
        "郑重",
        "程序",
        "任何",
        "周一",
        "周二",
        "周三",
        "周四",
        "周五",
        "周六",
        "周日",
        "周末",
        "周期",
        "周围",
        "苏醒",
        "金额",
        "钱款",
        "史上",
        "严重",
        "毛病",
        "莫名",
        "黎明",
        "叶酸",
        "夏天",
        "夏季",
        "丁点",
        "温度",
        "季度",
        "关于",
        "关闭",
        "关机",
        "项目",
        "凌晨",
        "左侧",
        "左边",
        "左手",
        "左眼",
        "左腿",
        "华为",
        "兰州",
        "宁可",
        "齐全",
        "齐备",
        "童年",
        "管理",
        "费用",
        "申请",
        "申报",
        "焦虑",
        "柴胡",
        "庄重",
        "卫生",
        "章节",
        "梅毒",
        "甘油",
        "景象",
        "舒服",
        "舒适",
        "屈服",
        "欧元",
        "龙头",
        "雷同",
        "牛奶",
        "葛根",
        "施工",
        "盛开",
        "纪录",
        "孔位",
        "汤药",
        "江湖",
        "武器",
        "戴着",
        "罗列",
        "贺卡",
        "顾问",
        "辛苦",
        "祝福",
        "涂抹",
        "谷丙",
        "谷草",
        "舒张",
        "苗条",
        "费劲",
        "甄别",
        "席位",
        "霍乱",
        "林立",
        "高压",
        "高兴",
        "马虎",
        "黄色",
        "白色",
        "金属",
        "石头",
        "田间",
    ]
)
# Characters that end a name: what usually follows it in a sentence (verbs, particles, places).
BREAKS = frozenset(
    "反说称诉讲表要需想因无不没未已刚正的了是和与及等家门急床号卡住就挂缴办做检查打拿取签"
    "到排投咨询电手身年男女岁今昨前后上下早晚所也都还又再才被把给让叫从向对自本在于来去入"
    "出院来处诊科室费钱病情况信息资料本人其他她他们之这那有用"
)
# Forms of address that complete a surname (王先生, 李女士).
ADDRESS = ("先生", "女士", "阿姨", "大爷", "师傅", "老师", "某某", "某")


def name_at(text: str) -> str:
    """The patient name at the start of `text` (already past the trigger word), or ''."""
    for compound in COMPOUND_SURNAMES:
        if text.startswith(compound):
            given = _given(text[len(compound) :], 2)
            return compound + given if given else ""
    if not text or text[0] not in SURNAMES:
        return ""
    for word in ADDRESS:
        if text[1:].startswith(word):
            return text[0] + word
    if text[:2] in NOT_NAMES:
        return ""
    given = _given(text[1:], 2)
    return text[0] + given if given else ""


def _given(rest: str, max_len: int) -> str:
    """One or two given-name characters; stop at a break character or non-CJK."""
    out = ""
    for ch in rest[:max_len]:
        if not ("\u4e00" <= ch <= "\u9fff") or (ch in BREAKS and out):
            break
        if ch in BREAKS:
            return ""
        out += ch
    return out
