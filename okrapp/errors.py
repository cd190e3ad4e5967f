"""Error pages: HTML for the product, JSON for /api/ (a script should never have to parse an HTML error page)."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.shortcuts import render
from django.views import defaults


def is_api(request) -> bool:
    return request.path.startswith("/api/")


def too_large_detail() -> str:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return f"The request body is too large: at most {limit:,} bytes ({limit / 2**20:g} MB)."


def bad_request(request, exception=None):
    # Django answers a SuspiciousOperation (a body over DATA_UPLOAD_MAX_MEMORY_SIZE, too many fields, …) here.
    if is_api(request):
        if isinstance(exception, RequestDataTooBig):
            return JsonResponse({"detail": too_large_detail()}, status=413)
        return JsonResponse({"detail": "Bad request."}, status=400)
    return defaults.bad_request(request, exception)


def page_not_found(request, exception=None):
    # The same body for "missing" and "another organization's": nothing to learn from the difference.
    if is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return render(request, "404.html", status=404)


def permission_denied(request, exception=None):
    if is_api(request):
        return JsonResponse({"detail": "You do not have permission to perform this action."}, status=403)
    reason = str(exception) if exception and str(exception) else "You don't have permission to do that here."
    return render(request, "403.html", {"reason": reason}, status=403)


def server_error(request):
    # No details: the traceback goes to the log (and the admins' mail), never to the caller.
    if is_api(request):
        return JsonResponse({"detail": "Server error."}, status=500)
    return defaults.server_error(request)
