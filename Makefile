# meshfed — build, test and generate. `make help` lists the targets.

SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

CACHE_DIR     ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/meshfed
TOOLS_BIN     ?= $(CACHE_DIR)/bin
export MESHFED_TOOLS_DIR ?= $(CACHE_DIR)/k8s-v1.37.2

CONTROLLER_GEN_VERSION ?= v0.23.0
GOLANGCI_LINT_VERSION  ?= v2.15.0
CONTROLLER_GEN := $(TOOLS_BIN)/controller-gen-$(CONTROLLER_GEN_VERSION)
GOLANGCI_LINT  := $(TOOLS_BIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)

GO_TEST_FLAGS ?= -count=1 -timeout=30m

# Images: version and commit stamped into the binaries (internal/version) and used as the tag.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
IMAGES  ?= meshfed-hub meshfed-waypoint meshfed-dns
CLUSTERS ?= 3

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Build

.PHONY: build
build: ## Build every binary into ./bin, and bin/kubectl-meshfed (the kubectl plugin, a link to meshfedctl).
	go build -o bin/ ./cmd/...
	ln -sf meshfedctl bin/kubectl-meshfed

.PHONY: images
images: ## Build the images (IMAGES: meshfed-hub, meshfed-waypoint, meshfed-dns) with the local Docker engine, tagged $(VERSION) and dev.
	VERSION=$(VERSION) COMMIT=$(COMMIT) bash deploy/images/build.sh $(IMAGES)

##@ Test

.PHONY: test
test: tools ## Daily loop: every test with -short (skips the real clusters and the other slow tests).
	go test -short $(GO_TEST_FLAGS) ./...

.PHONY: test-all
test-all: verify lint tools cluster-tools ## Everything CI runs: verify, lint, then every test including e2e and the real clusters.
	go test $(GO_TEST_FLAGS) ./...
	cd hbone/interop && go test $(GO_TEST_FLAGS) ./...

.PHONY: bench
bench: ## Run the Go benchmarks, the hub's propagation, scale (10 to 100 clusters, and under churn), large-service and member-status measurements, the handover gaps, the shared gateway against a waypoint per namespace, a waypoint's table with remote endpoints aggregated or not, the HBONE, waypoint, peers (HAProxy, nginx) and DNS tables.
	go test -run='^$$' -bench=. -benchmem -count=5 ./federation/...
	MESHFED_BENCH_BOUNDS=enforce go test -run='^(TestPropagationLatency|TestScale20x1000x10|TestLargeServiceFederates|TestSyncWritesLargeRecords|TestMemberStatusFollowsReality)$$' -count=1 -timeout 30m -v \
		./cmd/meshfed-hub/app ./federation/controller ./federation/store | grep -E '(latency|scale|large|status)_test.go|^(ok|FAIL|---)'
	MESHFED_BENCH_SCALE_CHURN=1 MESHFED_BENCH_SCALE_CURVE=1 MESHFED_BENCH_SCALE_MEMBERS=1 go test -run='^(TestScaleChurnPropagation|TestScaleCurve|TestScaleMemoryWithMembers)$$' -count=1 -timeout 30m -v \
		./federation/controller | grep -E 'scale_(churn|curve|members|test)|^(ok|FAIL|---)'
	MESHFED_BENCH_AGGREGATE=1 go test -run='^TestScaleAggregatedTable$$' -count=1 -timeout 30m -v ./waypoint/table | grep -E 'scale_aggregate|^(ok|FAIL|---)'
	go run ./cmd/meshfed-bench hbone
	go run ./cmd/meshfed-bench waypoint
	go run ./cmd/meshfed-bench peers
	go run ./cmd/meshfed-bench dns
	MESHFED_BENCH_BOUNDS=enforce go test -count=1 -v -run='^TestHandover' ./e2e/scenarios/
	MESHFED_BENCH_GATEWAY_COST=1 go test -count=1 -v -run '^TestGatewayCost$$' -timeout 40m ./e2e/scenarios/
	cd hbone/interop && go test -run='^$$' -bench=. -benchmem -count=5 ./...

