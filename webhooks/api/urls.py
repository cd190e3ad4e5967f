from okrapp.api.routers import OrgRouter
from webhooks.api.views import WebhookDeliveryViewSet, WebhookEndpointViewSet

router = OrgRouter()
router.register("webhooks/endpoints", WebhookEndpointViewSet, basename="api-webhook-endpoints")
router.register("webhooks/deliveries", WebhookDeliveryViewSet, basename="api-webhook-deliveries")
urlpatterns = router.urls
