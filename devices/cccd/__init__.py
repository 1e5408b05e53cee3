"""Reading the Vietnamese citizen identity card (CCCD) chip, without hardware.

ICAO 9303 eMRTD logic only — no PC/SC, no threads, no Qt — so that it can be
tested with the standard's worked examples and fuzzed:

- ``tlv``, ``mrz``, ``dg13``, ``lds``: parsers of the chip's files (typed
  ``CardParseError`` on malformed input);
- ``crypto``, ``sm``, ``bac``, ``pace``: key derivation, secure messaging
  (3DES and AES), BAC and PACE ECDH generic mapping;
- ``session``: the APDU conversation over any ``transmit`` function;
- ``chip_read``: one complete read; ``sod``: passive authentication;
- ``sample_card``: demo cards (simulator, tests, benchmark).

``devices.card`` puts this behind the kiosk's ``CardReader`` port.
"""
