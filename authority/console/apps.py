"""Django's admin app, on the console's site (`authority.console.site.ConsoleSite`)."""

from django.contrib.admin.apps import AdminConfig


class ConsoleAdminConfig(AdminConfig):
    default_site = "authority.console.site.ConsoleSite"
