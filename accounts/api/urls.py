from accounts.api.views import MembershipViewSet, TeamViewSet
from okrapp.api.routers import OrgRouter

router = OrgRouter()
router.register("members", MembershipViewSet, basename="api-members")
router.register("teams", TeamViewSet, basename="api-teams")
urlpatterns = router.urls
