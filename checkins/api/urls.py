from checkins.api.views import KeyResultCheckInViewSet
from okrapp.api.routers import OrgRouter

router = OrgRouter()
router.register(
    r"key-results/(?P<key_result_id>[0-9a-fA-F-]{32,36})/check-ins",
    KeyResultCheckInViewSet,
    basename="api-key-result-checkins",
)
urlpatterns = router.urls
