# The README's two commands are `make run` and `make test`; everything else is for developers.
.PHONY: run test test-fast lint bench clean

VENV := .venv
BAKEN := $(VENV)/bin/baken

run:            ## set up (first time) and start Baken on the demo corpus
	scripts/bootstrap
	$(BAKEN) chat

test:           ## set up what the tests need and run them all
	scripts/bootstrap test
	$(VENV)/bin/python -m pytest

test-fast:      ## the tests that need no real model
	$(VENV)/bin/python -m pytest -m "not slow"

lint:
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) data .pytest_cache
