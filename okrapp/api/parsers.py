"""Request parsers: DRF's, hardened against bodies that would otherwise end in a 500."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser as _JSONParser


class JSONParser(_JSONParser):
    """DRF's JSON parser; a body nested deeper than Python's recursion limit (`[[[[…]]]]`) is a 400 parse error,
    not a RecursionError (500)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply.") from None
