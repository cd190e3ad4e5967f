# One image for every process in docker-compose.yml: web (gunicorn), worker, beat and the migrate job.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, so code changes don't reinstall them. Every runtime dependency ships a manylinux wheel
# (psycopg[binary] included), so no compiler is needed.
COPY requirements.lock ./
RUN pip install -r requirements.lock

COPY . .

# Static files are collected at build time. Settings insist on these variables when DEBUG is false; the values
# below only exist for this step (nothing connects to a database or Redis here).
RUN DEBUG=false \
    SECRET_KEY=collectstatic-only \
    ALLOWED_HOSTS=localhost \
    DATABASE_URL=postgres://build@localhost:5432/build \
    REDIS_URL=redis://localhost:6379/0 \
    python manage.py collectstatic --noinput

# Run as an unprivileged user; the code stays root-owned and read-only to it.
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin app
USER app

EXPOSE 8000
CMD ["gunicorn", "okrapp.wsgi", "--bind", "0.0.0.0:8000", "--workers", "2", "--access-logfile", "-"]
