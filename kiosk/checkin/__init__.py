"""Checking a patient in: online against the HIS, offline into the outbox, and the rules
both follow (which patient, which appointment, department → room → ticket)."""
