FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_DEBUG=0
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir -e . \
    && useradd --create-home panel \
    && mkdir -p /app/staticfiles /var/lib/gp-metrics /var/lib/gp-beat \
    && chown -R panel /app/staticfiles /var/lib/gp-metrics /var/lib/gp-beat
USER panel
EXPOSE 8000
