"""Calling boards: what a board shows, calling / recalling / skipping, who is next, and a
visit's progress for the patient's phone."""
