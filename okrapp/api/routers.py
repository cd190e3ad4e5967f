from rest_framework.routers import SimpleRouter


class OrgRouter(SimpleRouter):
    """Routes under /api/v1/o/<org_slug>/, without trailing slashes (`…/key-results/<id>/check-ins`)."""

    def __init__(self):
        super().__init__(trailing_slash=False)
