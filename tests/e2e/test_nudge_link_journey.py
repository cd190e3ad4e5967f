"""Browser journey: the nudge email's one-step link → check in two KRs → success → My week and the KR chart updated."""

import re
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, OutboxMessage, Role
from checkins.nudge_dispatch import nudges_dispatch
from tests.checkins.nudge_helpers import make_kr
from tests.e2e.conftest import login, screenshot
from tests.factories import MembershipFactory, OrganizationFactory, verified_email


def test_nudge_link_journey(live_server, chromium_page):
    page = chromium_page
    org = OrganizationFactory(name="Nudge Co", slug="nudge-co")
    member = MembershipFactory(organization=org, role=Role.MEMBER, user__email="nina@nudge.test", user__name="Nina")
    verified_email(member.user)
    nps = make_kr(member, title="Raise NPS to 50", current=30, target=50)
    activation = make_kr(member, title="Lift activation to 40%", current=20, target=40)
    Membership.objects.filter(pk=member.pk).update(next_nudge_at=timezone.now() - timedelta(minutes=1))

    # The dispatcher claims Nina; the batch task runs (eagerly here, as the worker would) and mails her.
    assert nudges_dispatch().receipts == 1
    mail = OutboxMessage.objects.get(to="nina@nudge.test")
    assert "Raise NPS to 50" in mail.body and "Lift activation to 40%" in mail.body
    link = re.search(r"(https?://\S+/checkin/\S+/)", mail.body).group(1)
    assert link.startswith(live_server.url)

    # Logged out, straight from the email: one form, both KRs, save.
    page.goto(link)
    rows = page.locator("[data-testid=nudge-kr-row]")
    assert rows.count() == 2
    page.get_by_label("New value for Raise NPS to 50").fill("38")
    page.get_by_label("Confidence for Raise NPS to 50 (0-10)").select_option("8")
    page.get_by_label("Comment on Raise NPS to 50").fill("Survey wave 2 landed")
    page.get_by_label("New value for Lift activation to 40%").fill("26")
    screenshot(page, "nudge-link-form")
    page.click("[data-testid=nudge-submit]")
    done = page.locator("[data-testid=nudge-done]")
    done.wait_for()
    assert "your check-in is saved" in done.inner_text()
    assert "2 key results updated" in done.inner_text()

    # Reopening the link: a clear "already used" page that changes nothing.
    response = page.goto(link)
    assert response.status == 410
    assert page.locator("[data-testid=nudge-link-problem]").get_attribute("data-problem") == "used"
    nps.refresh_from_db()
    activation.refresh_from_db()
    assert (nps.current, activation.current) == (38, 26)

    # Signed in: My week shows both KRs checked in with their new values; the KR's chart has the new point.
    login(page, live_server, "nina@nudge.test", "correct-horse-battery")
    page.goto(live_server.url + reverse("checkins:my_week", args=[org.slug]))
    nps_row = page.locator(f"[data-testid=kr-row][data-kr='{nps.public_id}']")
    assert nps_row.locator("[data-testid=checked-in]").count() == 1
    assert "38" in nps_row.locator("[data-testid=current-value]").inner_text()
    act_row = page.locator(f"[data-testid=kr-row][data-kr='{activation.public_id}']")
    assert act_row.locator("[data-testid=checked-in]").count() == 1
    page.goto(live_server.url + reverse("checkins:kr_history", args=[org.slug, nps.public_id]))
    assert page.locator("svg").count() >= 1
    body = page.locator("main").inner_text()
    assert "38" in body and "Survey wave 2 landed" in body
    screenshot(page, "nudge-link-kr-history")
