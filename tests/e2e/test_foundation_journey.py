"""The foundation journey in a real browser (issue 2 §4/§6).

Sign up → verify the email via the dev outbox → create an organization → invite a teammate → the teammate opens the
link while logged out, signs up, verifies, comes back to the invitation and joins → both see the org; a member of
another organization gets 404 on the first organization's pages.
"""

import re

from allauth.account.models import EmailAddress
from django.db import transaction
from playwright.sync_api import expect

from accounts.models import Invitation, Membership, Organization, Role
from accounts.services import invitation_send
from tests.e2e.conftest import login, logout, outbox_link, screenshot
from tests.factories import MembershipFactory, OrganizationFactory, verified_email

PASSWORD = "Tr0ub4dor&3-horse"


def _fill_sign_up(page, email: str) -> None:
    page.fill("input[name=email]", email)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.click("main form button[type=submit]")


def _sign_up(page, live_server, email: str) -> None:
    """Fill allauth's sign-up form; mandatory verification then shows the "verify your email" page."""
    _fill_sign_up(page, email)
    expect(page).to_have_url(re.compile(r"/accounts/confirm-email/$"))
    expect(page.locator("h1")).to_contain_text("Verify")
    screenshot(page, "verification-sent")


def _verify_email(page, live_server, email: str) -> None:
    """Open the verification link from the outbox and confirm it (one click, as a real user would)."""
    link = outbox_link(page, live_server, contains=email)
    assert "/accounts/confirm-email/" in link, link
    page.goto(link)
    screenshot(page, "confirm-email")
    page.click("main form button[type=submit]")


