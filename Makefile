# The README's two commands are `make run` and `make test`; everything else is for developers.
.PHONY: run test test-fast lint bench clean

VENV := .venv
BAKEN := $(VENV)/bin/baken

run:            ## set up (first time) and start the web server on the demo corpus (http://127.0.0.1:8000)
	scripts/bootstrap
	$(BAKEN) serve

test:           ## set up what the tests need and run them all
	scripts/bootstrap test
	scripts/browser-deps
	scripts/postgres-test-server >/dev/null && scripts/postgres-test-server stop
	$(VENV)/bin/python -m pytest

test-fast:      ## the tests that need no real model
	$(VENV)/bin/python -m pytest -m "not slow"

bench:          ## every benchmark, one combined table (about 10 minutes once data/bench/ is cached)
	$(VENV)/bin/python -m bench.run_all

lint:           ## ruff over everything; mypy over every package of ours (pip install -e '.[dev]')
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy  # the packages listed in pyproject.toml's [tool.mypy] files

clean:
	rm -rf $(VENV) data .pytest_cache
