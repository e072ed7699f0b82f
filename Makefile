# The README's two commands. Both install what is missing, then run.
.PHONY: demo test build stubs test-sanitizers fuzz

demo:
	bash .ci/demo

test:
	bash .ci/test

build:
	bash .ci/setup && bash .ci/build

stubs:
	bash .ci/gen-stubs

# Beyond `make test`: every unit test and the integration suites under ASan+UBSan,
# the concurrency-heavy units under TSan (make test runs a fast subset of both).
test-sanitizers:
	bash .ci/setup && bash .ci/test-sanitizers

# Fuzzes every target for FUZZ_SECONDS (default 300) each: FUZZ_SECONDS=60 make fuzz
fuzz:
	bash .ci/setup && bash .ci/fuzz $(FUZZ_SECONDS)
