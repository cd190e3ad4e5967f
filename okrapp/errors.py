from django.shortcuts import render


def page_not_found(request, exception=None):
    # The same body for "missing" and "another organization's": nothing to learn from the difference.
    return render(request, "404.html", status=404)


def permission_denied(request, exception=None):
    reason = str(exception) if exception and str(exception) else "You don't have permission to do that here."
    return render(request, "403.html", {"reason": reason}, status=403)
