"""A small HIS/LIS knowledge base with ticket links, shared by the handbook tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from indexer.analyzer import Analyzer
from indexer.engine import SearchEngine
from kbsvc import db
from kbsvc.config import Settings
from kbsvc.entries import service as entries
from kbsvc.entries.models import Entry, EntryStatus, LinkKind
from kbsvc.search.engine import build_search_engine
from kbsvc.timeutil import utcnow
from tests.factories import make_entry

XSS_TITLE = "打印预览异常<script>alert(1)</script>"
XSS_SYMPTOM = "预览空白 <img src=x onerror=alert(1)> 见 [x](javascript:alert(1))"

# (key, system, module, category, title, reuse, hours ago)
ROWS = [
    ("ca", "HIS", "门诊医生站", "登录与账号", "门诊医生站CA证书过期无法登录", 6, 30),
    ("slow", "HIS", "门诊医生站", "性能卡顿", "门诊医生站早高峰保存处方卡顿", 2, 1),
    ("price", "HIS", "门诊医生站", "数据错误", "处方药品单价显示为零", 2, 5),
    ("wrist", "HIS", "护士站", "打印", "住院护士站腕带打印错位", 4, 10),
    ("mar", "HIS", "护士站", "打印", "执行单打印缺少长期医嘱", 1, 2),
    ("bill", "HIS", "挂号收费", "数据错误", "收费处日结金额与报表不符", 3, 20),
    ("invoice", "HIS", "挂号收费", "打印", "电子发票打印提示模板不存在", 0, 3),
    ("reg", "HIS", "号源管理", "配置", "挂号号源未按排班放出", 1, 8),
    ("lis-barcode", "LIS", "标本采集", "打印", "检验条码打印机不出纸", 5, 12),
    ("lis-result", "LIS", "结果审核", "接口对接", "检验结果未回传HIS", 3, 4),
    ("lis-qc", "LIS", "质控", "配置", "质控规则未生效", 0, 6),
    ("lis-login", "LIS", "结果审核", "登录与账号", "检验科审核账号被锁定", 1, 40),
]


@dataclass
class KB:
    engine: Engine
    settings: Settings
    ids: dict[str, int]
    search: SearchEngine


def build_kb(session: Session) -> dict[str, int]:
    """Published entries with 0–6 linked tickets each, one draft and one XSS-laden entry."""
    ids: dict[str, int] = {}
    now = utcnow()
    for n, (key, system, module, category, title, reuse, hours) in enumerate(ROWS):
        entry = make_entry(
            session,
            title=title,
            system=system,
            module=module,
            category=category,
            symptom=f"{title}，科室反映影响业务。\n第二行说明",
            cause=f"{module}配置或环境问题",
            solution="1. 检查配置\n2. 重启服务\n3. 回访确认",
            workaround="改用备用工作站",
            tags=[system, category],
        )
        entry.updated_at = now - timedelta(hours=hours)
        session.add(entry)
        for i in range(reuse):
            kind = LinkKind.source if i == 0 else LinkKind.cited
            entries.link_ticket(
                session,
                entry_id=entry.id or 0,
                source="itsm",
                external_id=f"GD-{n:02d}-{i}",
                kind=kind,
                actor="test",
            )
        ids[key] = entry.id or 0
    ids["draft"] = (
        make_entry(
            session,
            status=EntryStatus.draft,
            title="草稿条目不应出现",
            system="HIS",
            module="号源管理",
        ).id
        or 0
    )
    session.commit()
    return ids


def add_xss_entry(session: Session) -> Entry:
    return make_entry(
        session,
        title=XSS_TITLE,
        symptom=XSS_SYMPTOM,
        cause="<b onmouseover=alert(2)>粗体</b> & 实体 &lt;",
        solution="`代码` **加粗**",
        workaround="javascript:alert(3)",
        system="HIS",
        module="护士站",
        category="打印",
    )


@pytest.fixture(scope="session")
def analyzer() -> Analyzer:
    """One jieba tokenizer for every engine the handbook tests start (it loads in ~1 s)."""
    return Analyzer()


@pytest.fixture
def kb_ids(session: Session) -> dict[str, int]:
    return build_kb(session)


@pytest.fixture
def search(settings: Settings, engine: Engine, analyzer: Analyzer) -> Iterator[SearchEngine]:
    """The real search engine over the test database; call `.sync()` after adding entries."""
    search = build_search_engine(settings, engine, analyzer=analyzer)
    search.start()
    yield search
    search.stop()


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory, analyzer: Analyzer) -> Iterator[KB]:
    """One KB per module, so the slow PDF/DOCX renderings can be shared by its tests."""
    path: Path = tmp_path_factory.mktemp("kb")
    settings = Settings(data_dir=path, database_url="", _env_file=None)  # type: ignore[call-arg]
    engine = db.make_engine(settings)
    db.upgrade(engine)
    with Session(engine, expire_on_commit=False) as session:
        ids = build_kb(session)
        ids["xss"] = add_xss_entry(session).id or 0
    search = build_search_engine(settings, engine, analyzer=analyzer)
    search.start()
    yield KB(engine=engine, settings=settings, ids=ids, search=search)
    search.stop()
    engine.dispose()