.PHONY: demo
DURATION ?= 2m
DEMO = go test -count=1 -v -timeout 30m -run '^TestLocalFederation$$' ./e2e/demo/ -args -duration=$(DURATION) 2>&1 \
	| grep --line-buffered -v -e '^=== ' -e 'level=' -e '^\s*[a-z_]*\.go:[0-9]*: started'
demo: tools ## Local federation demo with traffic and failover (DURATION=2m); root, or a user namespace.
	@if [ "$$(id -u)" = 0 ]; then $(DEMO); \
	elif unshare --user --map-root-user --mount --net true 2>/dev/null; then \
		echo "not root: running the demo inside a user namespace"; go mod download; \
		unshare --user --map-root-user --mount --net sh -c 'mount -t tmpfs tmpfs /run && ip link set lo up && $(subst ','"'"',$(DEMO))'; \
	else \
		echo "make demo needs root, or unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 / user.max_user_namespaces > 0)"; exit 1; \
	fi

.PHONY: fuzz
fuzz: ## Run every fuzz target for FUZZTIME each (default 15s).
	@for pkg in $$(go list ./...); do \
	  for f in $$(go test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$f"; go test -run='^$$' -fuzz="^$$f$$" -fuzztime=$${FUZZTIME:-15s} $$pkg; \
	  done; \
	done

.PHONY: clusters
clusters: ## Bring up CLUSTERS (3) real single-node clusters in Docker (e2e/clusters), or reuse them.
	go run ./e2e/clusters/cmd/clusters up -n $(CLUSTERS)

.PHONY: clusters-down
clusters-down: ## Remove the clusters, their networks and state (images and build caches stay).
	go run ./e2e/clusters/cmd/clusters down

##@ Code generation

.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate deepcopy code.
	$(CONTROLLER_GEN) object paths=./apis/...

.PHONY: manifests
manifests: $(CONTROLLER_GEN) ## Generate CRDs into deploy/crds; deploy/waypoint and deploy/mcs from Go.
	$(CONTROLLER_GEN) crd paths=./apis/... output:crd:artifacts:config=deploy/crds
	go test -count=1 -run '^TestGeneratedFiles$$' ./deploy -update

.PHONY: verify
verify: generate manifests ## Regenerate, check formatting and modules, fail on any diff.
	go mod tidy -diff
	cd hbone/interop && go mod tidy -diff && go vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt needed'; exit 1; }
	go vet ./...
	@git diff --exit-code -- apis deploy || { echo 'generated files are stale: run make generate manifests'; exit 1; }
	@test -z "$$(git status --porcelain -- apis deploy)" || { git status --porcelain -- apis deploy; echo 'untracked generated files'; exit 1; }

.PHONY: lint
lint: $(GOLANGCI_LINT) ## Run golangci-lint (pinned) with the project's config.
	$(GOLANGCI_LINT) run --allow-serial-runners ./...

##@ Tools

.PHONY: tools
tools: ## Build kube-apiserver, etcd (envtest) and CoreDNS (DNS tests) into the cache (seconds when cached).
	bash e2e/tools/build.sh
	bash e2e/tools/coredns/build.sh

.PHONY: cluster-tools
cluster-tools: ## Build what the real clusters run (node binaries, node image, pause/CoreDNS/echo images), once.
	bash e2e/clusters/build.sh >/dev/null

$(CONTROLLER_GEN):
	@mkdir -p $(TOOLS_BIN)
	GOBIN=$(TOOLS_BIN) go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_GEN_VERSION)
	mv $(TOOLS_BIN)/controller-gen $@

$(GOLANGCI_LINT):
	@mkdir -p $(TOOLS_BIN)
	GOBIN=$(TOOLS_BIN) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	mv $(TOOLS_BIN)/golangci-lint $@
