"""The simulator's cards: one test card per result code, plus the demo people
of ``assets/demo/hospital.json`` (their ``bhyt`` entries).

Validity dates follow today's date so the cards never go stale: a card runs
from 1 January to 31 December of the current year; ``last_year`` cards ended
on 31 December last year; ``from_next_year`` cards start on 1 January next year; a new card (003/004) runs until 31 December next
year. Everything here is fictional.
"""
from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

DEMO_FILE = Path(__file__).resolve().parent.parent / "assets" / "demo" / "hospital.json"

TEST_NAME = "NGUYỄN VĂN THỬ"
TEST_BIRTH = "01/01/1980"
YEAR_ONLY_NAME = "TRẦN THỊ NĂM"
YEAR_ONLY_BIRTH = "1950"
OTHER_FACILITY = "01009"

# Codes that come back as soon as the card is found, whatever name and birth
# date were sent (the test cards of codes the protocol cannot provoke otherwise).
FORCED = ("001", "002", "051", "052", "053", "054", "055", "060", "061", "070", "100", "101", "110",
          "120", "121", "122", "123", "124", "130", "205", "401", "500")
USABLE = ("000", "001", "002", "003", "004")
ALL_CODES = ("000", "001", "002", "003", "004", "010", "050", "051", "052", "053", "054", "055", "060", "061",
             "070", "100", "101", "110", "120", "121", "122", "123", "124", "130", "205", "401", "500")


@dataclass(frozen=True)
class Card:
    cccd: str  # 12 digits; also found by its 15-character code and 10-digit BHXH number
    name: str
    birth: str  # dd/MM/yyyy, or yyyy when the card shows only the year
    result: str  # maKetQua once name and birth date match (or at once when forced)
    code: str  # 15-character card code
    facility: str
    sex: str = "Nam"
    address: str = "Thôn Thử, Xã Mẫu, Tỉnh Giả Lập"
    validity: str = "this_year"  # or "last_year", "from_next_year"
    new_code: str = ""
    five_years_from: str = ""  # dd/MM/yyyy
    area: str = ""
    forced: bool = False

    @property
    def bhxh_number(self) -> str:
        return self.code[-10:]


def number_for_code(code: str) -> str:
    """The test card that answers ``code`` (050's number has no card)."""
    return "099900000" + code


def _code_card(result: str, facility: str, **kw) -> Card:
    cccd = kw.pop("cccd", number_for_code(result))
    new = f"DN4{cccd[2:4]}{cccd[-10:]}" if result in ("003", "004") else ""
    return Card(cccd=cccd, name=kw.pop("name", TEST_NAME), birth=kw.pop("birth", TEST_BIRTH), result=result,
                code=f"GD4{cccd[2:4]}{cccd[-10:]}", facility=facility, new_code=new,
                forced=result in FORCED, **kw)


def code_cards(facility: str) -> list[Card]:
    cards = [_code_card(code, facility) for code in ALL_CODES if code != "050"]
    cards += [
        # usable code, but the card ended last year: the kiosk must say "expired"
        _code_card("000", facility, cccd=number_for_code("900"), validity="last_year"),
        # usable code, but the card starts next year: the kiosk must not take it as valid today
        _code_card("000", facility, cccd=number_for_code("903"), validity="from_next_year"),
        # the card shows only the year of birth: ngaySinh must be "yyyy"
        _code_card("000", facility, cccd=number_for_code("901"), name=YEAR_ONLY_NAME, birth=YEAR_ONLY_BIRTH),
        # valid, registered at another facility
        _code_card("000", OTHER_FACILITY, cccd=number_for_code("902"), five_years_from="01/01/2015", area="K2"),
    ]
    return cards


