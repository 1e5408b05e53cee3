"""The kiosk's TOML configuration: its schema, loading and checks, writing settings back,
the HIS sign-in settings and secret files."""
