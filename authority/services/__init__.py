"""Writes of the tenancy app (HackSoft services): each audited in its own transaction."""
