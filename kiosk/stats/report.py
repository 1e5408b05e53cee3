"""The statistics report as Markdown, CSV or one self-contained HTML file.

Vietnamese first, English second, for hospital leaders. The HTML file carries
its CSS and its charts (SVG images inline as data: URLs) and prints on A4.
Input is ``kiosk.stats.figures.compute_stats``'s dict: departments, channels, times —
no names, ID numbers or dates of birth ever reach a report.
"""
from __future__ import annotations

import base64
import csv
import html
import io

from kiosk.stats import charts as stats_charts
from kiosk.stats.figures import CHANNELS, MODES, UNKNOWN

TITLE = ("Báo cáo đăng ký khám tại kiosk", "Kiosk check-in report")
CHANNEL_NAMES = {
    "chip": ("Chip CCCD", "CCCD chip"),
    "cccd_qr": ("QR trên CCCD", "CCCD QR code"),
    "appointment_qr": ("QR lịch hẹn", "appointment QR"),
    "typed": ("Nhập số CCCD", "typed ID number"),
    "patient_code": ("Mã bệnh nhân", "patient code"),
    UNKNOWN: ("Không rõ", "unknown"),
}
MODE_NAMES = {"online": ("Trực tuyến", "online"), "offline": ("Ngoại tuyến, gửi sau", "offline, sent later"),
              UNKNOWN: ("Không rõ", "unknown")}
PRIORITY_NAMES = {
    "emergency": ("Cấp cứu", "emergency"),
    "child_under_6": ("Trẻ em dưới 6 tuổi", "child under 6"),
    "pregnant": ("Phụ nữ có thai", "pregnant"),
    "disability": ("Người khuyết tật", "disability"),
    "elderly_75": ("Người từ 75 tuổi", "aged 75 or over"),
    "meritorious": ("Người có công với cách mạng", "person of merit"),
}
# (JSON key, Vietnamese, English) of the numbers shown per department.
COLUMNS = [
    ("checkins", "Lượt đăng ký", "check-ins"),
    ("booked", "Có hẹn trước", "booked"),
    ("walk_in", "Vãng lai", "walk-in"),
    ("priority", "Ưu tiên", "priority"),
    ("bhyt", "Có BHYT", "with BHYT"),
    ("called", "Đã gọi", "called"),
    ("started", "Đã vào khám", "with the doctor"),
    ("finished", "Khám xong", "finished"),
    ("no_shows", "Gọi không đến", "no-shows"),
]
WAITS = [("wait_to_call_minutes", "Chờ đến lúc được gọi", "wait to be called"),
         ("wait_to_start_minutes", "Chờ đến lúc vào khám", "wait to see the doctor")]


def _pct(share: float) -> str:
    return f"{share * 100:.0f} %"


def _num(value) -> str:
    return "—" if value is None else (f"{value:g}" if isinstance(value, float) else str(value))


def _minutes(value) -> str:
    return "—" if value is None else f"{value:g} phút"


def _dept_label(code: str, dept: dict) -> str:
    return f"{dept['name']} ({code})" if dept.get("name") else code


def _period(data: dict) -> str:
    days = data["from"] if data["from"] == data["to"] else f"{data['from']} → {data['to']}"
    return days + (f", khoa / department {data['department']}" if data.get("department") else "")


# --- Markdown --------------------------------------------------------------------------

def render_markdown(data: dict) -> str:
    t = data["total"]
    out = [f"# {TITLE[0]} / {TITLE[1]}", "", f"{_period(data)} ({data['timezone']})", "",
           "## Tổng quan / Overview", "",
           "| | |", "|---|---|",
           f"| Lượt đăng ký / check-ins | {t['checkins']} |",
           f"| Có hẹn trước / booked | {t['booked']} |",
           f"| Vãng lai / walk-in | {t['walk_in']} |",
           f"| Ưu tiên / priority | {t['priority']} ({_pct(t['priority_share'])}) |",
           f"| Có BHYT / with BHYT | {t['bhyt']} ({_pct(t['bhyt_share'])}) |",
           f"| Gọi không đến / no-shows | {t['no_shows']} |",
           f"| Lịch hẹn không đến / appointments not kept | {t['appointments']['noshow']} |",
           "", "## Theo khoa / By department", "",
           "| Khoa / department | " + " | ".join(f"{vi} / {en}" for _, vi, en in COLUMNS)
           + " | Chờ gọi (phút), trung vị / P90 | Chờ khám (phút), trung vị / P90 |",
           "|---" * (len(COLUMNS) + 3) + "|"]
    for code, dept in data["by_department"].items():
        waits = [f"{_num(dept[k]['median'])} / {_num(dept[k]['p90'])}" for k, _, _ in WAITS]
        out.append(f"| {_dept_label(code, dept)} | " + " | ".join(str(dept[k]) for k, _, _ in COLUMNS)
                   + " | " + " | ".join(waits) + " |")
    out += ["", "## Cách nhận diện / Identification channel", "", "| | |", "|---|---|"]
    out += [f"| {CHANNEL_NAMES.get(c, (c, c))[0]} / {CHANNEL_NAMES.get(c, (c, c))[1]} | {n} |"
            for c, n in t["by_channel"].items()]
    out += ["", "## Chế độ / Mode", "", "| | |", "|---|---|"]
    out += [f"| {MODE_NAMES.get(m, (m, m))[0]} / {MODE_NAMES.get(m, (m, m))[1]} | {n} |"
            for m, n in t["by_mode"].items()]
    out += ["", "## Theo giờ / By hour", "", "| Giờ / hour | Lượt / check-ins |", "|---|---|"]
    out += [f"| {h}h | {n} |" for h, n in t["by_hour"].items()]
    return "\n".join(out) + "\n"


