# Build and test entry points of the microseg.segmentation collection.
# A fresh machine needs only python3 (3.11), make and git: every tool is installed into .venv.
#
#   make test          venv, collection-root, ruff, ansible-lint, docs-lint, sanity, unit, integration, molecule
#   make venv          .venv with test-requirements.txt (redone only when requirements change)
#   make sanity        ansible-test sanity (no ignore file)
#   make lint          ruff + ansible-lint (production profile, offline)
#   make unit          pytest tests/unit tests/lab
#   make integration   pytest tests/integration on two workers (each starts its own lab)
#   make molecule      podman, the Debian systemd image, the fake vendor repos, every Molecule scenario
#   make build / changelog-release / lab-start / lab-stop / demo / bench / docs / clean / distclean

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON      ?= python3
SANITY_PYTHON ?= 3.11
VENV        := $(CURDIR)/.venv
VENV_BIN    := $(VENV)/bin
PY          := $(VENV_BIN)/python
VENV_STAMP  := $(VENV)/.requirements.stamp
BUILD_DIR   := $(CURDIR)/build
COLL_LINK   := $(BUILD_DIR)/ansible_collections/microseg/segmentation
LAB_DIR     := $(CURDIR)/.lab
INVENTORY   ?= inventories/lab
DEMO_PLAYBOOK ?= playbooks/demo.yml
PYTEST_ARGS ?=
SANITY_ARGS ?=

# Tools from .venv first; Ansible sees this checkout (through build/) and nothing from ~/.ansible.
export PATH := $(VENV_BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(BUILD_DIR)
export ANSIBLE_FORCE_COLOR := 0
export ANSIBLE_NOCOLOR := 1
export ANSIBLE_RETRY_FILES_ENABLED := 0
export ANSIBLE_HOST_KEY_CHECKING := 0
export PY_COLORS := 0
export NO_COLOR := 1
export PYTHONDONTWRITEBYTECODE := 1

# .lab/lab.env is a shell-sourceable KEY=VALUE file written by lab/labctl.py start.
load_lab_env = set -a; . "$(LAB_DIR)/lab.env"; set +a

.PHONY: k8s k8s-start k8s-stop molecule-setup molecule shellcheck chromium vcsim help venv collection-root sanity sanity-bootstrap lint ruff ansible-lint unit integration \
        lab-start lab-stop demo bench test clean distclean docs docs-lint build changelog-release

help:
	@sed -n '2,12p' $(firstword $(MAKEFILE_LIST)) | sed 's/^# \{0,1\}//'

## ---------------------------------------------------------------- environment

venv: $(VENV_STAMP)

$(VENV_STAMP): test-requirements.txt requirements.txt requirements-vsphere.txt requirements-kubernetes.txt
	@if [ ! -x "$(PY)" ]; then echo "creating $(VENV)"; $(PYTHON) -m venv "$(VENV)"; fi
	$(PY) -m pip install --disable-pip-version-check --quiet -r test-requirements.txt -r requirements.txt \
	    -r requirements-vsphere.txt -r requirements-kubernetes.txt
	@touch "$@"

# ansible-test and ansible-playbook need the collection at .../ansible_collections/microseg/segmentation.
collection-root:
	@mkdir -p "$(dir $(COLL_LINK))"
	@if [ "$$(readlink "$(COLL_LINK)" 2>/dev/null)" != "$(CURDIR)" ]; then \
	  ln -sfn "$(CURDIR)" "$(COLL_LINK)"; echo "$(COLL_LINK) -> $(CURDIR)"; fi

## ---------------------------------------------------------------- collection tarball, changelog

# build/microseg-segmentation-<version>.tar.gz holds what galaxy.yml's manifest lists, and COPYING:
# the GPL-3 text of this machine (Debian's base-files), copied in at build time and git-ignored.
GPL3_TEXT ?= /usr/share/common-licenses/GPL-3

build: venv
	@test -s "$(GPL3_TEXT)" || { echo "make build: $(GPL3_TEXT) (the GPL-3 text) is missing" >&2; exit 1; }
	install -m 0644 "$(GPL3_TEXT)" COPYING
	ansible-galaxy collection build --force --output-path "$(BUILD_DIR)" .

# Releases changelogs/fragments/ into changelogs/changelog.yaml and CHANGELOG.rst (fragments removed).
CHANGELOG_VERSION ?= $(shell sed -n 's/^version: *//p' galaxy.yml)

changelog-release: venv
	antsibull-changelog lint
	antsibull-changelog release --version "$(CHANGELOG_VERSION)"
	antsibull-changelog lint

## ---------------------------------------------------------------- static checks

# ansible-test downloads its pip bootstrap script from a host that cannot be reached here;
# it uses ~/.ansible/test/cache/get_pip_<version>.py first, which this writes.
# ansible-test finds the collection from os.getcwd(), which resolves the build/ symlink back to the
# repository root; ANSIBLE_TEST_CONTENT_ROOT makes it use the ansible_collections/ path instead.
sanity-bootstrap: venv
	@$(PY) tests/sanity/bootstrap_get_pip.py

# ansible-test's shellcheck test needs Debian's shellcheck; without it the test is skipped.
shellcheck:
	@command -v shellcheck >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null; }

