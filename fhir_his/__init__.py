"""FHIR R4 adapter: the REST client and the HIS port built on it."""
