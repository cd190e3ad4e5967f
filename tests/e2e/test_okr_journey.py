"""The OKR drafting journey in a real browser (issue 3 §5).

An admin creates a cycle and makes it active, drafts an objective with two key results (an increase and a
milestone), tries to publish while a KR has no owner (blocked, with the reason on the page), assigns the owners in
place, publishes, and sees the task-in-disguise chip on the milestone KR.
"""

import datetime as dt
import os
import re

from playwright.sync_api import expect

from accounts.models import Role
from objectives.models import Cycle, KeyResult, Objective
from tests.e2e.conftest import login
from tests.factories import MembershipFactory, OrganizationFactory, verified_email

PASSWORD = "correct-horse-battery"
SCREENSHOTS = os.environ.get("OKR_SCREENSHOTS")  # a directory: save one screenshot per main page there


def _shot(page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"okr-{name}.png"), full_page=True)


def test_draft_objective_blocked_by_unowned_kr_then_published(chromium_page, live_server):
    org = OrganizationFactory(name="Rocket Labs", slug="rocket")
    admin = MembershipFactory(organization=org, role=Role.ADMIN, user__email="ada@rocket.test", user__name="Ada Admin")
    MembershipFactory(organization=org, role=Role.MEMBER, user__email="max@rocket.test", user__name="Max Member")
    verified_email(admin.user)
    page = chromium_page
    login(page, live_server, "ada@rocket.test", PASSWORD)

    # 1. Create a quarter covering today and make it the active one.
    today = dt.date.today()
    start = today - dt.timedelta(days=30)
    page.goto(f"{live_server.url}/o/rocket/cycles/manage/")
    form = page.get_by_test_id("cycle-form")
    form.locator("input[name=name]").fill("Q-now")
    form.locator("select[name=kind]").select_option("quarter")
    form.locator("input[name=start_date]").fill(start.isoformat())
    form.locator("input[name=end_date]").fill((start + dt.timedelta(days=90)).isoformat())
    form.locator("button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("Cycle Q-now created")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Set active").click()
    expect(page.locator(".flash")).to_contain_text("Q-now is now the active quarter")
    assert Cycle.objects.get(organization=org, name="Q-now").status == Cycle.Status.ACTIVE
    _shot(page, "cycle-manage")

    # 2. The OKRs link opens the active cycle; draft an objective inline (a validation error first).
    page.get_by_role("navigation", name="Main").get_by_role("link", name="OKRs").click()
    expect(page.locator("h1")).to_contain_text("Q-now")
    page.get_by_test_id("new-objective").click()
    objective_form = page.get_by_test_id("objective-form")
    objective_form.locator("select[name=level]").select_option("company")
    objective_form.get_by_role("button", name="Create objective").click()
    expect(objective_form.locator(".errorlist")).to_contain_text("This field is required")
    objective_form.locator("input[name=title]").fill("Make onboarding effortless")
    objective_form.get_by_role("button", name="Create objective").click()
    expect(page.get_by_test_id("objective-header")).to_contain_text("Make onboarding effortless")
    objective = Objective.objects.get(organization=org, title="Make onboarding effortless")

    # 3. Two key results, both unowned for now: an increase and a (binary) milestone.
    page.get_by_test_id("add-kr").click()
    kr_form = page.get_by_test_id("kr-form")
    kr_form.locator("input[name=title]").fill("Increase weekly active teams from 40 to 80")
    kr_form.locator("select[name=kind]").select_option("increase")
    kr_form.locator("input[name=baseline]").fill("40")
    kr_form.locator("input[name=target]").fill("80")
    expect(kr_form.locator("[name=band_low]")).to_be_hidden()  # kind-aware form
    kr_form.get_by_role("button", name="Add key result").click()
    expect(page.get_by_test_id("kr-row")).to_have_count(1)

    page.get_by_test_id("add-kr").click()
    kr_form = page.get_by_test_id("kr-form")
    kr_form.locator("input[name=title]").fill("Launch the partner portal")
    kr_form.locator("select[name=kind]").select_option("milestone")
    expect(kr_form.locator("[name=baseline]")).to_be_hidden()
    kr_form.locator("select[name=unit]").select_option("none")
    kr_form.get_by_role("button", name="Add key result").click()
    expect(page.get_by_test_id("kr-row")).to_have_count(2)

    # 4. Publishing is blocked, and the page says exactly why.
    page.get_by_test_id("publish").click()
    blockers = page.get_by_test_id("publish-blockers")
    expect(blockers).to_contain_text("KR 'Increase weekly active teams from 40 to 80' has no owner.")
    expect(blockers).to_contain_text("KR 'Launch the partner portal' has no owner.")
    objective.refresh_from_db()
    assert objective.status == Objective.Status.DRAFT

    # 5. Assign the owners in place (edit → form fragment → save → row).
    for title, owner in (("Increase weekly active teams", "Max Member"), ("Launch the partner portal", "Ada Admin")):
        row = page.get_by_test_id("kr-row").filter(has_text=title)
        row.get_by_test_id("edit-kr").click()
        edit = page.get_by_test_id("kr-edit-form")
        edit.locator("select[name=owner]").select_option(label=owner)
        edit.get_by_role("button", name="Save").click()
        expect(page.get_by_test_id("kr-row").filter(has_text=title)).to_contain_text(owner)
    expect(page.get_by_test_id("publish-panel")).to_contain_text("All checks pass")

    # 6. Publish: the objective is live and the milestone KR wears the task-in-disguise chip.
    page.get_by_test_id("publish").click()
    expect(page.locator(".flash")).to_contain_text("is live")
    expect(page.get_by_test_id("objective-header")).to_contain_text("Active")
    objective.refresh_from_db()
    assert objective.status == Objective.Status.ACTIVE
    assert set(KeyResult.objects.filter(objective=objective).values_list("status", flat=True)) == {"active"}
    milestone = page.get_by_test_id("kr-row").filter(has_text="Launch the partner portal")
    chip = milestone.locator("[data-signal=task_in_disguise]")
    expect(chip).to_be_visible()
    expect(chip).to_have_attribute("title", re.compile("Looks like a task"))
    chip.focus()  # the reason and the rewrite hint show on keyboard focus too
    expect(chip.locator(".sig-tip")).to_be_visible()
    expect(chip.locator(".sig-tip")).to_contain_text("Increase Day-7 activation")
    increase = page.get_by_test_id("kr-row").filter(has_text="Increase weekly active teams")
    expect(increase.locator("[data-signal=task_in_disguise]")).to_have_count(0)
    _shot(page, "objective")

    # 7. The KR page and the cycle board show the same facts.
    milestone.get_by_role("link", name="Launch the partner portal").click()
    expect(page.get_by_test_id("kr-header")).to_contain_text("Task in disguise")
    _shot(page, "kr")
    page.get_by_role("link", name="Q-now").first.click()
    expect(page.get_by_test_id("objective-row")).to_contain_text("Make onboarding effortless")
    _shot(page, "cycle")
