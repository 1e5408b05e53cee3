"""The short privacy notice (Law 91/2025/QH15 on personal data, Decree 13/2023/ND-CP
before it): what the kiosk reads, why, who keeps it, for how long, the patient's rights
and where to read more — built from the catalogue and the settings, Qt-free, for the
welcome screen, the consent screen (``privacy.consent = "tap"``) and the voice.

What is read follows the settings: the face photo only with ``privacy.read_photo``,
the BHYT card status only when the kiosk checks cards. A hospital's own wording
(``privacy.notice_vi`` / ``notice_en``) replaces the body; the title and the QR code to
the full notice (``privacy.notice_url``) stay. In large text the welcome screen shows
the brief form (``notice_body(..., brief=True)``): at 1.5× the full one does not fit
beside the card and QR pictures in landscape.
"""
from __future__ import annotations

from kiosk.texts.messages import t


def data_read(settings, lang: str) -> str:
    """'họ tên, số định danh, ngày sinh, giới tính, địa chỉ và tình trạng thẻ BHYT'."""
    items = [t("privacy.data.main", lang), t("privacy.data.address", lang)]
    if settings.read_photo:
        items.append(t("privacy.data.photo", lang))
    if settings.check_insurance:
        items.append(t("privacy.data.insurance", lang))
    return ", ".join(items[:-1]) + f" {t('privacy.data.and', lang)} " + items[-1]


def notice_body(settings, lang: str, *, brief: bool = False) -> list[str]:
    """The notice's lines under its title (a hospital's override: its own text, one paragraph).
    ``brief``: the two-line form that fits the welcome screen in large text (what is read,
    why, for how long, the right to refuse; the rest behind the QR code)."""
    own = settings.notice_texts.get(lang)
    if own:
        return [own]
    if brief:
        extra = (t("privacy.brief.photo", lang) if settings.read_photo else "") + \
            (t("privacy.brief.insurance", lang) if settings.check_insurance else "")
        return [t("privacy.notice.brief", lang, extra=extra)]  # the QR code beside it says "more" by itself
    hospital = settings.hospital_name or t("privacy.notice.hospital", lang)
    rights = t("privacy.notice.rights", lang)
    if settings.notice_url:
        rights += " " + t("privacy.notice.more", lang)
    return [t("privacy.notice.what", lang, hospital=hospital, data=data_read(settings, lang)),
            t("privacy.notice.keep", lang), rights]


def notice_title(lang: str) -> str:
    return t("privacy.notice.title", lang)
