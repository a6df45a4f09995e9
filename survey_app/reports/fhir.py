"""FHIR exports of patient activation (admin only, audited)."""
