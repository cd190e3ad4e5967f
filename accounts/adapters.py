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
        # `home` resumes a pending invitation too (the verification link may open in the same browser session).
        return reverse("home")

    def is_email_verified(self, request, email):
        """An address that received a still-valid invitation link has proven itself: no second verification mail."""
        from accounts.services import invitation_get_by_token, invitation_problem

        token = request.session.get(PENDING_INVITATION_SESSION_KEY) if request is not None else None
        if token:
            invitation = invitation_get_by_token(token=token)
            if invitation_problem(invitation) is None and invitation.email.lower() == email.strip().lower():
                return True
        return super().is_email_verified(request, email)


__all__ = ["AccountAdapter", "LAST_ORG_SESSION_KEY"]
