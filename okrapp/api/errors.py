"""JSON errors with field names, and Django's ValidationError from services mapped to 400 (never 500)."""

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

from okrapp.errors import too_large_detail

# 404 details worth keeping; any other 404 says "Not found." (get_object_or_404 said "No KeyResult matches the given
# query.": a model name, and a different sentence for the same answer).
KEPT_NOT_FOUND = {"No such organization."}


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            exc = exceptions.ValidationError(exc.message_dict)
        else:
            exc = exceptions.ValidationError({"non_field_errors": exc.messages})
    elif isinstance(exc, (Http404, exceptions.NotFound)):
        detail = str(exc.detail) if isinstance(exc, exceptions.NotFound) else str(exc)
        exc = exceptions.NotFound(detail if detail in KEPT_NOT_FOUND else None)
    elif isinstance(exc, RequestDataTooBig):  # request.data over DATA_UPLOAD_MAX_MEMORY_SIZE: Django's HTML 400
        exc = RequestTooLarge(too_large_detail())
    return drf_exception_handler(exc, context)
