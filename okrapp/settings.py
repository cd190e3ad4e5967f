"""okrapp settings: one module, every value from the environment (documented in .env.example).

With DEBUG false (the default) the variables a production deployment cannot guess are required and start-up
stops with a message naming the one that is missing.
"""

from pathlib import Path
from urllib.parse import unquote, urlparse

import dj_database_url

from okrapp.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

# --- Core -------------------------------------------------------------------------------------------------------
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-for-make-run" if DEBUG else None, required=not DEBUG)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else None, required=not DEBUG)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_NAME = env_str("SITE_NAME", "okrapp")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "allauth",
    "allauth.account",
    "accounts",
    "objectives",
    "initiatives",
    "checkins",
    "integrations",
    "webhooks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "okrapp.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "okrapp.middleware.OrgMembershipMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "okrapp.idempotency.IdempotencyMiddleware",  # POST /api/… with Idempotency-Key: run once, replay retries
]

ROOT_URLCONF = "okrapp.urls"
WSGI_APPLICATION = "okrapp.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.organization",
            ],
        },
    },
]

# --- Database and cache -----------------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", required=not DEBUG)
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL or "postgres://postgres@127.0.0.1:5432/okrapp", conn_max_age=env_int("CONN_MAX_AGE", 60)
    )
}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# OLTP queries gain nothing from PostgreSQL's JIT; it spent seconds compiling plans for the board's aggregate query.
DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0", required=not DEBUG)
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "okrapp"),
    }
}

# --- Auth (django-allauth) --------------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupForm"  # adds the person's name
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env_str("ACCOUNT_EMAIL_VERIFICATION", "optional" if DEBUG else "mandatory")
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[okrapp] "
# Rate limits live in the cache (Redis), so they hold across web processes.
ACCOUNT_RATE_LIMITS = {"login_failed": "5/5m/ip,5/5m/key", "signup": "20/h/ip", "reset_password": "10/h/ip"}

# --- Email ------------------------------------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "okrapp <noreply@okrapp.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The dev outbox keeps every sent mail in the database and shows it on /dev/outbox/ (make run, browser tests).
DEV_OUTBOX_ENABLED = env_bool("DEV_OUTBOX_ENABLED", DEBUG)
_email_url = urlparse(env_str("EMAIL_URL", "outbox://" if DEV_OUTBOX_ENABLED else "console://"))
if _email_url.scheme in ("smtp", "smtps", "submission"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _email_url.hostname or "localhost"
    EMAIL_PORT = _email_url.port or (465 if _email_url.scheme == "smtps" else 587)
    EMAIL_HOST_USER = unquote(_email_url.username or "")
    EMAIL_HOST_PASSWORD = unquote(_email_url.password or "")
    EMAIL_USE_SSL = _email_url.scheme == "smtps"
    EMAIL_USE_TLS = _email_url.scheme == "submission"
    EMAIL_TIMEOUT = 10
elif _email_url.scheme == "outbox":
    EMAIL_BACKEND = "accounts.mail.OutboxEmailBackend"
elif _email_url.scheme == "locmem":
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

# --- Security ---------------------------------------------------------------------------------------------------
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("USE_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Reverse proxies in front of the app that append the client's address to X-Forwarded-For. The audit log, the
# login rate limits (allauth) and the API throttles take the client address that many entries from the right;
# 0 (direct exposure) uses REMOTE_ADDR and ignores the header, which any client could forge.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
# Scripts only from our own origin: htmx and page scripts are static files, never inline.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
# Key for encrypting secrets at rest (integration tokens); derived from SECRET_KEY when not given.
FIELD_ENCRYPTION_KEY = env_str("FIELD_ENCRYPTION_KEY", "")

# --- i18n / static ----------------------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG and env_bool("STATIC_MANIFEST", True)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or not env_bool("STATIC_MANIFEST", True)

# --- API (DRF + drf-spectacular) --------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "okrapp.api.parsers.JSONParser",  # a too deeply nested body is a 400, not a RecursionError
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "okrapp.api.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["okrapp.api.throttling.TokenRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"token": env_str("API_TOKEN_RATE", "1200/min")},
    "NUM_PROXIES": TRUSTED_PROXY_COUNT or None,
    "EXCEPTION_HANDLER": "okrapp.api.errors.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "okrapp API",
    "DESCRIPTION": "Objectives, key results, initiatives and check-ins. Every path is scoped to one organization.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The API docs page loads Redoc from our own static files (CSP: scripts from our origin only; no CDN).
    "REDOC_DIST": "SIDECAR",
    # Several models have a "status"/"kind"/"level" choice set; name each enum after its model.
    "ENUM_NAME_OVERRIDES": {
        "CycleStatusEnum": "objectives.models.Cycle.Status",
        "CycleKindEnum": "objectives.models.Cycle.Kind",
        "ObjectiveStatusEnum": "objectives.models.Objective.Status",
        "ObjectiveLevelEnum": "objectives.models.Objective.Level",
        "KeyResultStatusEnum": "objectives.models.KeyResult.Status",
        "KeyResultKindEnum": "objectives.models.KeyResult.Kind",
        "InitiativeStatusEnum": "initiatives.models.Initiative.Status",
        "SignalLevelEnum": "objectives.api.serializers.SIGNAL_LEVELS",
        "MapStatusEnum": "objectives.api.map.STATUS_CHOICES",
    },
}

# --- Celery -----------------------------------------------------------------------------------------------------
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_TASK_ACKS_LATE = True  # redeliver if a worker dies mid-task ...
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1  # ... so every task must be idempotent
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 120
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 60 * 60}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_ROUTES = {"integrations.*": {"queue": "integrations"}}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = env_str("CELERY_BEAT_SCHEDULE_FILENAME", "celerybeat-schedule")

# --- Outbound webhooks (webhooks/) ------------------------------------------------------------------------------
# Let webhook URLs use http:// and reach loopback, private, link-local and reserved addresses. Only for DEBUG and
# tests (a local receiver on 127.0.0.1); in production it would let customers make the server call its own network
# (SSRF), and `check --deploy` warns when it is on.
WEBHOOKS_ALLOW_PRIVATE_HOSTS = env_bool("WEBHOOKS_ALLOW_PRIVATE_HOSTS", DEBUG)
# Customer endpoints can be slow: their sends share the integrations queue, never the nudges' default queue.
CELERY_TASK_ROUTES["webhooks.deliver"] = {"queue": "integrations"}

# --- Logging ----------------------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
