from accounts.demo import DEMO_PASSWORD, seed_demo_people
from objectives.demo import seed_demo_okrs
from objectives.models import Cycle, KeyResult, Objective
from accounts.models import Team
from tests.e2e.conftest import login


def test_screens(chromium_page, live_server):
    org, people, teams = seed_demo_people()
    seed_demo_okrs(org=org, people=people, teams=teams)
    page = chromium_page
    login(page, live_server, "demo@okrapp.local", DEMO_PASSWORD)
    u = live_server.url
    q = Cycle.objects.get(organization=org, kind="quarter")
    shots = {
        "dash": f"{u}/o/demo/",
        "cycle": f"{u}/o/demo/cycles/{q.public_id}/",
        "cycles": f"{u}/o/demo/cycles/",
        "manage": f"{u}/o/demo/cycles/manage/",
        "obj-onb": f"{u}/o/demo/objectives/{Objective.objects.get(title__startswith='Make onboarding').public_id}/",
        "obj-growth": f"{u}/o/demo/objectives/{Objective.objects.get(title__startswith='Build a sustainable').public_id}/",
        "obj-team": f"{u}/o/demo/objectives/{Objective.objects.get(title__startswith='Turn sign-ups').public_id}/",
        "kr-inc": f"{u}/o/demo/key-results/{KeyResult.objects.get(title__startswith='Increase Day-7').public_id}/",
        "kr-maint": f"{u}/o/demo/key-results/{KeyResult.objects.get(title__startswith='Keep p95').public_id}/",
        "team": f"{u}/o/demo/teams/{Team.objects.get(name='Growth').public_id}/okrs/",
    }
    for name, url in shots.items():
        page.goto(url)
        page.screenshot(path=f"/tmp/h5shots/demo-{name}.png", full_page=True)
    # interactions
    page.goto(shots["obj-onb"])
    page.get_by_test_id("add-kr").click()
    page.get_by_test_id("kr-form").locator("select[name=kind]").select_option("maintain")
    page.get_by_test_id("kr-form").get_by_role("button", name="Add key result").click()
    page.wait_for_timeout(500)
    page.screenshot(path="/tmp/h5shots/demo-kr-form-errors.png", full_page=True)
    page.goto(shots["obj-onb"])
    page.get_by_test_id("edit-kr").first.click()
    page.get_by_test_id("kr-edit-form").locator("input[name=target]").fill("60")
    page.get_by_test_id("kr-edit-form").get_by_role("button", name="Save").click()
    page.wait_for_timeout(500)
    page.screenshot(path="/tmp/h5shots/demo-kr-edit-rationale.png", full_page=True)
    page.goto(shots["cycle"])
    page.select_option("select[name=signal]", "watermelon")
    page.wait_for_timeout(700)
    page.screenshot(path="/tmp/h5shots/demo-cycle-filtered.png", full_page=True)
    print(page.url)
