from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import ApiToken, AuditEvent, Invitation, Membership, Organization, Team, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "is_staff", "is_active", "date_joined"]
    search_fields = ["email", "name"]
    fieldsets = [
        (None, {"fields": ["email", "password", "name"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "timezone", "created_at"]
    search_fields = ["name", "slug"]
    exclude = ["slack_webhook_url"]  # a customer's secret: staff don't see it (set on the check-in settings page)


class TenantAdmin(admin.ModelAdmin):
    """Staff-only; every tenant row shows and filters by its organization."""

    list_filter = ["organization"]
    list_select_related = ["organization"]


@admin.register(Membership)
class MembershipAdmin(TenantAdmin):
    list_display = ["user", "organization", "role", "is_active"]


@admin.register(Team)
class TeamAdmin(TenantAdmin):
    list_display = ["name", "organization", "parent", "lead"]
    exclude = ["slack_webhook_url"]  # a customer's secret, as on OrganizationAdmin


@admin.register(Invitation)
class InvitationAdmin(TenantAdmin):
    list_display = ["email", "organization", "role", "expires_at", "accepted_at", "revoked_at"]
    exclude = ["token_hash"]


@admin.register(ApiToken)
class ApiTokenAdmin(TenantAdmin):
    list_display = ["name", "prefix", "organization", "membership", "last_used_at", "revoked_at"]
    exclude = ["token_hash"]


@admin.register(AuditEvent)
class AuditEventAdmin(TenantAdmin):
    list_display = ["at", "verb", "organization", "actor", "target_repr", "ip"]
