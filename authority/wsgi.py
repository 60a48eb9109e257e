"""WSGI entry point (gunicorn authority.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authority.settings")
application = get_wsgi_application()
