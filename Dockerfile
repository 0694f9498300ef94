FROM python:3.11-slim

# Fonts with Arabic and Persian glyphs, for chart and card images; FriBiDi lets
# Pillow's raqm layout shape Arabic and Persian on the /balance card.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core libfribidi0 postgresql-client \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY storage ./storage
COPY locales ./locales
RUN pip install --no-cache-dir . && useradd --create-home --uid 1000 wafa && mkdir /data && chown wafa /data

USER wafa
WORKDIR /data
ENV DATABASE_URL=sqlite+aiosqlite:////data/wafa.db
# The HTTP side (API, shop webhooks, health, the Telegram webhook) on PORT, reachable from outside the container.
ENV HTTP_HOST=0.0.0.0
VOLUME ["/data"]
EXPOSE 8080
STOPSIGNAL SIGTERM
CMD ["wafa", "run"]
