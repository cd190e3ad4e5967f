from initiatives.api.views import InitiativeViewSet
from okrapp.api.routers import OrgRouter

router = OrgRouter()
router.register("initiatives", InitiativeViewSet, basename="api-initiatives")
urlpatterns = router.urls
