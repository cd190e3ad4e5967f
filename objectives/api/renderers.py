"""orjson for the hot OKR endpoints: their payloads are plain dicts of str/float/UUID/datetime (DESIGN.md §10)."""

from decimal import Decimal

import orjson
from rest_framework.renderers import JSONRenderer


def _default(value):
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


class ORJSONRenderer(JSONRenderer):
    """Same media type and output shape as DRF's JSONRenderer, 5–10× faster on large payloads."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return orjson.dumps(data, default=_default, option=orjson.OPT_NON_STR_KEYS)
