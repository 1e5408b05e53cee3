"""Who is at the kiosk: the CCCD QR and appointment QR payloads, the patient code, typed
input rules and the card's expiry."""
