from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination as _CursorPagination

INVALID_CURSOR = {"cursor": ["Invalid cursor."]}


class CursorPagination(_CursorPagination):
    """Stable cursor pages over the creation order; clients may ask for up to 200 rows a page.

    Rows created in the same instant (bulk imports, one transaction) tie on created_at: the cursor keeps the
    position plus an offset into the tie, so the order inside a tie must be fixed too (the id), or pages skip and
    repeat rows.

    A cursor that can't be decoded, or whose position isn't a value of the ordering field (a hand-made
    `?cursor=`), is a 400 `{"cursor": ["Invalid cursor."]}`: DRF answered the first with a 404 and let the second
    reach the database filter (a 400 with Django's datetime message)."""

    ordering = ("-created_at", "-id")
    page_size_query_param = "page_size"
    max_page_size = 200
    invalid_cursor_message = "Invalid cursor."

    def paginate_queryset(self, queryset, request, view=None):
        model = getattr(queryset, "qs", queryset).model  # objectives.api.lists.RawPage wraps its queryset
        try:
            self._position_field = model._meta.get_field(self.ordering[0].lstrip("-"))
        except FieldDoesNotExist:
            self._position_field = None
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise ValidationError(INVALID_CURSOR) from None
        field = getattr(self, "_position_field", None)
        if cursor is not None and cursor.position is not None and field is not None:
            try:
                field.to_python(cursor.position)
            except DjangoValidationError:
                raise ValidationError(INVALID_CURSOR) from None
            if "\x00" in cursor.position:
                raise ValidationError(INVALID_CURSOR)
        return cursor
