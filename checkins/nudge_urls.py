from django.urls import path

from checkins import nudge_views

app_name = "nudges"

urlpatterns = [
    path("settings/checkins/", nudge_views.org_settings, name="org_settings"),
    path("settings/checkins/team-slack/", nudge_views.team_slack, name="team_slack"),
    path("settings/checkins/test-nudge/", nudge_views.test_nudge, name="test_nudge"),
]
