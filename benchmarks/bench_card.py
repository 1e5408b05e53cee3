"""CCCD chip read over real PC/SC (pcscd + vpcd + the virtual CCCD card).

Measures APDUs and bytes for PACE + EF.COM + DG1 + DG13 + EF.SOD against the
minimum possible (authentication steps + ceil(file bytes / max block) for
DG1, DG13 and EF.SOD — EF.COM is counted against us), and the time per read.
Baseline in the same run: the common naive strategy (SELECT each file by
FID, READ BINARY its 4-byte header, then 223-byte blocks).
"""
from __future__ import annotations

import math
import statistics
import time

READS = 15
AUTH_STEPS_PACE = 7  # READ EF.CardAccess, MSE:Set AT, 4 × General Authenticate, SELECT eMRTD
FILES = ("DG1", "DG13", "SOD")


def _connect(reader_name):
    from smartcard import scard

    rc, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    rc, hcard, proto = scard.SCardConnect(ctx, reader_name, scard.SCARD_SHARE_SHARED,
                                          scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1)
    if rc != scard.SCARD_S_SUCCESS:
        raise RuntimeError(scard.SCardGetErrorMessage(rc))

    def transmit(cmd: bytes) -> bytes:
        rc, resp = scard.SCardTransmit(hcard, proto, list(cmd))
        return bytes(resp)

    def close():
        scard.SCardDisconnect(hcard, scard.SCARD_RESET_CARD)
        scard.SCardReleaseContext(ctx)

    return transmit, close


def _naive_read(session, name: str) -> bytes:
    """SELECT by FID, 4-byte header, then 223-byte blocks (many readers do this)."""
    from devices.cccd import tlv
    from devices.cccd.lds import FILES as FIDS
    from devices.cccd.sm import Apdu

    fid = FIDS[name][0]
    session.send(Apdu(0x00, 0xA4, 0x02, 0x0C, fid.to_bytes(2, "big")))
    data, _ = session.send(Apdu(0x00, 0xB0, 0, 0, le=4))
    total = tlv.header_size(data)
    while len(data) < total:
        more, _ = session.send(Apdu(0x00, 0xB0, len(data) >> 8, len(data) & 0xFF, le=min(223, total - len(data))))
        data += more
    session.stats.file_bytes += total
    return data


def _baseline(card) -> tuple[dict, float]:
    from devices.cccd.session import ChipSession, Key

    times, stats = [], None
    for _ in range(READS + 1):
        transmit, close = _connect(card.reader_name)
        try:
            started = time.perf_counter()
            session = ChipSession(transmit)
            session.open(Key(can=card.can))
            for name in ("COM",) + FILES:
                _naive_read(session, name)
            times.append(time.perf_counter() - started)
            stats = session.stats.to_json()
        finally:
            close()
    return stats, statistics.median(times[1:])  # the first read is a warm-up


def _kiosk(card) -> dict[str, tuple[dict, float, dict]]:
    """Extended, short and extended-with-photo reads, interleaved so that load
    from other processes on the machine hits all three alike."""
    from devices.card.pcsc import PcscCardReader
    from kiosk.domain import AccessKey

    modes = {"extended": ("on", False), "short": ("off", False), "photo": ("on", True)}
    readers = {m: PcscCardReader(card.reader_name, trust_store=str(card.csca_dir), extended_length=ext)
               for m, (ext, _) in modes.items()}
    times: dict[str, list[float]] = {m: [] for m in modes}
    try:
        for i in range(READS + 1):  # the first round is a warm-up
            for mode, (_, photo) in modes.items():
                started = time.perf_counter()
                readers[mode].read_chip(AccessKey(can=card.can), with_photo=photo)
                if i:
                    times[mode].append(time.perf_counter() - started)
        out = {}
        for mode, reader in readers.items():
            assert reader.last_chip.passive_auth.status == "verified"
            out[mode] = (reader.last_stats, statistics.median(times[mode]), reader.last_chip.raw)
        return out
    finally:
        for reader in readers.values():
            reader.stop()


def _minimum(raw: dict, block: int) -> int:
    return AUTH_STEPS_PACE + sum(math.ceil(len(raw[n]) / block) for n in FILES)


def run() -> str:
    from tests.card.virtual_reader import running_virtual_card

    with running_virtual_card("an") as card:
        results = _kiosk(card)
        ext_stats, ext_time, raw = results["extended"]
        short_stats, short_time, _ = results["short"]
        photo_stats, photo_time, raw_photo = results["photo"]
        base_stats, base_time = _baseline(card)
    sizes = {n: len(raw[n]) for n in ("COM",) + FILES}
    file_bytes = sum(len(raw[n]) for n in FILES)
    ext_block = 0xF000
    ext_min, short_min = _minimum(raw, ext_block), _minimum(raw, 223)
    rows = [
        ("kiosk, extended length (block 61440)", ext_stats, ext_min, ext_time),
        ("kiosk, short APDUs (block 223)", short_stats, short_min, short_time),
        ("baseline: SELECT + 4-byte header + 223-byte blocks", base_stats, short_min, base_time),
    ]
    lines = [
        "## CCCD chip read (PC/SC: pcscd + vpcd + virtual CCCD)",
        "",
        "PACE (ECDH-GM, brainpoolP256r1, AES-128) + EF.COM + DG1 + DG13 + EF.SOD with passive authentication, "
        f"median of {READS} reads each. File sizes: "
        + ", ".join(f"{n} {s} B" for n, s in sizes.items())
        + f". Minimum APDUs = {AUTH_STEPS_PACE} authentication steps + ceil(file bytes / max block) for DG1, "
        "DG13 and EF.SOD (EF.COM, which the kiosk reads too, counts against it). Target: ≤ 1.1 × minimum.",
        "",
        "| strategy | APDUs | minimum | ratio | file bytes read | minimum bytes | wire bytes | time per read |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, stats, minimum, seconds in rows:
        read = stats["bytes_read"] - sizes["COM"]
        lines.append(f"| {label} | {stats['apdus']} | {minimum} | {stats['apdus'] / minimum:.2f} | {read} | "
                     f"{file_bytes} | {stats['wire_bytes']} | {seconds * 1000:.0f} ms |")
    lines += [
        "",
        f"Against the baseline in the same run: {base_stats['apdus'] / ext_stats['apdus']:.1f}× fewer APDUs with "
        f"extended length, {base_stats['apdus'] / short_stats['apdus']:.1f}× fewer with short APDUs; "
        f"baseline time / kiosk time: {base_time / ext_time:.1f} (extended), {base_time / short_time:.1f} (short).",
        f"Face image (DG2, {len(raw_photo['DG2'])} B) read only when asked, after the identity: "
        f"{photo_stats['apdus']} APDUs and {photo_time * 1000:.0f} ms with it vs {ext_time * 1000:.0f} ms without.",
        "Time includes PACE's elliptic-curve work on both sides (pure-Python `ecdsa`) and passive "
        "authentication; the virtual card answers with TCP_QUICKACK so vpcd's unbuffered writes do not add ~40 ms.",
    ]
    return "\n".join(lines) + "\n"
