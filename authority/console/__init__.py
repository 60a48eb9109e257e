"""The operator console around the admin: its site (the dashboard as the index) and the error
pages of /admin/. Kept out of `authority.admin`, which registers models on this site: the site
class must be importable before that package is."""
