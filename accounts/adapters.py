from allauth.account.adapter import DefaultAccountAdapter
from django.urls import reverse

from okrapp.tenancy import LAST_ORG_SESSION_KEY

PENDING_INVITATION_SESSION_KEY = "pending_invitation_token"


class AccountAdapter(DefaultAccountAdapter):
    def get_login_redirect_url(self, request):
        # An invitation opened while logged out resumes after sign-up/login.
        token = request.session.get(PENDING_INVITATION_SESSION_KEY)
        if token:
            return reverse("invitation_accept", args=[token])
        return reverse("home")

    def get_signup_redirect_url(self, request):
        return self.get_login_redirect_url(request)

    def get_email_verification_redirect_url(self, email_address):
        return reverse("home")


__all__ = ["AccountAdapter", "LAST_ORG_SESSION_KEY"]
