# The README's two commands. Both install what is missing, then run.
.PHONY: demo test build stubs

demo:
	bash .ci/demo

test:
	bash .ci/test

build:
	bash .ci/setup && bash .ci/build

stubs:
	bash .ci/gen-stubs
