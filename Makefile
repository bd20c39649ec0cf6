# Photo Geolocator: development tasks. `make run` starts QGIS with the plugin; `make test` runs the suite.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.setup-stamp
DEBIAN_PACKAGES := qgis python3-qgis qgis-providers xvfb libimage-exiftool-perl
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SITE_PACKAGES = $(shell $(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
STDLIB = $(shell $(PY) -c 'import sysconfig; print(sysconfig.get_paths()["stdlib"])')
STARTER_PACK := resources/packs/world-starter.geolocpack
PROFILE_DIR := $(CURDIR)/.qgis-profile
PLUGIN_LINK := $(PROFILE_DIR)/profiles/default/python/plugins/photo_geolocator
VERSION := $(shell sed -n 's/^version=//p' metadata.txt)
# The numpy that QGIS's GDAL bindings are built against (Debian's python3-numpy) decides the venv's numpy:
# a module built against numpy 1 does not load under numpy 2 (constraints/numpy1.txt, numpy2.txt).
SYSTEM_NUMPY_MAJOR := $(shell /usr/bin/python3 -I -c 'import numpy; print(numpy.__version__.split(".")[0])' 2>/dev/null)
NUMPY_CONSTRAINTS := $(wildcard constraints/numpy$(SYSTEM_NUMPY_MAJOR).txt)
# `make test-qgis QGIS=3.40`: the QGIS-facing tests on another QGIS release, in a Debian chroot
QGIS ?= 3.40
CHROOTS ?= $(or $(PHOTO_GEOLOCATOR_CHROOTS),$(HOME)/.cache/photo-geolocator/chroots)
HOST_QGIS := $(shell /usr/bin/python3 -I -c 'from qgis.core import Qgis; v = Qgis.QGIS_VERSION_INT; print(f"{v // 10000}.{v // 100 % 100}")' 2>/dev/null)
QGIS_TESTS := qgis or engine_smoke

.PHONY: setup debian-packages test test-fast test-qgis test-qgis-here run package lint clean

setup: debian-packages $(STAMP)

# Installs QGIS from Debian only when one of the packages is missing, so a ready machine skips it.
debian-packages:
	@dpkg-query -W -f='$${Status}\n' $(DEBIAN_PACKAGES) 2>/dev/null | grep -c "install ok installed" | grep -qx "$(words $(DEBIAN_PACKAGES))" \
	  || { $(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y $(DEBIAN_PACKAGES); }

$(STAMP): requirements.txt requirements-dev.txt requirements-clip.txt requirements-distributed.txt $(NUMPY_CONSTRAINTS)
	@[ -x $(PY) ] || /usr/bin/python3 -m venv --system-site-packages $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt $(addprefix -c ,$(NUMPY_CONSTRAINTS))
	@# img2dataset pulls in the Python 3.6 backport `dataclasses`, which would shadow the standard library
	@# wherever the venv's packages come first on a path (QGIS's PYTHONPATH): it has no use on 3.9+
	$(PY) -m pip uninstall --disable-pip-version-check -y -q dataclasses 2>/dev/null || true
	@touch $(STAMP)

# The suite, then the fault campaign in its fast mode (bench/faults.py: bad inputs, full disk, killed runs).
test: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)
	$(PY) bench/faults.py --fast

# The tests not marked slow (none over 5 s): the loop while working; `make test` stays the full check.
test-fast: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

# The QGIS-facing tests (plugin load, Processing and qgis_process, the dock, the main window under Xvfb,
# HEIC) and a short engine run, on QGIS $(QGIS): this machine's own QGIS, or a Debian chroot that
# scripts/qgis_chroot.sh builds once (3.40: Debian 13; 3.44: sid) and caches in
# ~/.cache/photo-geolocator/chroots (PHOTO_GEOLOCATOR_CHROOTS moves it; delete it to reclaim the space).
test-qgis:
ifeq ($(QGIS),$(HOST_QGIS))
	$(MAKE) test-qgis-here
else
	@command -v mmdebstrap >/dev/null || { $(SUDO) apt-get update && $(SUDO) apt-get install -y mmdebstrap; }
	$(SUDO) env PHOTO_GEOLOCATOR_CHROOTS=$(CHROOTS) scripts/qgis_chroot.sh $(QGIS) make test-qgis-here PYTEST_ARGS='$(PYTEST_ARGS)'
endif

test-qgis-here: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -m "$(QGIS_TESTS)" -p no:cacheprovider $(PYTEST_ARGS)

# Starts QGIS with this folder linked into a dedicated profile, the plugin enabled and the world starter
# pack installed in the profile (so a first photo dropped on the panel gets an answer); QGIS's own
# Python sees the engine's packages through PYTHONPATH (after the standard library, which a backport
# installed in the venv must not shadow).
run: setup
	@mkdir -p $(dir $(PLUGIN_LINK)) $(PROFILE_DIR)/profiles/default/QGIS
	@ln -sfn $(CURDIR) $(PLUGIN_LINK)
	@$(PY) scripts/enable_plugin.py $(PROFILE_DIR)/profiles/default/QGIS/QGIS3.ini
	@$(PY) -m geoloc_core --progress none install $(STARTER_PACK) \
	  --packs-dir $(PROFILE_DIR)/profiles/default/photo_geolocator/packs
	PYTHONPATH=$(STDLIB):$(SITE_PACKAGES) qgis --profiles-path $(PROFILE_DIR) --profile default $(QGIS_ARGS)

package: setup
	$(PY) scripts/package_plugin.py --output dist/photo_geolocator-$(VERSION).zip

lint: setup
	$(PY) -m ruff check .

clean:
	rm -rf dist .pytest_cache .ruff_cache .qgis-profile
	find . -path ./.venv -prune -o -name __pycache__ -type d -exec rm -rf {} +
