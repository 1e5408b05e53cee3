"""Running the kiosk: structured logs, Prometheus metrics, diagnostics, the build and
settings it runs, the admin PIN."""
