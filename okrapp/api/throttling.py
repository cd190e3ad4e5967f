from rest_framework.throttling import SimpleRateThrottle


class TokenRateThrottle(SimpleRateThrottle):
    """Throttle scripts per API token; browser sessions are not throttled here."""

    scope = "token"

    def get_cache_key(self, request, view):
        token = getattr(request, "auth", None)
        token_id = getattr(token, "pk", None)
        if token_id is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": token_id}
