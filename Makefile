# Patient check-in kiosk — the whole set-up is `make demo` or `make test`.
# Every target installs what is missing first (apt packages, the venv, the
# sandbox HIS's npm packages) and is quick when everything is already there.

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

# Debian 12 packages: PC/SC + virtual reader (chip), zbar (QR), espeak-ng/sox
# (board voice), Xvfb + Qt's X/GL runtime libraries, swig for building pyscard,
# prometheus (only its promtool: the alert rules' tests; the service is never
# used) and chromium (headless: the stats HTML report's test and picture).
# Chromium + chromedriver (the queue service's pages are tested in a real browser),
# nginx-light (the queue service's nginx snippet is tested in front of it),
# tesseract-ocr + tesseract-ocr-vie (the kiosk screens' names read back by OCR).
APT_PACKAGES := pcscd libpcsclite-dev pcsc-tools libccid vsmartcard-vpcd \
	vsmartcard-vpicc python3-virtualsmartcard python3-venv libzbar0 espeak-ng sox \
	xvfb swig libgl1 libegl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 \
	libdbus-1-3 libglib2.0-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 fonts-dejavu-core \
	prometheus chromium chromium-driver nginx-light tesseract-ocr tesseract-ocr-vie

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install apt venv npm vicc demo test bench screenshots clean

install: apt venv npm vicc

apt:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages: $$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q -U pip wheel setuptools
	$(PIP) install -q -c constraints.txt -e '.[test]'
	@touch $@

npm: sandbox_his/node_modules/.installed

sandbox_his/node_modules/.installed: sandbox_his/package.json sandbox_his/package-lock.json
	cd sandbox_his && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The virtual CCCD card of the chip tests (tests/card/virtual_cccd/card.py) runs
# under Debian's python3 with the virtualsmartcard library
# (/usr/lib/python3/site-packages/virtualsmartcard, put on PYTHONPATH by the
# tests) and pycryptodome's `Crypto` namespace, which Debian does not ship.
# It connects to pcscd's vpcd driver on 127.0.0.1:35963 — a port fixed by the
# driver's config (/etc/reader.conf.d/vpcd), which is acceptable for tests
# that start one card at a time.
VICC_VENV := .venv-vicc
VICC_STAMP := $(VICC_VENV)/.installed

vicc: $(VICC_STAMP)

$(VICC_STAMP): | apt
	@[ -x $(VICC_VENV)/bin/python ] || /usr/bin/python3 -m venv $(VICC_VENV)
	$(VICC_VENV)/bin/pip install -q pycryptodome==4.4.0 ecdsa==0.19.2
	@touch $@

demo: install
	$(VENV)/bin/kiosk demo

test: install
	$(PY) -m pytest -q $(PYTEST_ARGS)

# Re-render the README pictures (screens, ticket, board, admin, stats report) into docs/images/.
screenshots: install
	KIOSK_UPDATE_DOCS=1 QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -p no:cacheprovider \
		tests/ui/test_screens.py tests/board/test_board_window.py::test_screenshots_both_orientations \
		tests/it/test_admin_images.py tests/stats/test_report_chromium.py tests/queue_web/test_screenshots.py \
		tests/ui/test_insurance_journeys.py

bench: install
	$(PY) -m benchmarks.run

clean:
	rm -rf $(VENV) $(VICC_VENV) sandbox_his/node_modules .pytest_cache
