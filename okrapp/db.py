"""The tenant base model: every tenant-owned row carries its organization (STYLE.md c.4)."""

import uuid

from django.db import models


class OrgScopedQuerySet(models.QuerySet):
    def for_org(self, org) -> "OrgScopedQuerySet":
        return self.filter(organization=org)


class TenantModel(models.Model):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        abstract = True
