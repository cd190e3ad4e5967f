from rest_framework.pagination import CursorPagination as _CursorPagination


class CursorPagination(_CursorPagination):
    """Stable cursor pages over the creation order; clients may ask for up to 200 rows a page."""

    ordering = "-created_at"
    page_size_query_param = "page_size"
    max_page_size = 200
