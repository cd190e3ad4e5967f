"""Audit sign-ins, failed sign-ins and sign-ups (allauth and Django emit the signals; we only record)."""

from allauth.account.signals import user_signed_up
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts.audit import audit_record, client_ip
from accounts.models import User


@receiver(user_logged_in)
def _on_login(sender, request, user, **kwargs):
    audit_record(org=None, actor=user, verb="auth.login", target=user, ip=client_ip(request))


@receiver(user_logged_out)
def _on_logout(sender, request, user, **kwargs):
    if user is not None:
        audit_record(org=None, actor=user, verb="auth.logout", target=user, ip=client_ip(request))


@receiver(user_login_failed)
def _on_login_failed(sender, credentials, request=None, **kwargs):
    email = (credentials or {}).get("email") or (credentials or {}).get("username") or ""
    user = User.objects.filter(email__iexact=email).first() if email else None
    audit_record(org=None, actor=user, verb="auth.login_failed", diff={"email": email[:200]}, ip=client_ip(request))


@receiver(user_signed_up)
def _on_signup(sender, request, user, **kwargs):
    audit_record(org=None, actor=user, verb="auth.signup", target=user, ip=client_ip(request))
