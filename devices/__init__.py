"""Device adapters (card reader, camera, printer, voice): each implements a port of
kiosk/ports.py and has a scriptable simulator beside it."""
