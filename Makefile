# Two commands do all the set-up on a fresh machine with Python 3.11 and make:
#   make demo   — create .venv from the lock file if missing, run every sample month through Dagster
#   make test   — same set-up, then the test suite
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: demo test test-fast bench ui lock clean redis

$(STAMP): requirements.lock pyproject.toml
	@test -x $(VENV)/bin/python || $(PY) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements.lock
	$(VENV)/bin/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	@rm -f $(VENV)/.installed-*; touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/lim demo

test: $(STAMP) redis
	$(VENV)/bin/python -m pytest -q -n 2 --dist loadfile

# tests/e2e/test_celery_run.py starts a Redis broker of its own (LIM_EXECUTOR=celery): redis-server is
# installed when it is missing and apt-get can (CI: root on a fresh machine); otherwise the test is
# skipped and says why. Never fails the build.
redis:
	@command -v redis-server >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] \
	  && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server) >/dev/null 2>&1 \
	  && echo "installed redis-server (tests/e2e/test_celery_run.py)"; } \
	  || echo "redis-server is not installed and cannot be: tests/e2e/test_celery_run.py will be skipped"

# The inner loop: tests/unit only (pure functions, readers, single SQL files; about a minute).
test-fast: $(STAMP)
	$(VENV)/bin/python -m pytest -q -n 2 -m unit

bench: $(STAMP)
	$(VENV)/bin/python -m bench.run --size county

ui: $(STAMP)
	$(VENV)/bin/lim ui

# Re-resolve the lock after changing dependencies in pyproject.toml.
lock:
	rm -rf /tmp/lim-lock && $(PY) -m venv /tmp/lim-lock
	/tmp/lim-lock/bin/pip install -q -e '.[test,cluster]'
	/tmp/lim-lock/bin/pip freeze --exclude-editable | grep -v "^-e" > requirements.lock && printf "setuptools==75.8.0\nwheel==0.45.1\n" >> requirements.lock

clean:
	rm -rf $(VENV) var out .dagster_home