# --- CSV -----------------------------------------------------------------------------

def render_csv(data: dict) -> str:
    """One row per department and a TOTAL row; columns: counts, channels,
    modes, waiting times (minutes) and check-ins per hour h00..h23."""
    head = (["department", "department_name"] + [k for k, _, _ in COLUMNS]
            + ["priority_share", "bhyt_share", "appointments", "appointments_noshow"]
            + [f"channel_{c}" for c in (*CHANNELS, UNKNOWN)] + [f"mode_{m}" for m in (*MODES, UNKNOWN)]
            + [f"{k.replace('_minutes', '')}_{q}_min" for k, _, _ in WAITS for q in ("median", "p90")]
            + [f"h{h:02d}" for h in range(24)])
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(head)
    rows = [(code, dept.get("name", ""), dept) for code, dept in data["by_department"].items()]
    for code, name, d in rows + [("TOTAL", "", data["total"])]:
        w.writerow([code, name] + [d[k] for k, _, _ in COLUMNS]
                   + [d["priority_share"], d["bhyt_share"], d["appointments"]["total"], d["appointments"]["noshow"]]
                   + [d["by_channel"].get(c, 0) for c in (*CHANNELS, UNKNOWN)]
                   + [d["by_mode"].get(m, 0) for m in (*MODES, UNKNOWN)]
                   + ["" if d[k][q] is None else d[k][q] for k, _, _ in WAITS for q in ("median", "p90")]
                   + [d["by_hour"].get(f"{h:02d}", 0) for h in range(24)])
    return buf.getvalue()


# --- HTML ------------------------------------------------------------------------------

CSS = """
@page { size: A4; margin: 14mm 12mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Noto Sans", Arial, sans-serif; color: #1b1b1b; margin: 0 auto;
       max-width: 186mm; padding: 8mm 0; font-size: 10.5pt; line-height: 1.35; }
h1 { font-size: 17pt; margin: 0 0 2mm; color: #0b5e5a; }
h2 { font-size: 12.5pt; margin: 7mm 0 2mm; border-bottom: 1.5px solid #0b7a75; padding-bottom: 1mm; }
.en { color: #666; font-weight: normal; font-size: 0.85em; }
.meta { color: #444; margin: 0 0 4mm; }
.tiles { display: grid; grid-template-columns: repeat(4, 1fr); gap: 2.5mm; }
.tile { border: 1px solid #cfe3e2; background: #f3faf9; border-radius: 2mm; padding: 2mm 3mm; }
.tile b { display: block; font-size: 16pt; color: #0b5e5a; }
figure { margin: 3mm 0; break-inside: avoid; page-break-inside: avoid; }
figure img { width: 100%; height: auto; display: block; }
figcaption { font-size: 8.5pt; color: #555; }
table { border-collapse: collapse; width: 100%; font-size: 8.5pt; break-inside: avoid; }
th, td { border: 1px solid #c8c8c8; padding: 1mm 1.5mm; text-align: right; }
th { background: #eef5f5; text-align: center; }
td:first-child, th:first-child { text-align: left; }
td + td { white-space: nowrap; }
.note { font-size: 8.5pt; color: #555; }
@media print { body { padding: 0; max-width: none; } h2 { break-after: avoid; } .tile { background: none; } }
"""


def _h(text: str) -> str:
    return html.escape(str(text), quote=True)


def _both(vi: str, en: str) -> str:
    return f"{_h(vi)} <span class=\"en\">/ {_h(en)}</span>"


def _figure(svg: str, alt: str, caption: str) -> str:
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return (f'<figure><img src="data:image/svg+xml;base64,{data}" alt="{_h(alt)}">'
            f"<figcaption>{caption}</figcaption></figure>")