# Debian's Chromium renders the flow reports in tests/integration/test_flow_report.py (headless).
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

sanity: venv collection-root sanity-bootstrap shellcheck
	cd "$(COLL_LINK)" && ANSIBLE_TEST_CONTENT_ROOT="$(COLL_LINK)" ansible-test sanity --requirements --python $(SANITY_PYTHON) --color no $(SANITY_ARGS)

ruff: venv
	ruff check --no-cache .

ansible-lint: venv collection-root
	ansible-lint --offline --profile production --nocolor

lint: ruff ansible-lint

## ---------------------------------------------------------------- tests

# The collection is importable as ansible_collections.microseg.segmentation through build/.
UNIT_DIRS = $(wildcard tests/unit tests/lab)

unit: venv collection-root
	@if [ -z "$(strip $(UNIT_DIRS))" ]; then echo "make unit: neither tests/unit nor tests/lab exists" >&2; exit 1; fi
	PYTHONPATH="$(BUILD_DIR)$${PYTHONPATH:+:$$PYTHONPATH}" pytest --junitxml="$(BUILD_DIR)/test-results/unit.xml" $(PYTEST_ARGS) $(UNIT_DIRS)

# VMware's vCenter simulator, built from the Go module proxy into .cache/bin (skipped when cached).
vcsim:
	tests/vcsim/build.sh

# Kubernetes test control plane (etcd, kube-apiserver, -controller-manager, -scheduler, kubectl, kwok)
# built from the Go module proxy into .cache/bin (skipped when cached; about 10 min cold, 30 s warm).
k8s:
	tests/k8s/build.sh

k8s-start: venv k8s
	$(PY) tests/k8s/cluster.py start --dir "$(BUILD_DIR)/k8s" --no-build

k8s-stop: venv
	$(PY) tests/k8s/cluster.py stop --dir "$(BUILD_DIR)/k8s"

# Two pytest-xdist workers, each with its own session lab (and Kubernetes control plane where a file
# needs one): a playbook run keeps about one core busy, so two at once use the machine's two cores.
# A file's tests stay on one worker (--dist loadfile: module fixtures, such as make demo's lab, are
# shared within a file); test_targets.py, the longest file, goes first so that it does not run alone at
# the end. (--dist loadgroup would be finer, but pytest 9.2 ignores the group xdist 3.8 puts in nodeids.)
INTEGRATION_WORKERS ?= 2

integration: venv collection-root vcsim k8s chromium
	PYTHONPATH="$(BUILD_DIR)$${PYTHONPATH:+:$$PYTHONPATH}" pytest -v -n $(INTEGRATION_WORKERS) --dist loadfile \
	    --junitxml="$(BUILD_DIR)/test-results/integration.xml" $(PYTEST_ARGS) tests/integration/test_targets.py tests/integration

# Podman (runc, ulimits for this sandbox), the Debian bookworm systemd image built with debootstrap,
# and the fake vendor packages in signed apt repositories; each step is skipped when up to date.
molecule-setup: venv collection-root k8s
	tests/molecule/setup_podman.sh
	tests/molecule/build_image.sh
	tests/molecule/build_packages.sh

# Every scenario under molecule/ (or MOLECULE_SCENARIOS="a b"), with the lab they need.
MOLECULE_SCENARIOS ?=
molecule: molecule-setup
	tests/molecule/run_scenarios.sh $(MOLECULE_SCENARIOS)

## ---------------------------------------------------------------- lab, demo, benchmarks

lab-start: venv
	$(PY) lab/labctl.py start --dir "$(LAB_DIR)"

lab-stop: venv
	$(PY) lab/labctl.py stop --dir "$(LAB_DIR)"

