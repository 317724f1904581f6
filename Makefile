# rolegate: `make run` runs the service, `make test` runs every test.
GO      ?= go
BIN     := bin/rolegate
GOFILES := $(shell find . -name '*.go' -not -path './bin/*')

# Commands the tests need, as command:debian-package (installed by scripts/require.sh).
TEST_TOOLS := redis-server:redis-server redis-cli:redis-tools nginx:nginx chromium:chromium

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z-]*:.*## / {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: run
run: ## Serve the decision API on 127.0.0.1:8181 with the example memberships
	$(GO) run ./cmd/rolegate serve --data examples/memberships.json --policy policies

.PHONY: build
build: ## Build bin/rolegate
	$(GO) build -o $(BIN) ./cmd/rolegate

.PHONY: opa
opa: ## Build bin/opa from the OPA version go.mod pins (for opa run --server)
	$(GO) build -o bin/opa github.com/open-policy-agent/opa

.PHONY: test
test: tools lint policy-check policy-test ## Run every test (installs what the tests need)
	$(GO) test -race -count=1 ./...

.PHONY: tools
tools: ## Install the programs the tests need when missing (apt-get on Debian)
	@scripts/require.sh $(TEST_TOOLS)

.PHONY: lint
lint: ## go vet and gofumpt
	$(GO) vet ./...
	@out=$$($(GO) tool gofumpt -l $(GOFILES)); if [ -n "$$out" ]; then printf "not gofumpt-clean:\n%s\n" "$$out"; exit 1; fi

.PHONY: policy-test
policy-test: ## Run the Rego tests with coverage (fails under 95 %)
	$(GO) run ./cmd/rolegate policy test --threshold 95 policies

.PHONY: policy-check
policy-check: ## Compile the policies strictly and check opa fmt
	$(GO) run ./cmd/rolegate policy check policies

# Fuzz targets as package:Target; make fuzz runs each for FUZZTIME, make soak for
# SOAK_FUZZTIME (test/soak reads this list).
FUZZ_TARGETS := ./internal/gateway:FuzzCanonicalPath ./internal/route:FuzzMatch \
	./internal/strictjson:FuzzDecode ./internal/authz:FuzzDecodeRequest ./internal/membership:FuzzLoad
FUZZTIME     ?= 30s
# Minimising each new input may take up to 60 s by default; keep the time for fuzzing.
FUZZMINTIME  ?= 2s

.PHONY: fuzz
fuzz: ## Fuzz paths, routes, strict JSON, decision requests, data files: FUZZTIME each (30s)
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t#*:}; \
		echo "fuzz $$name ($$pkg) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) \
			-fuzzminimizetime $(FUZZMINTIME) $$pkg || exit 1; \
	done

# Settings of make soak (docs/reliability.md).
SOAK_DURATION ?= 60s
SOAK_RATE     ?= 300
SOAK_FUZZTIME ?= 30s

.PHONY: soak
soak: tools ## Fault suite: load, Redis and bundle faults, fuzzing; a summary table (~6 min)
	SOAK_DURATION=$(SOAK_DURATION) SOAK_RATE=$(SOAK_RATE) SOAK_FUZZTIME=$(SOAK_FUZZTIME) \
		$(GO) test -tags soak -count=1 -timeout 30m -v ./test/soak

.PHONY: matrix
matrix: ## Regenerate docs/permissions.md from the policy
	$(GO) run ./cmd/rolegate matrix --policy policies > docs/permissions.md

.PHONY: bundle
bundle: ## Build the policy bundle bundles/rolegate.tar.gz
	$(GO) run ./cmd/rolegate bundle build -o bundles/rolegate.tar.gz policies

.PHONY: screenshots
screenshots: tools ## Rewrite the console screenshots of the README (docs/img) in Chromium
	$(GO) test -count=1 -run '^TestConsoleInChromium$$' ./test/browser -update-screenshots

# What make bench runs besides Go, as command:debian-package.
BENCH_TOOLS := taskset:util-linux wrk:wrk redis-server:redis-server
# The benchmark's knobs: make bench BENCH_ROUNDS=1 BENCH_DURATION=3s for a quick check.
BENCH_ROUNDS      ?= 3
BENCH_DURATION    ?= 10s
BENCH_MEMBERSHIPS ?= 10000
BENCH_FLAGS       ?=

.PHONY: bench
bench: ## Go benchmarks, then rolegate beside OPA's server under load (bench/results/latest.md)
	@scripts/require.sh $(BENCH_TOOLS)
	@mkdir -p bench/results
	bash -o pipefail -c "$(GO) test -p 1 -run '^$$' -bench . -benchmem ./... | tee bench/results/gobench.txt"
	$(GO) run ./bench -gobench bench/results/gobench.txt -rounds $(BENCH_ROUNDS) \
		-duration $(BENCH_DURATION) -memberships $(BENCH_MEMBERSHIPS) $(BENCH_FLAGS)

.PHONY: bench-large
bench-large: ## make bench with 1,000,000 memberships: the near cache's heap, cold starts
	$(MAKE) bench BENCH_MEMBERSHIPS=1000000

.PHONY: clean
clean: ## Remove build output
	rm -rf bin bundles/*.tar.gz bench/bin bench/results