def render_html(data: dict, hospital_name: str = "") -> str:
    t = data["total"]
    depts = data["by_department"]
    tiles = [("Lượt đăng ký", "check-ins", t["checkins"]),
             ("Có hẹn trước", "booked", f"{t['booked']}"),
             ("Ưu tiên", "priority", _pct(t["priority_share"])),
             ("Có BHYT", "with BHYT", _pct(t["bhyt_share"])),
             ("Vãng lai", "walk-in", t["walk_in"]),
             ("Gọi không đến", "no-shows", t["no_shows"]),
             ("Chờ gọi, trung vị", "median wait to call", _minutes(t["wait_to_call_minutes"]["median"])),
             ("Chờ khám, trung vị", "median wait to see the doctor",
              _minutes(t["wait_to_start_minutes"]["median"]))]
    charts = [
        _figure(stats_charts.hours_chart(t["by_hour"], "Lượt đăng ký theo giờ / Check-ins per hour"),
                "Lượt đăng ký theo giờ (check-ins per hour)", _both("Giờ đến kiosk, giờ địa phương",
                                                                    "arrival hour, local time")),
        _figure(stats_charts.departments_chart(
            [(_dept_label(c, d), d["booked"], d["walk_in"]) for c, d in depts.items()],
            "Lượt đăng ký theo khoa / Check-ins per department", ("Có hẹn / booked", "Vãng lai / walk-in")),
            "Lượt đăng ký theo khoa (check-ins per department)", _both("Có hẹn và vãng lai", "booked and walk-in")),
        _figure(stats_charts.bars_chart(
            [(f"{CHANNEL_NAMES.get(c, (c, c))[0]} / {CHANNEL_NAMES.get(c, (c, c))[1]}", n)
             for c, n in t["by_channel"].items()], "Cách nhận diện / Identification channel"),
            "Cách nhận diện (identification channel)", _both("Bệnh nhân tự nhận diện bằng", "how patients identified")),
        _figure(stats_charts.waits_chart(
            [(_dept_label(c, d), d["wait_to_start_minutes"]["median"], d["wait_to_start_minutes"]["p90"])
             for c, d in depts.items()], "Thời gian chờ đến lúc vào khám (phút) / Wait to see the doctor (min)",
            ("Trung vị / median", "90 % bệnh nhân / 90th percentile")),
            "Thời gian chờ theo khoa (waiting time per department)",
            _both("Từ lúc đăng ký đến lúc vào phòng khám", "from check-in to the start of the visit")),
    ]
    head_cells = "".join(f"<th>{_both(vi, en)}</th>" for _, vi, en in COLUMNS)
    head_cells += "".join(f"<th>{_both(vi + ' (phút)', en + ' (min)')}<br>TV / P90</th>" for _, vi, en in WAITS)
    body_rows = []
    for code, d in list(depts.items()) + [("", {"name": "Toàn viện / whole hospital", **t})]:
        cells = "".join(f"<td>{d[k]}</td>" for k, _, _ in COLUMNS)
        cells += "".join(f"<td>{_num(d[k]['median'])} / {_num(d[k]['p90'])}</td>" for k, _, _ in WAITS)
        label = _h(_dept_label(code, d)) if code else f"<b>{_h(d['name'])}</b>"
        body_rows.append(f"<tr><td>{label}</td>{cells}</tr>")
    mix = "".join(f"<tr><td>{_both(*MODE_NAMES.get(m, (m, m)))}</td><td>{n}</td></tr>" for m, n in t["by_mode"].items())
    mix += "".join(f"<tr><td>{_both(*PRIORITY_NAMES.get(p, (p, p)))}</td><td>{n}</td></tr>"
                   for p, n in t["by_priority"].items())
    appts = t["appointments"]
    return f"""<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_h(TITLE[0])} — {_h(_period(data))}</title><style>{CSS}</style></head>
<body>
<h1>{_both(*TITLE)}</h1>
<p class="meta">{_h(hospital_name)}{" · " if hospital_name else ""}{_h(_period(data))} · {_h(data['timezone'])}</p>
<h2>{_both("Tổng quan", "Overview")}</h2>
<div class="tiles">{"".join(f'<div class="tile"><b>{_h(v)}</b>{_both(vi, en)}</div>' for vi, en, v in tiles)}</div>
<h2>{_both("Biểu đồ", "Charts")}</h2>
{"".join(charts)}
<h2>{_both("Theo khoa", "By department")}</h2>
<table><thead><tr><th>{_both("Khoa", "department")}</th>{head_cells}</tr></thead>
<tbody>{"".join(body_rows)}</tbody></table>
<h2>{_both("Chế độ và ưu tiên", "Mode and priority")}</h2>
<table><thead><tr><th>{_both("Nhóm", "group")}</th><th>{_both("Lượt", "check-ins")}</th></tr></thead>
<tbody>{mix}</tbody></table>
<h2>{_both("Lịch hẹn", "Appointments")}</h2>
<p>{_both(f"{appts['total']} lịch hẹn trong kỳ, {appts['noshow']} không đến",
          f"{appts['total']} appointments in the period, {appts['noshow']} not kept")}</p>
<p class="note">{_both("Thời gian chờ tính từ giờ đăng ký tại kiosk; TV = trung vị, P90 = 90 % bệnh nhân chờ không "
                       "lâu hơn. Báo cáo không chứa thông tin cá nhân.",
                       "Waits run from the check-in; median and 90th percentile. The report holds no personal "
                       "data.")}</p>
</body></html>
"""


RENDERERS = {"md": render_markdown, "csv": render_csv}
