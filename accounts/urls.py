from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("people/", views.members, name="members"),
    path("people/invite/", views.invitation_create, name="invitation_create"),
    path("people/invitations/<uuid:invitation_id>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("people/<uuid:member_id>/role/", views.member_role, name="member_role"),
    path("people/<uuid:member_id>/deactivate/", views.member_deactivate, name="member_deactivate"),
    path("people/<uuid:member_id>/reactivate/", views.member_reactivate, name="member_reactivate"),
    path("teams/", views.teams, name="teams"),
    path("teams/new/", views.team_create, name="team_create"),
    path("teams/<uuid:team_id>/", views.team_detail, name="team_detail"),
    path("teams/<uuid:team_id>/delete/", views.team_delete, name="team_delete"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<uuid:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("audit/", views.audit, name="audit"),
    path("settings/me/", views.my_settings, name="my_settings"),
]
