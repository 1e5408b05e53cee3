"""The HTML report opened in headless Chromium (Debian's package): the page
shows its four charts (decoded images, drawn in the report's colours) and the
Vietnamese headings; the screenshot is the README's picture
(`make screenshots` writes it to docs/images/stats-report.png)."""
from __future__ import annotations

import random
import re
import shutil
import subprocess
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from PIL import Image

from kiosk.domain import Department
from kiosk.stats.charts import BAR, BAR_2
from kiosk.stats.figures import AppointmentRecord, VisitRecord, compute_stats, make_query
from kiosk.stats.report import render_html
from tests.helpers import docs_images

CHROMIUM = shutil.which("chromium")
VN = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = date(2026, 3, 2)
DEPTS = [Department("NOI", "Nội khoa"), Department("NGOAI", "Ngoại khoa"), Department("NHI", "Nhi khoa"),
         Department("TIM", "Tim mạch"), Department("SAN", "Sản phụ khoa"), Department("MAT", "Mắt")]
HEADINGS = ["Báo cáo đăng ký khám tại kiosk", "Tổng quan", "Biểu đồ", "Theo khoa", "Chế độ và ưu tiên", "Lịch hẹn"]
PROBE = """<script>
window.addEventListener('load', () => {
  const imgs = [...document.images];
  document.body.setAttribute('data-images', imgs.length);
  document.body.setAttribute('data-decoded', imgs.filter(i => i.complete && i.naturalWidth > 0).length);
});
</script></body>"""


class DayOfVisits:
    """A plausible outpatient day: a morning rush, six departments, some offline."""

    def __init__(self, seed: int = 7):
        rng = random.Random(seed)
        self.records = []
        for i in range(640):
            hour = rng.choices(range(6, 17), weights=[3, 14, 18, 15, 10, 6, 3, 8, 9, 6, 3])[0]
            arrived = datetime(DAY.year, DAY.month, DAY.day, hour, rng.randrange(60), tzinfo=VN)
            dept = rng.choices(DEPTS, weights=[30, 14, 18, 10, 12, 9])[0].code
            wait = rng.lognormvariate(3.0 + (dept == "NOI") * 0.4, 0.5)
            called = arrived + timedelta(minutes=wait) if rng.random() < 0.93 else None
            started = called + timedelta(minutes=rng.uniform(1, 4)) if called and rng.random() < 0.95 else None
            self.records.append(VisitRecord(
                department=dept, arrived_at=arrived,
                channel=rng.choices(["chip", "cccd_qr", "appointment_qr", "typed"], weights=[46, 30, 12, 12])[0],
                mode="offline" if rng.random() < 0.04 else "online", booked=rng.random() < 0.3,
                priority=rng.choice(["elderly_75", "child_under_6", "pregnant"]) if rng.random() < 0.12 else None,
                insured=rng.random() < 0.82, status="finished" if started else "arrived",
                called_at=called, started_at=started, finished_at=started and started + timedelta(minutes=8),
                no_show=called is not None and started is None))
        self.appts = [AppointmentRecord(r.department, r.arrived_at, "fulfilled") for r in self.records if r.booked]

    def departments(self):
        return DEPTS

    def visits(self, start, end):
        yield from self.records

    def appointments(self, start, end):
        yield from self.appts

    def close(self):
        pass


def chromium(*args: str, tmp_path) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           f"--user-data-dir={tmp_path / 'chromium-profile'}", *args],
                          capture_output=True, text=True, timeout=120)


def count_near(pixels: np.ndarray, hex_colour: str, tolerance: int = 12) -> int:
    target = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(pixels.astype(int) - target) <= tolerance).all(axis=-1).sum())


def test_the_html_report_opens_in_chromium_with_its_charts_and_vietnamese_headings(tmp_path):
    assert CHROMIUM, "chromium is missing: make install (APT_PACKAGES has it)"
    data = compute_stats(DayOfVisits(), make_query(DAY.isoformat(), None, today=DAY, timezone="Asia/Ho_Chi_Minh"))
    page = render_html(data, "BỆNH VIỆN ĐA KHOA TỈNH")
    assert "<script" not in page and "http://" not in page.split("</style>")[1]  # self-contained, nothing fetched
    report = tmp_path / "report.html"
    report.write_text(page, encoding="utf-8")

    probed = tmp_path / "probed.html"
    probed.write_text(page.replace("</body>", PROBE), encoding="utf-8")
    dom = chromium("--virtual-time-budget=5000", "--dump-dom", probed.as_uri(), tmp_path=tmp_path).stdout
    assert re.search(r'data-images="4"', dom) and re.search(r'data-decoded="4"', dom), dom[:300]
    for heading in HEADINGS:
        assert re.search(rf"<h[12]>{heading}", dom), heading
    assert dom.count('alt="') == 4

    shot = tmp_path / "report.png"
    r = chromium("--window-size=900,3400", f"--screenshot={shot}", report.as_uri(), tmp_path=tmp_path)
    assert shot.exists(), r.stderr[-500:]
    img = Image.open(shot).convert("RGB")
    pixels = np.asarray(img)
    teal, amber = count_near(pixels, BAR), count_near(pixels, BAR_2)
    assert teal > 20_000 and amber > 5_000, (teal, amber)  # the bars are drawn, not just the page's text
    bottom = int(np.nonzero((pixels != 255).any(axis=(1, 2)))[0].max())
    img.crop((0, 0, img.width, min(img.height, bottom + 30))).save(docs_images() / "stats-report.png")
