from django.urls import path

from objectives import views

app_name = "objectives"

urlpatterns = [
    path("okrs/", views.okrs_home, name="okrs_home"),
    path("cycles/", views.cycle_list, name="cycle_list"),
    path("cycles/manage/", views.cycle_manage, name="cycle_manage"),
    path("cycles/<uuid:cycle_id>/", views.cycle_detail, name="cycle_detail"),
    path("cycles/<uuid:cycle_id>/board/group/", views.cycle_board_group, name="cycle_board_group"),
    path("cycles/<uuid:cycle_id>/export.csv", views.cycle_export, name="cycle_export"),
    path("cycles/<uuid:cycle_id>/edit/", views.cycle_edit, name="cycle_edit"),
    path("cycles/<uuid:cycle_id>/activate/", views.cycle_activate, name="cycle_activate"),
    path("cycles/<uuid:cycle_id>/objectives/new/", views.objective_create, name="objective_create"),
    path("objectives/<uuid:objective_id>/", views.objective_detail, name="objective_detail"),
    path("objectives/<uuid:objective_id>/header/", views.objective_header, name="objective_header"),
    path("objectives/<uuid:objective_id>/edit/", views.objective_edit, name="objective_edit"),
    path("objectives/<uuid:objective_id>/publish/", views.objective_publish, name="objective_publish"),
    path("objectives/<uuid:objective_id>/archive/", views.objective_archive, name="objective_archive"),
    path("objectives/<uuid:objective_id>/delete/", views.objective_delete, name="objective_delete"),
    path("objectives/<uuid:objective_id>/alignment/", views.objective_align, name="objective_align"),
    path(
        "objectives/<uuid:objective_id>/alignment/form/",
        views.objective_alignment_form,
        name="objective_alignment_form",
    ),
    path("objectives/<uuid:objective_id>/contributions/", views.contribution_add, name="contribution_add"),
    path(
        "objectives/<uuid:objective_id>/contributions/<uuid:contribution_id>/remove/",
        views.contribution_remove,
        name="contribution_remove",
    ),
    path("objectives/<uuid:objective_id>/key-results/new/", views.kr_create, name="kr_create"),
    path("key-results/<uuid:key_result_id>/", views.kr_detail, name="kr_detail"),
    path("key-results/<uuid:key_result_id>/row/", views.kr_row, name="kr_row"),
    path("key-results/<uuid:key_result_id>/edit/", views.kr_edit, name="kr_edit"),
    path("key-results/<uuid:key_result_id>/delete/", views.kr_delete, name="kr_delete"),
    path("teams/<uuid:team_id>/okrs/", views.team_okrs, name="team_okrs"),
]
