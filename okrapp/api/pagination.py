from rest_framework.pagination import CursorPagination as _CursorPagination


class CursorPagination(_CursorPagination):
    """Stable cursor pages over the creation order; clients may ask for up to 200 rows a page.

    Rows created in the same instant (bulk imports, one transaction) tie on created_at: the cursor keeps the
    position plus an offset into the tie, so the order inside a tie must be fixed too (the id), or pages skip and
    repeat rows."""

    ordering = ("-created_at", "-id")
    page_size_query_param = "page_size"
    max_page_size = 200
