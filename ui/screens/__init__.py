"""One widget per journey step (some steps share one). Each screen only shows
the journey's state (``show_journey``) and turns touches into journey events;
``clear()`` wipes anything personal from its widgets."""
from .base import Screen
from .finish import DoneScreen, ErrorScreen
from .insurance import InsuranceScreen
from .start import BusyScreen, KeypadScreen, NeedKeyScreen, WelcomeScreen
from .departments import DepartmentScreen
from .visit import AppointmentScreen, ConfirmScreen, PriorityScreen

__all__ = ["Screen", "WelcomeScreen", "NeedKeyScreen", "KeypadScreen", "BusyScreen", "ConfirmScreen",
           "AppointmentScreen", "DepartmentScreen", "PriorityScreen", "DoneScreen", "ErrorScreen", "InsuranceScreen"]
