from django.urls import path

from initiatives import views

app_name = "initiatives"

urlpatterns = [
    path("key-results/<uuid:key_result_id>/initiatives/new/", views.initiative_create, name="initiative_create"),
    path("initiatives/<uuid:initiative_id>/row/", views.initiative_row, name="initiative_row"),
    path("initiatives/<uuid:initiative_id>/edit/", views.initiative_edit, name="initiative_edit"),
    path("initiatives/<uuid:initiative_id>/delete/", views.initiative_delete, name="initiative_delete"),
]
