from django.urls import reverse


def test_dashboard_renders_for_member(client_for, member):
    response = client_for(member).get(reverse("accounts:dashboard", args=[member.organization.slug]))
    assert response.status_code == 200
    assert b"Get started" in response.content


def test_dashboard_of_other_org_is_404(client_for, member, other_org):
    response = client_for(member).get(reverse("accounts:dashboard", args=[other_org.slug]))
    assert response.status_code == 404
