"""Health insurance (BHYT): the card check's types and port, and what each answer means."""