def _dmy(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%d/%m/%Y") if iso else ""


def demo_cards(demo_file: Path = DEMO_FILE) -> list[Card]:
    demo = json.loads(Path(demo_file).read_text(encoding="utf-8"))
    cards = []
    for person in demo["people"]:
        bhyt = person.get("bhyt")
        if not bhyt:
            continue  # no card: the gateway answers 050
        cards.append(Card(
            cccd=person["citizen_id"], name=person["full_name"], birth=_dmy(person["birth_date"]),
            result=bhyt["result"], code=bhyt["card"], facility=bhyt["facility"], sex=person["sex"],
            address=person["address"], validity=bhyt.get("validity", "this_year"),
            new_code=bhyt.get("new_card", ""), five_years_from=_dmy(bhyt.get("five_years_from", "")),
            area=bhyt.get("area", "")))
    return cards


def demo_facility(demo_file: Path = DEMO_FILE) -> str:
    return json.loads(Path(demo_file).read_text(encoding="utf-8"))["hospital"]["facility_code"]


def index(cards: list[Card]) -> dict[str, Card]:
    """Cards by each of their numbers: CCCD, card code, BHXH number."""
    found = {}
    for card in cards:
        for number in (card.cccd, card.code, card.bhxh_number):
            found[number] = card
    return found


def same_name(a: str, b: str) -> bool:
    norm = lambda s: " ".join(unicodedata.normalize("NFC", s).casefold().split())  # noqa: E731
    return norm(a) == norm(b)


def _span(today: date, which: str) -> tuple[str, str]:
    y = today.year
    first, last = {"last_year": (y - 1, y - 1), "next_year": (y, y + 1),
                   "from_next_year": (y + 1, y + 1)}.get(which, (y, y))
    return f"01/01/{first}", f"31/12/{last}"


def reply(card: Card | None, code: str, today: date) -> dict:
    """The gateway's reply for ``code`` about ``card`` (None: no card)."""
    body = {key: None for key in (
        "maThe", "hoTen", "ngaySinh", "gioiTinh", "diaChi", "maDKBD", "cqBHXH", "gtTheTu", "gtTheDen",
        "maKV", "ngayDu5Nam", "maSoBHXH", "maTheCu", "maTheMoi", "maDKBDMoi", "gtTheTuMoi", "gtTheDenMoi",
        "dsLichSuKCB2018", "dsLichSuKT2018")}
    body["maKetQua"] = code
    body["ghiChu"] = NOTES.get(code, "Lỗi không xác định")
    if card is None or code not in USABLE + ("010",):
        return body
    old = "last_year" if code in ("003", "010") else card.validity
    since, until = _span(today, old)
    body.update(maThe=card.code, hoTen=card.name, ngaySinh=card.birth, gioiTinh=card.sex, diaChi=card.address,
                maDKBD=card.facility, cqBHXH="BHXH tỉnh (giả lập)", gtTheTu=since, gtTheDen=until,
                maKV=card.area, ngayDu5Nam=card.five_years_from, maSoBHXH=card.bhxh_number)
    # Like the real gateway, the note repeats personal data: a client must never log it.
    body["ghiChu"] = (f"{body['ghiChu']} Họ tên: {card.name}, Ngày sinh: {card.birth}, Giới tính: {card.sex}! "
                      f"(ĐC: {card.address}; Nơi KCBBĐ: {card.facility}; Hạn thẻ: {since} - {until})")
    if code in ("003", "004"):
        new_since, new_until = _span(today, "next_year")
        body.update(maTheMoi=card.new_code, maDKBDMoi=card.facility, gtTheTuMoi=new_since, gtTheDenMoi=new_until,
                    maTheCu=card.code)
    return body


NOTES = {
    "000": "Thông tin thẻ chính xác!", "001": "Thẻ do BHXH Bộ Quốc Phòng quản lý!",
    "002": "Thẻ do BHXH Bộ Công An quản lý!", "003": "Thẻ cũ hết giá trị sử dụng, được cấp thẻ mới!",
    "004": "Thẻ cũ còn giá trị sử dụng, được cấp thẻ mới!", "010": "Thẻ hết giá trị sử dụng!",
    "050": "Không thấy thông tin thẻ BHYT!", "051": "Mã thẻ không đúng!", "052": "Mã tỉnh cấp thẻ không đúng!",
    "053": "Mã quyền lợi thẻ không đúng!", "054": "CCCD cán bộ chưa được đăng ký!",
    "055": "Họ tên cán bộ không đúng!", "060": "Họ tên không đúng!", "061": "Họ tên không đúng (đúng ký tự đầu)!",
    "070": "Ngày sinh không đúng!", "100": "Lỗi khi lấy dữ liệu số thẻ!", "101": "Lỗi server!",
    "110": "Thẻ đã thu hồi!", "120": "Thẻ đã báo giảm!", "121": "Thẻ đã báo giảm (chuyển ngoại tỉnh)!",
    "122": "Thẻ đã báo giảm (chuyển nội tỉnh)!", "123": "Thẻ đã báo giảm (thay đổi thông tin)!",
    "124": "Thẻ đã báo giảm (tạm hoãn)!", "130": "Trẻ em không xuất trình thẻ!",
    "205": "Lỗi sai định dạng tham số!", "401": "Lỗi xác thực tài khoản!", "500": "Lỗi không xác định!",
}
