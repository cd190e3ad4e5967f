from django.urls import path

from objectives.api.views import ContributionViewSet, CycleViewSet, KeyResultViewSet, MeView, ObjectiveViewSet
from okrapp.api.routers import OrgRouter

router = OrgRouter()
router.register("cycles", CycleViewSet, basename="api-cycles")
router.register("objectives", ObjectiveViewSet, basename="api-objectives")
router.register("key-results", KeyResultViewSet, basename="api-key-results")
router.register("contributions", ContributionViewSet, basename="api-contributions")
urlpatterns = [*router.urls, path("me", MeView.as_view(), name="api-me")]
