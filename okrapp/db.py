"""The tenant base model: every tenant-owned row carries its organization (STYLE.md c.4)."""

import uuid

from django.db import models

# Descriptions, hypotheses, retrospectives: long enough for any real note, short enough that a script cannot
# store megabytes in one row (every list and page reads them).
LONG_TEXT_MAX = 10_000


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
