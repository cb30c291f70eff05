# Every target bootstraps .venv on a fresh machine (python3 >= 3.10 is all it needs).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint format bench clean package soak

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The remediation demo: localcloud in-process on a simulated clock, a fleet behind a load balancer, a scheduled
# maintenance, a preemption and a stalled disk handled by the queue consumer; prints the timeline, writes the page.
demo: $(STAMP)
	$(BIN)/ecs-events demo --html demo-timeline.html

# The suite needs a real redis-server and chromium (installed from Debian when missing); tests start their own redis.
test: $(STAMP)
	bash tools/ensure-services.sh
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The 2000-instance maintenance storm (tests/reliability/test_storm.py with ECS_EVENTS_SOAK=1); `make test` runs 200.
# And the invariants over 200 random histories of 50 steps (tests/reliability/test_invariants.py); `make test`: 20 of 25.
soak: $(STAMP)
	ECS_EVENTS_SOAK=1 $(BIN)/python -m pytest tests/reliability/test_storm.py tests/reliability/test_invariants.py \
		-p no:cacheprovider $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check shared tests bench functions tools
	$(BIN)/ruff format --check shared tests bench functions tools
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format shared tests bench functions tools
	$(BIN)/ruff check --fix shared tests bench functions tools

bench: $(STAMP)
	$(BIN)/python bench/parse.py
	$(BIN)/python bench/hostile.py
	$(BIN)/python bench/localcloud.py
	$(BIN)/python bench/coldstart.py
	$(BIN)/python bench/consumer.py
	$(BIN)/python bench/discovery.py
	$(BIN)/python bench/calls.py
	$(BIN)/python bench/storm.py

# The FC code packages: dist/package/<function>/ (one code root per function) and dist/fc/<function>.zip.
package: $(STAMP)
	$(BIN)/python tools/package.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
