# nhtb-lab: `make lab-up` brings the lab up and verifies it; `make test` runs the test suite.
# Both install what they need first (Debian packages, .venv): see scripts/bootstrap.
VENV    ?= .venv
PY      := $(VENV)/bin/python
NHTB    := $(VENV)/bin/nhtb-lab
TOPO    ?= topologies/three-site.clab.yml
PYTEST_ARGS ?=
# Two workers, each test file on one (its module's lab is brought up once), sharing the one lab VM:
# under emulation the VM's one CPU is the limit, and two workers keep it busy (README: Tests).
XDIST   ?= -n 2 --dist loadscope

.PHONY: bootstrap test test-native unit check lab-up verify lab-down clean

bootstrap:
	@NHTB_VENV=$(VENV) scripts/bootstrap

test: bootstrap
	$(PY) -m pytest $(XDIST) $(PYTEST_ARGS)

# The integration tests on the native path (no VM, no agent), run inside a lab VM's guest kernel.
test-native: bootstrap
	$(PY) scripts/test_native.py $(NATIVE_ARGS)

unit: bootstrap
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

check: bootstrap
	$(NHTB) -t $(TOPO) check

lab-up: bootstrap
	$(NHTB) -t $(TOPO) up
	$(NHTB) -t $(TOPO) verify

verify: bootstrap
	$(NHTB) -t $(TOPO) verify

lab-down: bootstrap
	$(NHTB) -t $(TOPO) down

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