def test_sign_up_create_org_invite_teammate_and_tenant_isolation(chromium_context_factory, live_server):
    founder_email = "founder@journey.test"
    teammate_email = "teammate@journey.test"

    # 1. The founder signs up; without verification there is no way in.
    page = chromium_context_factory(timezone_id="Europe/Berlin")  # the founder's browser is in Berlin
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_role("link", name="Sign up").first.click()
    expect(page).to_have_url(re.compile(r"/accounts/signup/"))
    _sign_up(page, live_server, founder_email)

    # 2. Verify via the dev outbox: confirming logs the founder in and asks for a first organization.
    _verify_email(page, live_server, founder_email)
    expect(page).to_have_url(re.compile(r"/orgs/new/$"))
    expect(page.locator("h1")).to_contain_text("Create your organization")
    screenshot(page, "first-org")

    # 3. Create the organization (its time zone starts on the browser's): lands on its dashboard.
    expect(page.locator("select[name=timezone]")).to_have_value("Europe/Berlin")
    page.fill("input[name=name]", "Journey Labs")
    page.click("main form button[type=submit]")
    org = Organization.objects.get(name="Journey Labs")
    expect(page).to_have_url(f"{live_server.url}/o/{org.slug}/")
    expect(page.get_by_test_id("getting-started")).to_contain_text("Get started")
    assert Membership.objects.get(organization=org, user__email=founder_email).role == Role.OWNER
    assert org.timezone == "Europe/Berlin"

    # 4. Invite a teammate as Member from the People page.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="People").click()
    expect(page).to_have_url(f"{live_server.url}/o/{org.slug}/people/")
    page.fill("#invite-form input[name=email]", teammate_email)
    page.select_option("#invite-form select[name=role]", label="Member")
    page.click("#invite-form button[type=submit]")
    expect(page.get_by_test_id("invitations")).to_contain_text(teammate_email)
    expect(page.locator(".flash")).to_contain_text(f"Invitation sent to {teammate_email}")
    invitation = Invitation.objects.get(organization=org, email=teammate_email)
    assert invitation.role == Role.MEMBER

    # 5. Log out, then open the invitation link while logged out.
    logout(page, live_server)
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    invite_link = outbox_link(page, live_server, contains=teammate_email)
    assert "/invitations/" in invite_link, invite_link
    page.goto(invite_link)
    expect(page.locator("h1")).to_contain_text("Join Journey Labs")
    screenshot(page, "invitation-landing")

    # 6. Create an account from the invitation. The link reached this inbox, which proves the address: no second
    #    verification round, straight back to the invitation to accept it.
    page.get_by_role("link", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/accounts/signup/"))
    expect(page.locator("input[name=email]")).to_have_value(teammate_email)
    _fill_sign_up(page, teammate_email)
    expect(page).to_have_url(invite_link)
    assert EmailAddress.objects.get(email=teammate_email).verified
    expect(page.locator("h1")).to_contain_text("Join Journey Labs")
    screenshot(page, "invitation-accept")
    page.get_by_role("button", name="Accept and join").click()

    # 7. The teammate is in: the org dashboard, the org in the switcher, both people on the People page.
    expect(page).to_have_url(f"{live_server.url}/o/{org.slug}/")
    expect(page.locator(".flash")).to_contain_text("Welcome to Journey Labs")
    expect(page.get_by_test_id("getting-started")).to_be_visible()
    expect(page.get_by_test_id("org-switcher")).to_contain_text("Journey Labs")
    page.goto(f"{live_server.url}/o/{org.slug}/people/")
    members_table = page.get_by_test_id("members")
    expect(members_table).to_contain_text(founder_email)
    expect(members_table).to_contain_text(teammate_email)
    assert Membership.objects.get(organization=org, user__email=teammate_email).role == Role.MEMBER
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None

    # The founder (fresh browser, real login form) sees the teammate too, and no pending invitation any more.
    founder = chromium_context_factory()
    login(founder, live_server, founder_email, PASSWORD)
    expect(founder).to_have_url(f"{live_server.url}/o/{org.slug}/")
    founder.locator("[data-testid=org-switcher] summary").click()
    expect(founder.get_by_test_id("org-switcher").get_by_role("link", name="Journey Labs")).to_be_visible()
    founder.goto(f"{live_server.url}/o/{org.slug}/people/")
    expect(founder.get_by_test_id("members")).to_contain_text(teammate_email)
    expect(founder.get_by_test_id("invitations")).to_have_count(0)

    # 8. Someone from another organization gets the same 404 page on every page of this one.
    other = MembershipFactory(
        organization=OrganizationFactory(name="Elsewhere Inc", slug="elsewhere"),
        role=Role.OWNER,
        user__email="boss@elsewhere.test",
    )
    other.user.set_password(PASSWORD)
    other.user.save()
    verified_email(other.user)
    stranger = chromium_context_factory()
    login(stranger, live_server, "boss@elsewhere.test", PASSWORD)
    expect(stranger).to_have_url(f"{live_server.url}/o/elsewhere/")
    for path in ("", "people/", "teams/", "tokens/", "audit/", "settings/me/"):
        response = stranger.goto(f"{live_server.url}/o/{org.slug}/{path}")
        assert response.status == 404, (path, response.status)
        expect(stranger.locator("h1")).to_have_text("Not found")
        expect(stranger.locator("main")).not_to_contain_text("Journey Labs")


def test_invitee_signing_up_with_another_address_verifies_it_and_returns_to_the_invitation(
    chromium_context_factory, live_server
):
    """Invitation opened while logged out, sign-up with a different address → verification mail → the verification
    link (same browser) logs in and resumes the invitation, which says which address it was sent to."""
    owner = MembershipFactory(
        organization=OrganizationFactory(name="Resume Co", slug="resume-co"), role=Role.OWNER, user__email="o@r.test"
    )
    verified_email(owner.user)
    with transaction.atomic():
        invitation_send(actor=owner, email="work@r.test", role=Role.VIEWER)

    page = chromium_context_factory()
    invite_link = outbox_link(page, live_server, contains="work@r.test")
    page.goto(invite_link)
    page.get_by_role("link", name="Create account").click()
    page.fill("input[name=email]", "")  # prefilled with the invited address; this person uses a private one
    _sign_up(page, live_server, "private@home.test")
    assert not Membership.objects.filter(user__email="private@home.test").exists()

    _verify_email(page, live_server, "private@home.test")
    expect(page).to_have_url(invite_link)
    expect(page.locator("main")).to_contain_text("This invitation was sent to work@r.test")
    page.get_by_role("button", name="Accept and join").click()
    expect(page).to_have_url(f"{live_server.url}/o/resume-co/")
    membership = Membership.objects.get(user__email="private@home.test", organization__slug="resume-co")
    assert membership.role == Role.VIEWER

    # The link worked once: opening it again explains why it cannot be used.
    response = page.goto(invite_link)
    assert response.status == 404
    expect(page.get_by_test_id("invitation-problem")).to_contain_text("already been used")
    screenshot(page, "invitation-used")
