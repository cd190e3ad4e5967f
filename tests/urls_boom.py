"""Test-only URLconf: the project's URLs (and error handlers) plus views that fail, under /api/ and outside it."""

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny

from okrapp.urls import handler400, handler403, handler404, handler500
from okrapp.urls import urlpatterns as project_urlpatterns

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


def boom(request):
    raise RuntimeError("boom")


@csrf_exempt
def read_form(request):
    return HttpResponse(str(len(request.POST)))  # a SuspiciousOperation when the form breaks the upload limits


@api_view(["GET"])
@permission_classes([AllowAny])
def api_boom(request):
    raise RuntimeError("boom")


urlpatterns = [
    path("api/boom-plain", boom),
    path("api/boom-drf", api_boom),
    path("boom", boom),
    path("api/read-form", read_form),
    path("read-form", read_form),
    *project_urlpatterns,
]
