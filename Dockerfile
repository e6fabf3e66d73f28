# One image for the web process and the workers: `nova serve` or `nova worker`.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    NOVA_HOST=0.0.0.0 \
    NOVA_PORT=8000 \
    NOVA_DATA_DIR=/data

# bubblewrap runs the code-execution sandbox.
RUN apt-get update \
 && apt-get install -y --no-install-recommends bubblewrap \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 nova \
 && mkdir -p /data && chown nova:nova /data

WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY app ./app
RUN pip install -c constraints.txt -e .
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static

USER nova
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
CMD ["nova", "serve"]
