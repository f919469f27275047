import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gamingpanel.settings")

from gamingpanel.observability import setup  # noqa: E402  (needs the settings module named)

setup()  # Sentry and tracing when configured: before the handler loads the middleware
application = get_wsgi_application()
