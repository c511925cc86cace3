"""Screenshots attached to entries appear in the handbook: HTML preview, PDF and DOCX."""

from __future__ import annotations

import io

from docx import Document
from pypdf import PdfReader
from sqlmodel import Session

from indexer.engine import SearchEngine
from kbsvc.attachments import service as attachments
from kbsvc.attachments import sniff
from kbsvc.auth.models import SYSTEM, Principal, Role
from kbsvc.config import Settings
from kbsvc.entries import revisions, service
from kbsvc.handbooks import assemble
from kbsvc.handbooks.models import HandbookCreate, Selection
from kbsvc.handbooks.render import docx, html, pdf
from tests import attachments_data as files


def _pdf_images(data: bytes) -> int:
    # WeasyPrint shares one resource dictionary between pages: count distinct images.
    return len({i.name for page in PdfReader(io.BytesIO(data)).pages for i in page.images})


def test_attached_screenshot_is_in_preview_pdf_and_docx(
    session: Session, settings: Settings, kb_ids: dict[str, int], search: SearchEngine
) -> None:
    search.sync()
    spec = HandbookCreate(title="检验系统故障手册", selection=Selection(systems=["LIS"]))

    def build(principal: Principal = SYSTEM):  # type: ignore[no-untyped-def]
        return assemble.build_adhoc(
            session, data=spec, settings=settings, search=search, principal=principal
        )

    before = build()
    pdf_before = pdf.render(before, preferred_fonts=settings.handbooks.pdf_fonts)
    docx_before = Document(io.BytesIO(docx.render(before, cfg=settings.handbooks)))

    # Through the review loop: the entry is published, so the picture waits in a revision.
    entry_id = kb_ids["lis-login"]
    clean = sniff.clean_upload(
        files.png(400, 200, "#345"), "审核界面报错.png", settings.attachments
    )
    attachments.add(
        session, entry_id=entry_id, upload=clean, principal=SYSTEM, settings=settings.attachments
    )
    assert all(not e.images for e in build().entries)  # pending: not in the handbook yet
    rev = revisions.require_open(session, entry_id)
    revisions.submit(session, rev=rev, actor="t")
    entry = service.get(session, entry_id=entry_id, principal=SYSTEM)
    revisions.publish(session, entry=entry, rev=rev, actor="t", note="")
    session.commit()

    after = build()
    shown = {e.id: [i.filename for i in e.images] for e in after.entries if e.images}
    assert shown == {entry_id: ["审核界面报错.png"]}
    preview = html.render(after)
    assert 'src="data:image/png;base64,' in preview and "审核界面报错.png" in preview
    assert _pdf_images(pdf.render(after, preferred_fonts=settings.handbooks.pdf_fonts)) == (
        _pdf_images(pdf_before) + 1
    )
    document = Document(io.BytesIO(docx.render(after, cfg=settings.handbooks)))
    assert len(document.inline_shapes) == len(docx_before.inline_shapes) + 1
    assert any("审核界面报错.png" in p.text for p in document.paragraphs)

    # A reader who may not see the entry gets neither the entry nor its picture.
    outsider = Principal(kind="user", name="v", role=Role.viewer, departments=("信息科",))
    from kbsvc.auth import policy

    policy.set_restrictions(session, entry_id, ["检验科"])
    session.commit()
    assert all(not e.images for e in build(outsider).entries)
