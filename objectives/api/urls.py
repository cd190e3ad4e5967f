from objectives.api.views import ContributionViewSet, CycleViewSet, KeyResultViewSet, MeViewSet, ObjectiveViewSet
from okrapp.api.routers import OrgRouter

router = OrgRouter()
router.register("cycles", CycleViewSet, basename="api-cycles")
router.register("objectives", ObjectiveViewSet, basename="api-objectives")
router.register("key-results", KeyResultViewSet, basename="api-key-results")
router.register("contributions", ContributionViewSet, basename="api-contributions")
router.register("me", MeViewSet, basename="api-me")
urlpatterns = router.urls
