"""The expert network: profiles with per-field visibility, ORCID import, matching and consultations."""
