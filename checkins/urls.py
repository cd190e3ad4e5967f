from django.urls import path

from checkins import views

app_name = "checkins"

urlpatterns = [
    path("my-week/", views.my_week, name="my_week"),
    path("my-week/key-results/<uuid:key_result_id>/", views.my_week_kr_save, name="my_week_kr_save"),
    path("my-week/initiatives/<uuid:initiative_id>/", views.my_week_initiative_save, name="my_week_initiative_save"),
    path("key-results/<uuid:key_result_id>/history/", views.kr_history, name="kr_history"),
]
