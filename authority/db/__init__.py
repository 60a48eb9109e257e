"""Database backends: Django's PostgreSQL backend with what the hot paths need (`postgresql`), and
its SQLite backend making the database's folder on connecting (`sqlite3`)."""
