"""Interoperability: bulk imports, open data, the change feed and the harvest of other exchanges."""
