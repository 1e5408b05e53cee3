"""A simulator of the Vietnam Social Security (BHXH) gateway's BHYT card check,
speaking the same HTTP protocol, for tests and the demo. Standalone (stdlib
only; nothing from the kiosk). Run it with::

    python -m sandbox_bhxh --port 0 [--slow S] [--down] [--token-ttl S]

It prints one JSON line ``{"port": N}`` when ready. See README.md for the
cards (one per result code) and the test controls under ``/__admin/``.
"""
