"""The journey's end, after the last row of ``kiosk.journey.table``: the check-in,
the ticket, and the done screen — and what each result or failure leads to.

A check-in that finds the patient's open visit of today in that department
(``CheckInResult.repeat``: ``kiosk.repeat_visits = "refuse"``) makes no visit:
the patient sees the number they already have (``Step.ALREADY``), with a reprint
of that ticket and "done".

Entry: ``identity``, ``lookup``, ``department_code`` / ``appointment``, ``priority``
(the check-in request is made of them). A check-in that the HIS refuses for want
of a department sends the patient back to the department screen.
"""
from __future__ import annotations

from kiosk.domain import CheckInRequest
from kiosk.errors import DepartmentRequired, HisUnavailable, KioskError, UnknownDepartment
from kiosk.identity import input_rules
from kiosk.journey import card_check
from kiosk.journey.events import HOME, RETRY, CheckIn, LoadDepartments, PrintTicket, Retry, Step
from kiosk.journey.steps import JourneyStep
from kiosk.ports import MODE_OFFLINE


class Finish(JourneyStep):
    name = "finish"
    screens = (Step.CHECKING_IN, Step.PRINTING, Step.DONE, Step.ALREADY)
    on = {Retry: "print_again"}
    timeouts = {Step.CHECKING_IN: "checkin_timeout_s", Step.PRINTING: "print_timeout_s",
                Step.DONE: "done_timeout_s", Step.ALREADY: "done_timeout_s"}
    busy = frozenset({Step.CHECKING_IN, Step.PRINTING})
    needs = ("identity",)
    gives = ("result", "printed")

    def enter(self, j, notice: str | None = None) -> list:
        return self.check_in(j)

    def check_in(self, j) -> list:
        is_retry = j.checkin_id is not None
        # a canonical UUID (urn:uuid: in the HIS), the same one when retried (kiosk.identity.input_rules)
        j.checkin_id = j.checkin_id or input_rules.new_checkin_id()
        request = CheckInRequest(checkin_id=j.checkin_id, identity=j.identity, is_retry=is_retry,
                                 lookup=j.lookup, coverage=card_check.visit_coverage(j),
                                 department_code=None if j.appointment else j.department_code,
                                 declared_priority=j.priority or j.age_priority,
                                 kiosk_id=j.settings.kiosk_id)
        j.go(Step.CHECKING_IN)
        j.retry_with = lambda: self.check_in(j)
        return [CheckIn(j.op, request)]

    @staticmethod
    def _end(j) -> Step:
        """The last screen: the ticket, or the number the patient already had."""
        return Step.ALREADY if j.result is not None and j.result.repeat else Step.DONE

    def print(self, j) -> list:
        if not j.printer_ready:
            j.go(self._end(j), notice="ui.done.not_printed")
            return []
        j.go(Step.PRINTING)
        j.retry_with = lambda: self.print(j)
        return [PrintTicket(j.op, j.result.ticket)]

    def print_again(self, j, ev) -> list | None:
        if j.step is Step.DONE and not j.printed and j.result is not None:
            return self.print(j)
        if j.step is Step.ALREADY and j.result is not None:  # "reprint": the same ticket again
            return self.print(j)
        return None

    def done(self, j, value) -> list | None:
        if j.step is Step.CHECKING_IN:
            j.result = value
            j.offline = j.result.mode == MODE_OFFLINE or j.result.ticket.offline
            if j.result.repeat:  # no new visit: the number they have, printed only if they ask
                j.go(Step.ALREADY)
                return []
            return self.print(j)
        if j.step is Step.PRINTING:
            j.printed = True
            j.go(self._end(j))
        return None

    def failed(self, j, err: BaseException, key: str) -> list | None:
        if j.step is Step.CHECKING_IN:
            if isinstance(err, (DepartmentRequired, UnknownDepartment)):
                j.appointment = None
                j.go(Step.DEPARTMENT, notice=key)
                return [LoadDepartments()]
            retryable = isinstance(err, HisUnavailable) or not isinstance(err, KioskError)
            return j.fail(key, (RETRY, HOME) if retryable else (HOME,),
                          retry=(lambda: self.check_in(j)) if retryable else None)
        if j.step is Step.PRINTING:
            j.go(self._end(j), notice=key if isinstance(err, KioskError) else "ui.done.not_printed")
        return None

    def timed_out(self, j) -> list | None:
        if j.step is Step.CHECKING_IN:
            return j.fail("error.his_unavailable", (RETRY, HOME), retry=lambda: self.check_in(j))
        if j.step is Step.PRINTING:
            j.go(self._end(j), notice="ui.done.not_printed")
            return None
        j.reset()  # the done screen has been read
        return None


FINISH = Finish()
