from django.urls import path

from webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("settings/webhooks/", views.endpoint_list, name="list"),
    path("settings/webhooks/<uuid:endpoint_id>/", views.endpoint_edit, name="edit"),
    path("settings/webhooks/<uuid:endpoint_id>/delete/", views.endpoint_delete, name="delete"),
    path("settings/webhooks/<uuid:endpoint_id>/active/", views.endpoint_set_active, name="set_active"),
    path("settings/webhooks/<uuid:endpoint_id>/secret/", views.endpoint_secret, name="secret"),
    path("settings/webhooks/<uuid:endpoint_id>/rotate/", views.endpoint_rotate, name="rotate"),
    path("settings/webhooks/<uuid:endpoint_id>/ping/", views.endpoint_ping, name="ping"),
    path("settings/webhooks/deliveries/<uuid:delivery_id>/", views.delivery_detail, name="delivery"),
    path("settings/webhooks/deliveries/<uuid:delivery_id>/redeliver/", views.delivery_redeliver, name="redeliver"),
]
