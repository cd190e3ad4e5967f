from django.urls import path

from objectives import map_views

app_name = "okrmap"

urlpatterns = [path("map/", map_views.alignment_map, name="map")]
