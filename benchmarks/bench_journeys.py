"""Taps and screens between identity and ticket, per journey, counted by the
journey state machine itself (``kiosk.journey.walker``: every journey's script
driven through ``Journey.handle``, no Qt). The baseline — the flow before
issue #18, ``kiosk.flow = "step_by_step"`` — is replayed with its own scripts
in the same run. A tap is a user event (a keypad entry counts once per
field); laying the card or showing a code is not a tap."""
from __future__ import annotations

from kiosk.journey.machine import CONSENT_TAP, FLOW_SHORT, FLOW_STEP_BY_STEP
from kiosk.journey.walker import walk_all

TARGET_CHIP_TAPS = 2  # a booked patient with a chip card: ≤ 2 taps after laying the card


def run() -> str:
    short = walk_all(FLOW_SHORT)
    before = {w.journey: w for w in walk_all(FLOW_STEP_BY_STEP)}
    tap = {w.journey: w for w in walk_all(FLOW_SHORT, consent=CONSENT_TAP)}
    rows = ["| journey | taps now | taps before | screens now | screens before | taps now / before "
            "| taps with consent tap |",
            "|---|---|---|---|---|---|---|"]
    for w in short:
        b = before[w.journey]
        rows.append(f"| {w.journey} | {w.taps} | {b.taps} | {w.screen_count} | {b.screen_count} | "
                    f"{w.taps / b.taps:.2f} | {tap[w.journey].taps} |")
    chip = next(w for w in short if w.journey.startswith("booked, chip (card, then its QR)"))
    typed = next(w for w in short if w.journey.startswith("booked, chip (card, then the ID typed)"))
    total_now, total_before = sum(w.taps for w in short), sum(b.taps for b in before.values())
    screens = " → ".join(s.value for s in chip.screens)
    return "\n".join([
        "## Journeys: taps and screens from identity to ticket",
        "",
        "Counted from the journey state machine (`kiosk/journey/walker.py`): each journey's script is driven",
        "through `Journey.handle` with canned HIS and device answers. \"Before\" is the previous flow",
        "(`kiosk.flow = \"step_by_step\"`: confirm identity, then the appointment, then priority) replayed with",
        "its own scripts in this run. Patient codes were not accepted before issue #18 at all; their \"before\"",
        "is that flow with the code. The BHYT journeys run the card check beside the patient lookup",
        "(`Settings.check_insurance`, on when `insurance.gateway` is not \"none\") with the gateway's answer",
        "canned: a valid card adds no tap; an expired card accepted as a fee-paying visit",
        "(`insurance.on_invalid = \"fee\"`) adds one. \"Taps with consent tap\" is the same journey with",
        "`privacy.consent = \"tap\"`: the privacy notice with agree / refuse before the card is read adds one tap",
        "(the default, `\"notice\"`, shows the notice on the welcome screen and adds none).",
        "",
        *rows,
        "",
        f"Booked patient with a chip card: **{chip.taps} tap** after laying the card when its QR opens the chip, "
        f"{typed.taps} when the ID is typed (target ≤ {TARGET_CHIP_TAPS}: "
        f"{'met' if max(chip.taps, typed.taps) <= TARGET_CHIP_TAPS else 'NOT met'}). Screens: {screens}.",
        f"All journeys together: {total_now} taps now against {total_before} before "
        f"({total_now / total_before:.2f}×).",
    ]) + "\n"


if __name__ == "__main__":
    print(run())
