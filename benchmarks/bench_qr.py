"""QR decoders on degraded camera frames: success rate and time per frame.

Same synthetic frames (devices/camera/synthetic.py, fixed seed) for every
decoder, at 640×480 and 1280×720: the demo people's CCCD payloads (UTF-8,
no ECI, 100–150 bytes) and appointment codes, clean or blurred, rotated,
tilted, noisy, unevenly lit, or all at once. Success = the exact text.
"""
from __future__ import annotations

import statistics
import time

import numpy as np

from benchmarks.percentile import percentile

PER_CONDITION = 15
SEED = 2026
TARGET_MEDIAN_MS_720P = 5.0


def _decoders():
    from devices.camera.cascade import SMALL_WIDTH, Cascade, downscale, to_grey
    from devices.camera.decoders import OpenCvDecoder, ZbarDecoder, ZxingDecoder

    zbar, zxing = ZbarDecoder(), ZxingDecoder()
    cv_aruco, cv_plain = OpenCvDecoder(aruco=True), OpenCvDecoder(aruco=False)
    cascade = Cascade()

    def cascade_decode(frame):
        found = cascade.decode(frame)
        STEP_LOG.append(cascade.last_step or "nothing")
        return found

    # Each takes the BGR frame, as the camera delivers it: grey conversion is timed.
    return {
        "pyzbar (zbar raw bytes)": lambda f: zbar.decode(to_grey(f)),
        "zxing-cpp": lambda f: zxing.decode(to_grey(f)),
        "OpenCV QRCodeDetector": lambda f: cv_plain.decode(to_grey(f)),
        "OpenCV QRCodeDetectorAruco": lambda f: cv_aruco.decode(to_grey(f)),
        "zxing-cpp on 640-px-wide frame": lambda f: zxing.decode(downscale(to_grey(f), SMALL_WIDTH)),
        CASCADE: cascade_decode,
    }, cascade


CASCADE = "**cascade** (kiosk)"
STEP_LOG: list[str] = []


def _payloads() -> list[str]:
    from devices.camera.samples import demo_payloads

    return list(demo_payloads().values())


def _frames(size):
    from devices.camera.synthetic import CONDITIONS, degradation_for, render_frame

    rng = np.random.default_rng(SEED)
    texts = _payloads()
    out = []
    for condition in CONDITIONS:
        for i in range(PER_CONDITION):
            payload = texts[(i + CONDITIONS.index(condition)) % len(texts)]
            out.append((condition, payload, render_frame(payload, size, rng, degradation_for(condition, rng))))
    empties = [render_frame(None, size, rng) for _ in range(10)]
    return out, empties


def _measure(fn, frames, empties):
    ok, wrong, times, by_condition = 0, 0, [], {}
    for condition, payload, frame in frames:
        started = time.perf_counter()
        texts = [d.text for d in fn(frame)]
        times.append((time.perf_counter() - started) * 1000)
        good = payload in texts
        ok += good
        wrong += bool(texts) and not good
        by_condition[condition] = by_condition.get(condition, 0) + good
    empty_ms = []
    for frame in empties:
        started = time.perf_counter()
        fn(frame)
        empty_ms.append((time.perf_counter() - started) * 1000)
    return {"ok": ok, "wrong": wrong, "median": statistics.median(times),
            "p90": percentile(times, 0.9), "empty": statistics.median(empty_ms),
            "by": by_condition}


def _short_text_exactness() -> list[str]:
    """pyzbar's default mode vs the raw-bytes mode on short Vietnamese."""
    from pyzbar import pyzbar

    from devices.camera.cascade import to_grey
    from devices.camera.decoders import ZbarDecoder, ZxingDecoder
    from devices.camera.synthetic import Degradation, render_frame

    samples = ["Quận Z", "Phường Y", "Văn", "Nữ", "Số 5 Đường Lý Thái Tổ", "ĐẶNG THỊ HỒNG NHUNG"]
    rng = np.random.default_rng(1)
    zbar, zxing = ZbarDecoder(), ZxingDecoder()
    counts = {"pyzbar.decode() default, data as UTF-8": 0, "zbar raw-bytes mode + UTF-8 (kiosk)": 0,
              "zxing-cpp bytes as UTF-8 (kiosk)": 0}
    for text in samples:
        grey = to_grey(render_frame(text, (640, 480), rng, Degradation(), module_px=6))
        d = pyzbar.decode(grey)
        counts["pyzbar.decode() default, data as UTF-8"] += bool(d) and d[0].data.decode("utf-8", "replace") == text
        counts["zbar raw-bytes mode + UTF-8 (kiosk)"] += [x.text for x in zbar.decode(grey)] == [text]
        counts["zxing-cpp bytes as UTF-8 (kiosk)"] += [x.text for x in zxing.decode(grey)] == [text]
    rows = ["| decoder | exact |", "|---|---|"]
    rows += [f"| {name} | {n}/{len(samples)} |" for name, n in counts.items()]
    return rows


