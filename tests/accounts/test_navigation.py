"""The header: admins reach every organization setting through one "Settings" link and its tabs; API tokens live in
the account menu for everyone."""

import re

import pytest
from django.urls import reverse

SETTINGS_PAGES = ["nudges:org_settings", "webhooks:list", "accounts:audit"]


def settings_link(html):
    return re.search(r'<a href="([^"]+)"[^>]*data-testid="nav-settings"', html)


@pytest.mark.parametrize("page", SETTINGS_PAGES)
def test_admins_move_between_settings_pages_by_tabs(client_for, admin, page):
    slug = admin.organization.slug
    html = client_for(admin).get(reverse(page, args=[slug])).content.decode()
    assert 'data-testid="settings-tabs"' in html
    tabs = html.split('data-testid="settings-tabs"', 1)[1].split("</nav>", 1)[0]
    for target in SETTINGS_PAGES:
        assert f'href="{reverse(target, args=[slug])}"' in tabs
    current = re.findall(r'<a href="([^"]+)" aria-current="page"', tabs)
    assert current == [reverse(page, args=[slug])]
    link = settings_link(html)
    assert link and link.group(1) == reverse("nudges:org_settings", args=[slug])
    assert 'aria-current="page" data-testid="nav-settings"' in html  # the main nav marks "Settings" as where we are


def test_the_settings_link_is_for_admins_only_and_tokens_for_everyone(client_for, admin, member):
    slug = member.organization.slug
    dashboard = reverse("accounts:dashboard", args=[slug])
    tokens = reverse("accounts:tokens", args=[slug])
    member_html = client_for(member).get(dashboard).content.decode()
    assert settings_link(member_html) is None
    assert f'<a href="{tokens}" data-testid="nav-tokens">' in member_html
    admin_html = client_for(admin).get(dashboard).content.decode()
    assert settings_link(admin_html) is not None
    assert f'<a href="{tokens}" data-testid="nav-tokens">' in admin_html
