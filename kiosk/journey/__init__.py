"""The patient's journey at the kiosk: a pure state machine, its steps, what it asks the
services to do, and what the kiosk says aloud on each screen."""