# Runs the demo playbook twice against the lab; the second run must change nothing on any host.
# DEMO_KEEP_LAB=1 leaves the lab running afterwards (tests/integration/test_demo.py reads it, then stops it).
demo: venv collection-root
	$(PY) lab/labctl.py start --dir "$(LAB_DIR)"
	if [ -z "$(DEMO_KEEP_LAB)" ]; then trap '$(PY) lab/labctl.py stop --dir "$(LAB_DIR)"' EXIT; fi; \
	$(load_lab_env); \
	echo "=== demo: first run (a flow report per scenario and host in $(LAB_DIR)/reports)"; \
	ansible-playbook -i $(INVENTORY) $(DEMO_PLAYBOOK) -e flow_report_dir="$(LAB_DIR)/reports"; \
	echo "=== demo: second run (must report changed=0 everywhere)"; \
	ansible-playbook -i $(INVENTORY) $(DEMO_PLAYBOOK) -e flow_report_dir="$(LAB_DIR)/reports" | tee "$(LAB_DIR)/demo-second-run.log"; \
	awk '/^PLAY RECAP/ {recap = 1; next} \
	     recap && /ok=[0-9]+/ { hosts++; if (!match($$0, /changed=0 /)) { bad++; print "not idempotent: " $$0 } } \
	     END { if (hosts == 0) { print "no PLAY RECAP host lines in the second run"; exit 1 } \
	           if (bad) exit 1; print "idempotent: changed=0 on " hosts " host line(s)" }' \
	    "$(LAB_DIR)/demo-second-run.log"

# Each benchmark starts a lab of its own on loopback and prints a table.
bench: venv collection-root
	$(PY) benchmarks/scale.py
	$(PY) benchmarks/nsxt.py
	$(PY) benchmarks/secure_workload.py
	$(PY) benchmarks/flows.py
	$(PY) benchmarks/flows_observed.py
	$(PY) benchmarks/resilience.py
	$(PY) benchmarks/export.py

## ---------------------------------------------------------------- documentation

DOCS_DIR := $(BUILD_DIR)/docs

# The HTML documentation (modules, roles, filters, the guides of docs/docsite) in build/docs/html:
# antsibull-docs writes the RST, Sphinx (docs/sphinx/conf.py, offline) builds it, every warning an error.
docs: venv collection-root
	rm -rf "$(DOCS_DIR)" && mkdir -p "$(DOCS_DIR)/rst" && chmod og-w "$(DOCS_DIR)/rst"
	antsibull-docs collection --use-current --squash-hierarchy --fail-on-error --dest-dir "$(DOCS_DIR)/rst" microseg.segmentation
	sphinx-build -b html -W --keep-going -n -q -d "$(DOCS_DIR)/doctrees" -c docs/sphinx "$(DOCS_DIR)/rst" "$(DOCS_DIR)/html"
	@echo "documentation: $(DOCS_DIR)/html/index.html"

# The docs of every module, filter and role (schema, markup, references, RST) and of docs/docsite.
docs-lint: venv collection-root
	antsibull-docs lint-collection-docs --plugin-docs --check-extra-docs-refs "$(COLL_LINK)"

## ---------------------------------------------------------------- everything

TEST_STAGES := venv collection-root ruff ansible-lint docs-lint sanity unit integration molecule

test:
	@rm -rf "$(BUILD_DIR)/test-results"; summary=""; all_start=$$(date +%s); \
	for stage in $(TEST_STAGES); do \
	  echo "=============== make $$stage"; start=$$(date +%s); \
	  if $(MAKE) --no-print-directory $$stage; then status=ok; else status=FAILED; fi; \
	  secs=$$(( $$(date +%s) - start )); \
	  summary="$$summary$$(printf '%-16s %-7s %5ss' "$$stage" "$$status" "$$secs")"$$'\n'; \
	  echo "=============== make $$stage: $$status in $${secs}s"; \
	  if [ "$$status" != ok ]; then printf '\nstage timings:\n%s' "$$summary"; exit 1; fi; \
	done; \
	printf '\nstage timings:\n%s%-16s %-7s %5ss\n' "$$summary" total ok "$$(( $$(date +%s) - all_start ))"; \
	$(PY) tests/summarize_results.py "$(BUILD_DIR)/test-results/unit.xml" "$(BUILD_DIR)/test-results/integration.xml" \
	    "$(BUILD_DIR)/test-results/molecule.xml"

clean:
	@if [ -f "$(LAB_DIR)/lab.json" ] && [ -x "$(PY)" ] && [ -f lab/labctl.py ]; then \
	  $(PY) lab/labctl.py stop --dir "$(LAB_DIR)" || true; fi
	@if [ -f .lab-molecule/lab.json ] && [ -x "$(PY)" ]; then $(PY) lab/labctl.py stop --dir .lab-molecule || true; fi
	rm -rf build .lab .lab-molecule tests/output .pytest_cache .ruff_cache
	find . -path ./.venv -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf .venv
