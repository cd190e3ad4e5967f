from django.conf import settings


class ContentSecurityPolicyMiddleware:
    """Adds the CSP header (Django 5.2 has none built in). Scripts load only from our origin."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        return response


class OrgMembershipMiddleware:
    """Answer 404 for /o/<org_slug>/… pages of organizations the signed-in user is not in, before the view runs.

    A wrapper around the same resolver as `@org_member_required` (STYLE.md c.4), placed in front of every
    method check: otherwise `@require_POST` would answer a GET from a stranger with 405 and reveal that the URL
    exists. The membership is kept on the request so the decorator does not query it twice. API views are left
    to the DRF permission, which sees token users (this middleware runs before DRF authenticates them).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        from okrapp.tenancy import resolve_membership

        slug = view_kwargs.get("org_slug")
        if slug is None or getattr(view_func, "cls", None) is not None:  # DRF views carry .cls
            return None
        if request.user.is_authenticated:
            request.resolved_membership = resolve_membership(request.user, slug)  # Http404 for strangers
        return None
