"""The kiosk's Qt shell: the only package that imports PySide6.

``ui.app`` starts the window, ``ui.controller`` drives the Qt-free
``kiosk.journey.machine`` with a worker pool (``ui.tasks``) and device signals
(``ui.device_signals``); ``ui.screens`` draw each step.
"""
