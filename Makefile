# The two commands: `make run` and `make test`. Everything else is a helper of theirs.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export DJANGO_SETTINGS_MODULE ?= config.settings

.PHONY: run test install lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo ""
	@echo "  OMS back office: http://127.0.0.1:$(PORT)/admin/   (login: admin / admin)"
	@echo "  API:             http://127.0.0.1:$(PORT)/api/v1/  (docs: /api/v1/docs/)"
	@echo ""
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# The suite runs side by side in TEST_PROCESSES processes (pytest-xdist; each with its own test database), a
# test file to a process; the tests marked `redis` share one Celery broker and one outbox list, so they run
# after, in one process.
TEST_PROCESSES ?= auto

test: lint
	$(BIN)/pytest -q -rs -n $(TEST_PROCESSES) --dist loadfile -m "not redis"
	$(BIN)/pytest -q -rs -m redis

bench: install
	$(BIN)/python -m tests.benchmarks.run

clean:
	rm -rf $(VENV) var
