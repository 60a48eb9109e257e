"""Database backends: Django's PostgreSQL backend with what the hot paths need (`postgresql`)."""
