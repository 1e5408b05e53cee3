"""Qt-free core of the patient check-in kiosk: domain, ports, services, config,
the FHIR adapter, the composition root and the command line."""

__version__ = "0.1.0"
