"""Device detection for the admin screen's choices, on sysfs/dev trees laid out
as Linux shows a USB receipt printer and two cameras (neither exists here)."""
from __future__ import annotations

from devices import detect


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n")


def test_usb_printers_are_found_by_interface_class(tmp_path):
    usb = tmp_path / "sys" / "bus" / "usb" / "devices"
    write(usb / "1-1" / "idVendor", "04b8")
    write(usb / "1-1" / "idProduct", "0202")
    write(usb / "1-1" / "product", "TM-T20II")
    write(usb / "1-1" / "1-1:1.0" / "bInterfaceClass", "07")
    write(usb / "1-2" / "idVendor", "046d")  # a webcam: video class, not a printer
    write(usb / "1-2" / "idProduct", "0825")
    write(usb / "1-2" / "1-2:1.0" / "bInterfaceClass", "0e")
    write(tmp_path / "dev" / "usb" / "lp0", "")
    found = detect.printers(usb_root=str(usb), lp_glob=str(tmp_path / "dev" / "usb" / "lp*"))
    assert found == [
        ("TM-T20II (usb:0x04b8:0x0202)", {"printer.driver": "escpos", "printer.connection": "usb:0x04b8:0x0202"}),
        (f"file:{tmp_path}/dev/usb/lp0", {"printer.driver": "escpos",
                                          "printer.connection": f"file:{tmp_path}/dev/usb/lp0"}),
    ]


def test_cameras_are_the_video_device_nodes(tmp_path):
    for n in (2, 0):
        write(tmp_path / f"video{n}", "")
    found = detect.cameras(dev_glob=str(tmp_path / "video*"))
    assert [changes["camera.source"] for _, changes in found] == [str(tmp_path / "video0"), str(tmp_path / "video2")]
    assert all(changes["camera.driver"] == "opencv" for _, changes in found)


def test_nothing_attached_gives_no_choices(tmp_path):
    assert detect.printers(usb_root=str(tmp_path / "none"), lp_glob=str(tmp_path / "lp*")) == []
    assert detect.cameras(dev_glob=str(tmp_path / "video*")) == []
