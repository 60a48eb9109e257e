"""The Django project and the tenancy app."""

from authority.celery import app as celery_app

__all__ = ["celery_app"]
