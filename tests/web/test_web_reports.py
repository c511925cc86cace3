"""A director clicks a heatmap cell on /reports and lands on the tickets behind it."""

from __future__ import annotations

import pytest

from tests.factories import make_ticket
from tests.web.conftest import LiveServer, login, shot

pytestmark = pytest.mark.browser


def test_heatmap_cell_opens_its_tickets(live_server: LiveServer, page) -> None:  # type: ignore[no-untyped-def]
    # Alias spellings (心血管内科, HIS系统) land in the 心内科 × HIS cell.
    with live_server.session() as s:
        make_ticket(
            s,
            source="helpdesk",
            external_id="GD-WEB-DRILL-1",
            title="心血管内科医生站登录慢",
            department="心血管内科",
            system="HIS系统",
            handling_minutes=25,
            opened_at="2025-06-03 09:00",
            resolved_at="2025-06-03 10:00",
        )
    login(page, live_server, "reviewer1", "/reports")
    cell = page.locator('a.drill[data-cell="心内科|HIS"]')
    assert cell.count() == 1
    cell.click()
    page.wait_for_url(f"{live_server.url}/reports/tickets?*")
    assert "科室：心内科" in page.locator("#drill-filters").inner_text()
    rows = page.locator("#drill-tickets tbody tr")
    assert rows.count() >= 2
    for i in range(rows.count()):
        row = rows.nth(i)
        assert row.get_attribute("data-department") == "心内科"
        assert row.get_attribute("data-system") == "HIS"
    assert page.locator('tr[data-ticket="GD-WEB-0001"]').count() == 1
    drill = page.locator('tr[data-ticket="GD-WEB-DRILL-1"]')
    assert "25 分钟" in drill.inner_text()
    shot(page, "reports-drill")
    # Each ticket leads on to the entry written from it.
    page.locator('tr[data-ticket="GD-WEB-0001"] a[href^="/entries/"]').first.click()
    page.wait_for_url(f"{live_server.url}/entries/*")
    assert "门诊医生站CA证书过期导致无法登录" in page.content()
    assert not page.page_errors
