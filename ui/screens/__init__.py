"""One widget per journey step (some steps share one). Each screen only shows
the journey's state (``show_journey``) and turns touches into journey events;
``clear()`` wipes anything personal from its widgets."""
from ui.screens.already import AlreadyScreen
from ui.screens.base import Screen
from ui.screens.consent import ConsentScreen
from ui.screens.departments import DepartmentScreen
from ui.screens.finish import DoneScreen, ErrorScreen
from ui.screens.insurance import InsuranceScreen
from ui.screens.start import BusyScreen, KeypadScreen, NeedKeyScreen, WelcomeScreen
from ui.screens.visit import AppointmentScreen, ConfirmScreen, PriorityScreen

__all__ = ["Screen", "WelcomeScreen", "NeedKeyScreen", "KeypadScreen", "BusyScreen", "ConfirmScreen",
           "AppointmentScreen", "DepartmentScreen", "PriorityScreen", "DoneScreen", "ErrorScreen", "InsuranceScreen",
           "ConsentScreen", "AlreadyScreen"]
