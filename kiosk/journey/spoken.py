"""What the kiosk says aloud on each screen, built from the journey's state
(Qt-free, so it is tested without a screen or a sound card).

Each screen's instruction and what is on it: the masked name and the date of
birth to confirm, today's appointment, the departments with how many are
waiting, the priority choices, the queue number digit by digit and the room.
Never a full ID number — only its last four digits, as the screen shows them —
and only the masked name (family and given name, middle names left out).
The sentences follow the screen's language (Vietnamese or English).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Callable

from kiosk.domain import Identity, mask_name
from kiosk.journey.events import CITIZEN_ID, FLOW_SHORT, HOME, RETRY, TYPE_ID, Step
from kiosk.journey.notice import notice_body
from kiosk.texts.button_labels import button_names, said_label
from kiosk.texts.messages import t as _text

MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December")


def t(key: str, lang: str, **values) -> str:
    """A sentence to say: the catalogue's text with the buttons it names filled in
    as the screen labels them (``kiosk.texts.button_labels``)."""
    raw = _text(key, lang)
    if "_button}" in raw:
        values = {**button_names(lang), **values}
    return raw.format(**values) if values else raw


PRIORITY_NAMES = {"pregnant": "speech.priority.pregnant", "disability": "speech.priority.disability"}


def spoken_name(full_name: str | None) -> str:
    """The masked name as it is said: family and given name ('NGUYỄN VĂN AN' -> 'Nguyễn An')."""
    parts = [p for p in mask_name(full_name).split() if "*" not in p]
    return " ".join(p.capitalize() for p in parts)


def spoken_date(day: date, lang: str) -> str:
    if lang == "en":
        return f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"
    return f"ngày {day.day} tháng {day.month} năm {day.year}"


def spoken_time(when: datetime | None, lang: str) -> str:
    if when is None:
        return ""
    if lang == "en":
        return f"{when.hour}:{when.minute:02d}"
    return f"{when.hour} giờ" + (f" {when.minute:02d} phút" if when.minute else "")


def spoken_digits(label: str) -> str:
    """A queue number digit by digit ('012' -> '0 1 2'), as calling boards say it."""
    return ", ".join(" ".join(ch for ch in part) for part in label.replace("-", " ").split())


def who(identity: Identity | None, lang: str) -> str:
    """Who the kiosk thinks the patient is: masked name, date of birth, last four ID digits."""
    if identity is None:
        return ""
    parts = []
    name = spoken_name(identity.full_name)
    if name and identity.birth_date:
        parts.append(t("speech.who", lang, name=name, dob=spoken_date(identity.birth_date, lang)))
    elif not name:
        parts.append(t("speech.who_no_name", lang))
    parts.append(t("speech.id_end", lang, digits=" ".join(identity.citizen_id[-4:])))
    return " ".join(parts)


def spoken_text(journey, local_time: Callable[[datetime | None], datetime | None] = lambda d: d, *,
                digits_typed: int = 0, intro: bool = False) -> str:
    """Everything the current screen says, in the journey's language. ``local_time``
    turns an appointment time into the hospital's time; ``digits_typed`` is how
    many digits the keypad holds (the digits themselves are never said)."""
    lang, step = journey.language, journey.step
    said = [t("speech.intro", lang)] if intro else []
    if journey.notice and step is not Step.DONE:
        said.append(t(journey.notice, lang))
    if step is Step.WELCOME:
        said.append(t("speech.welcome", lang))
        said.append(t("speech.welcome.notice", lang))  # the privacy notice on the screen (Law 91/2025/QH15)
        if journey.printer_status in ("paper_out", "offline", "none"):
            said.append(t("speech.cannot_print", lang))
    elif step is Step.CONSENT:
        said.append(t("speech.consent", lang, notice=" ".join(notice_body(journey.settings, lang))))
    elif step is Step.NEED_KEY:
        said.append(t("speech.need_key", lang))
    elif step is Step.KEYPAD:
        field = "citizen_id" if journey.keypad_field == CITIZEN_ID else "patient_code"
        said.append(t(f"speech.keypad.{field}", lang, n=digits_typed))
    elif step is Step.READING:
        said.append(t("speech.wait.reading", lang))
    elif step in (Step.LOOKING_UP, Step.FINDING_BOOKING, Step.FINDING_PATIENT):
        said.append(t("speech.wait.looking_up", lang))
    elif step is Step.CHECKING_IN:
        said.append(t("speech.wait.checking_in", lang))
    elif step is Step.PRINTING:
        said.append(t("speech.wait.printing", lang))
    elif step is Step.CONFIRM_IDENTITY:
        said += [t("speech.confirm", lang, who=who(journey.identity, lang)), _coverage(journey, lang)]
    elif step is Step.APPOINTMENT:
        said += [_coverage(journey, lang), *_appointment(journey, lang, local_time)]
    elif step is Step.DEPARTMENT:
        said += [_coverage(journey, lang), *_departments(journey, lang)]
    elif step is Step.INSURANCE:
        fee = journey.insurance_action == "fee"
        message = t(journey.insurance_message, lang) if journey.insurance_message else ""
        said.append(t("speech.insurance.fee" if fee else "speech.insurance.counter", lang, message=message).strip())
    elif step is Step.PRIORITY:
        names = [t(PRIORITY_NAMES[p.value], lang) for p in journey.declarable_priorities()]
        said.append(t("speech.priority", lang, choices="; ".join(names)))
    elif step is Step.DONE:
        said += _done(journey, lang)
    elif step is Step.ALREADY:
        said += _already(journey, lang)
    elif step is Step.ERROR:
        said.append(_error(journey, lang))
    return " ".join(s for s in said if s)


def _coverage(journey, lang: str) -> str:
    shown = journey.insurance_shown
    return t(f"speech.coverage.{shown}", lang) if shown else ""


def _who_on_visit_screen(journey, lang: str) -> str:
    return who(journey.identity, lang) if journey.settings.flow == FLOW_SHORT else ""


def _priority_offer(journey, lang: str) -> list[str]:
    if journey.settings.flow != FLOW_SHORT or journey.age_priority is not None:
        return []
    if journey.priority is not None:
        return [t("speech.priority_chosen", lang, what=t(PRIORITY_NAMES[journey.priority.value], lang))]
    groups = f" {t('speech.or', lang)} ".join(t(PRIORITY_NAMES[p.value], lang) for p in journey.declarable_priorities())
    return [t("speech.priority_offer", lang, groups=groups)] if groups else []


def _department_name(dept, lang: str) -> str:
    return (dept.name_en or dept.name) if lang == "en" else dept.name


def _appointment(journey, lang, local_time) -> list[str]:
    appt = journey.appointment
    if appt is None:
        return []
    dept = journey.department(appt.department_code)
    room = dept.room(appt.room_code) if dept and appt.room_code else None
    where = f", {room.name}" + (f", {room.where}" if room.where else "") if room else ""
    text = t("speech.appointment", lang, who=_who_on_visit_screen(journey, lang),
             time=spoken_time(local_time(appt.start), lang),
             department=_department_name(dept, lang) if dept else (appt.department_code or ""), room=where)
    return [*_priority_offer(journey, lang), text.strip()]


def _departments(journey, lang) -> list[str]:
    if not journey.departments:
        return [t("speech.departments_loading", lang)]
    choices = []
    for dept in journey.departments:
        name = _department_name(dept, lang)
        if journey.waiting is not None:
            name += ", " + t("speech.waiting", lang, n=journey.waiting.get(dept.code, 0))
        choices.append(name)
    text = t("speech.departments", lang, who=_who_on_visit_screen(journey, lang), choices="; ".join(choices))
    return [*_priority_offer(journey, lang), text.strip()]


def _done(journey, lang) -> list[str]:
    result = journey.result
    if result is None:
        return []
    ticket = result.ticket
    room = ticket.room_name or ticket.room_code
    said = [t("speech.done", lang, number=spoken_digits(ticket.label),
              room=f"{room}, {ticket.room_where}" if ticket.room_where else room)]
    said.append(t("speech.done.take" if journey.printed else "speech.done.not_printed", lang))
    if journey.card_present:
        said.append(t("speech.done.take_card", lang))
    return said


def _already(journey, lang) -> list[str]:
    result = journey.result
    if result is None:
        return []
    ticket = result.ticket
    room = ticket.room_name or ticket.room_code
    dept = journey.department(ticket.department_code)
    name = (dept.name_en or dept.name) if (dept and lang == "en") else ticket.department_name
    return [t("speech.already", lang, number=spoken_digits(ticket.label), department=name,
              room=f"{room}, {ticket.room_where}" if ticket.room_where else room)]


def _error(journey, lang) -> str:
    err = journey.error
    if err is None:
        return ""
    actions = [said_label(f"ui.action.{a}", lang) for a in (RETRY, TYPE_ID, HOME) if a in err.actions]
    if not actions:  # out of service: nothing to touch
        return t(err.key, lang)
    return t("speech.error", lang, message=t(err.key, lang), actions="; ".join(actions)).strip()
