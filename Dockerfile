FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_DEBUG=0
WORKDIR /app
COPY pyproject.toml ./
COPY gamingpanel ./gamingpanel
COPY apps ./apps
RUN pip install --no-cache-dir .
COPY . .
RUN useradd --create-home panel && chown -R panel /app
USER panel
EXPOSE 8000
