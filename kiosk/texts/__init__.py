"""What the patient reads and hears: the message catalogues and the labels the voice names."""
