# H-log. `make run` starts the whole local stack with demo data; `make test` runs every test.
SHELL := /bin/bash
export GOTOOLCHAIN := local
export GOFLAGS := -buildvcs=false

HLOG_DIR := $(CURDIR)/.hlog
TOOLS_BIN := $(HLOG_DIR)/tools
MODULES := proto web cafe24-svc smartstore-svc ably-svc ingest-svc gateway k8s
BENCH ?=

.PHONY: run test bench generate lint tools web check-generated images

run:
	@scripts/run.sh

test:
	@scripts/test.sh

bench:
	@scripts/bench.sh $(BENCH)

# Tools are built from the versions pinned by the tool directives of
# scripts/tools/go.mod, into .hlog/tools. Nothing is downloaded but Go modules.
tools:
	@mkdir -p $(TOOLS_BIN)
	@cd scripts/tools && GOWORK=off go build -o $(TOOLS_BIN)/ tool

generate: tools
	@rm -rf proto/gen proto/apidoc/*.json
	@PATH="$(TOOLS_BIN):$$PATH" buf generate
	@scripts/build-web.sh

lint: tools
	@PATH="$(TOOLS_BIN):$$PATH" buf lint
	@for m in $(MODULES); do [ -z "$$(find $$m -name '*.go' -print -quit)" ] || (cd $$m && go vet ./...) || exit 1; done
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^proto/gen/')); if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi

# Used by CI: regenerate and fail if the committed generated code differs.
check-generated: generate
	@changed=$$(git status --porcelain -- proto/gen proto/apidoc web/dist); if [ -n "$$changed" ]; then echo "generated code is stale (run make generate and commit):"; echo "$$changed"; git --no-pager diff --stat -- proto/gen proto/apidoc web/dist; exit 1; fi

# Container images of every service (docker build from the repository root,
# version and commit stamped). IMAGE_REGISTRY=, IMAGE_TAG=, SERVICES=, PUSH=1
# are read by k8s/build-images.sh; it says so when no Docker daemon answers.
images:
	@k8s/build-images.sh
