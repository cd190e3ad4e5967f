"""JSON errors with field names, and Django's ValidationError from services mapped to 400 (never 500)."""

from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

from okrapp.errors import too_large_detail


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            exc = exceptions.ValidationError(exc.message_dict)
        else:
            exc = exceptions.ValidationError({"non_field_errors": exc.messages})
    elif isinstance(exc, RequestDataTooBig):  # request.data over DATA_UPLOAD_MAX_MEMORY_SIZE: Django's HTML 400
        exc = RequestTooLarge(too_large_detail())
    return drf_exception_handler(exc, context)
