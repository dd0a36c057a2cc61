"""Bulk import of spreadsheets: one small mapping module per kind of record (offer, demand, organization, expert)."""
