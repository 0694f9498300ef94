"""Queries, one module per aggregate. Repositories never commit: the unit of work does."""