def run() -> str:
    from devices.camera.cascade import DEFAULT_STEPS
    from devices.camera.synthetic import CONDITIONS, SIZES

    decoders, cascade = _decoders()
    results, steps_used = {}, {}
    for size_name, size in SIZES.items():
        frames, empties = _frames(size)
        for fn in decoders.values():  # warm-up (library loading, first-call allocations)
            fn(frames[0][2])
        for name, fn in decoders.items():
            STEP_LOG.clear()
            results[(name, size_name)] = _measure(fn, frames, empties)
            if name == CASCADE:
                used = STEP_LOG[:len(frames)]  # frames with a code, not the empty ones
                steps_used[size_name] = {s: used.count(s) for s in (*DEFAULT_STEPS, "nothing")}
    n = PER_CONDITION * len(CONDITIONS)
    lines = [
        "## QR decoding (bench_qr)",
        "",
        f"Synthetic camera frames ({PER_CONDITION} per condition, {n} per size, seed {SEED}): the demo "
        "people's CCCD QR payloads (UTF-8 without ECI, like the card) and appointment codes, drawn on a card "
        "over a textured background. Success = exactly the encoded text. Each decoder gets the BGR frame "
        "(grey conversion included in its time). \"Empty ms\" = median time on frames without a code, the "
        "usual frame at an idle kiosk. Times are wall-clock on a shared 2-core machine: compare rows, "
        "not absolute values.",
        "",
        "| decoder | size | " + " | ".join(CONDITIONS) + " | success | wrong | median ms | p90 ms | empty ms |",
        "|---|---|" + "---|" * (len(CONDITIONS) + 5),
    ]
    for size_name in SIZES:
        for name in decoders:
            r = results[(name, size_name)]
            cells = " | ".join(f"{r['by'].get(c, 0)}/{PER_CONDITION}" for c in CONDITIONS)
            lines.append(f"| {name} | {size_name} | {cells} | {100 * r['ok'] / n:.0f} % | {r['wrong']} | "
                         f"{r['median']:.1f} | {r['p90']:.1f} | {r['empty']:.1f} |")
    lines += ["", "Targets (cascade vs the best single decoder measured in this run):", "",
              "| size | best single decoder | its success | cascade success | ratio | cascade median ms | target |",
              "|---|---|---|---|---|---|---|"]
    singles = [k for k in decoders if k != CASCADE and "640" not in k]
    all_met = True
    for size_name in SIZES:
        best = max(singles, key=lambda k: results[(k, size_name)]["ok"])
        b, c = results[(best, size_name)], results[(CASCADE, size_name)]
        ratio = c["ok"] / b["ok"] if b["ok"] else float("inf")
        median_ok = size_name != "720p" or c["median"] <= TARGET_MEDIAN_MS_720P
        met = c["ok"] >= b["ok"] and median_ok
        all_met &= met
        target = "success ≥ best" + (f", median ≤ {TARGET_MEDIAN_MS_720P:.0f} ms" if size_name == "720p" else "")
        lines.append(f"| {size_name} | {best} | {100 * b['ok'] / n:.0f} % | {100 * c['ok'] / n:.0f} % | "
                     f"{ratio:.2f}× | {c['median']:.1f} | {target}: {'met' if met else 'NOT met'} |")
    zx720 = results[("zxing-cpp", "720p")]["median"] / max(results[(CASCADE, "720p")]["median"], 1e-6)
    zb720 = results[("pyzbar (zbar raw bytes)", "720p")]["median"] / max(results[(CASCADE, "720p")]["median"], 1e-6)
    lines += [
        "",
        f"Cascade order (`devices/camera/cascade.py`): {', '.join(f'`{s}`' for s in DEFAULT_STEPS)}; the steps "
        "after `zxing:grey` run only when zxing-cpp saw a symbol it could not read. At 720p its median is "
        f"{zx720:.1f}× faster than zxing-cpp alone and {zb720:.1f}× faster than pyzbar alone. Why this order: "
        "zxing-cpp is the most successful single decoder and the fastest; on a 640-px-wide copy (row above) "
        "it reads most 720p frames at a fraction of the cost but loses small codes, so the full frame follows; "
        "unsharp masking rescues blurred frames; zbar (raw bytes, sharpened) and OpenCV run last, only on "
        "symbols zxing-cpp saw but could not read: in this run they decoded "
        f"{sum(u['zbar:sharpen'] for u in steps_used.values())} and "
        f"{sum(u['opencv:grey'] for u in steps_used.values())} frames that every zxing-cpp step missed. "
        f"All targets {'met' if all_met else 'NOT met'}.",
        "",
        "Which cascade step decoded each frame:",
        "",
        "| size | " + " | ".join(f"`{s}`" for s in DEFAULT_STEPS) + " | nothing |",
        "|---|" + "---|" * (len(DEFAULT_STEPS) + 1),
        *[f"| {sz} | " + " | ".join(str(v) for v in steps_used[sz].values()) + " |" for sz in SIZES],
        "",
        "UTF-8 exactness on short Vietnamese strings (zbar guesses Shift-JIS without an ECI marker):",
        "",
        *_short_text_exactness(),
        "",
    ]
    cascade.close()
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
