# Placer: a secondary kube-scheduler with resource-, zone- and StatefulSet-aware
# plugins, and a benchmark harness. `make help` lists the targets.

GO          ?= go
# Everything but the race detector builds without cgo: the scheduler must be
# static for its image, and building the binaries, vet and the integration
# tests the same way lets them share one compiled Kubernetes tree (a cgo and
# a cgo-free build of the same packages are two). The race detector needs
# cgo: test-unit turns it back on for itself.
export CGO_ENABLED ?= 0
BIN         := bin
VERSION     := $(shell hack/version.sh)
COMMIT      := $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
TREE_STATE  := $(if $(findstring -dirty,$(VERSION)),dirty,clean)
BUILD_DATE  := $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
VERSION_PKG := k8s.io/component-base/version
LDFLAGS     := -X $(VERSION_PKG).gitVersion=$(VERSION) \
               -X $(VERSION_PKG).gitCommit=$(COMMIT) \
               -X $(VERSION_PKG).gitTreeState=$(TREE_STATE) \
               -X $(VERSION_PKG).buildDate=$(BUILD_DATE)

# Unit tests: the packages under pkg/ and cmd/ that have tests. None of them
# starts an API server (those tests live in test/integration), and listing
# only packages with tests keeps `go test -race` from compiling the whole
# kube-apiserver with the race detector for packages that have nothing to run.
UNIT_PKGS    = $(shell $(GO) list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' ./pkg/... ./cmd/...)

.PHONY: bench-scaling help build kubectl scheduler bench-bin bench bench-trace demo bench-plugins etcd perf-upstream perf-upstream-smoke perf-upstream-cases test test-unit test-fuzz fuzz test-integration test-examples lint verify-codegen codegen clean image image-archive

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

build: scheduler bench-bin ## build bin/placer-scheduler and bin/placer-bench

# kubectl from the pinned k8s.io/kubernetes module, so tests and the local
# cluster need nothing installed on the machine.
KUBE_VERSION := v1.34.7
kubectl: ## build bin/kubectl from the pinned k8s.io/kubernetes module
	$(GO) build -ldflags '-X k8s.io/client-go/pkg/version.gitVersion=$(KUBE_VERSION) -X $(VERSION_PKG).gitVersion=$(KUBE_VERSION)' -o $(BIN)/kubectl k8s.io/kubernetes/cmd/kubectl

# Static (no cgo), as kube-scheduler's release builds are: the binary the
# tests run is the one make image-archive puts in an image with no libc.
SCHEDULER_LDFLAGS := $(LDFLAGS) -X $(VERSION_PKG)/verflag.programName=placer-scheduler
scheduler: ## build bin/placer-scheduler (static)
	CGO_ENABLED=0 $(GO) build -ldflags '$(SCHEDULER_LDFLAGS)' -o $(BIN)/placer-scheduler ./cmd/scheduler

# The placer-scheduler container image (Dockerfile): `make scheduler` inside
# a golang builder of go.mod's Go, on distroless/static:nonroot. The version
# variables go in as build arguments, so the image's binary carries the same
# -ldflags as bin/placer-scheduler. Nothing is pushed: set IMAGE to a
# registry your cluster pulls from and push it (README, Install on a cluster).
CONTAINER_TOOL ?= docker
IMAGE          ?= placer-scheduler:dev
GO_VERSION     ?= $(shell sed -n 's/^go \([0-9]*\.[0-9]*\).*/\1/p' go.mod)
image: ## build the placer-scheduler container image IMAGE (default placer-scheduler:dev) with CONTAINER_TOOL (docker, podman)
	$(CONTAINER_TOOL) build -t $(IMAGE) \
	  --build-arg GO_VERSION=$(GO_VERSION) \
	  --build-arg VERSION=$(VERSION) \
	  --build-arg COMMIT=$(COMMIT) \
	  --build-arg BUILD_DATE=$(BUILD_DATE) \
	  .

# The same image without a container engine (hack/image-archive, in Go):
# the static binary for each of IMAGE_PLATFORMS, cross-compiled into
# bin/OS_ARCH/, in one layer on an empty base, user 65532:65532, with the
# OCI labels version, revision and source. It writes IMAGE_OUT/oci (an OCI
# layout of all platforms: crane push) and IMAGE_OUT/placer-scheduler-OS-ARCH.tar
# (docker load, podman load, kind load image-archive, crane push). The
# image's time is the commit's, so the same binaries give the same digests.
IMAGE_PLATFORMS ?= linux/amd64 linux/arm64
IMAGE_OUT       ?= _output/image
IMAGE_SOURCE    ?= https://github.com/placer-dev/placer
IMAGE_CREATED   := $(shell git log -1 --format=%cI 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ)
image-archive: ## build IMAGE for IMAGE_PLATFORMS (default linux/amd64 linux/arm64) with no container engine, into IMAGE_OUT
	@set -e; for p in $(IMAGE_PLATFORMS); do \
	  echo "building $(BIN)/$${p%/*}_$${p#*/}/placer-scheduler"; \
	  CGO_ENABLED=0 GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) build -ldflags '$(SCHEDULER_LDFLAGS)' \
	    -o $(BIN)/$${p%/*}_$${p#*/}/placer-scheduler ./cmd/scheduler; \
	done
	$(GO) run ./hack/image-archive --image $(IMAGE) --out $(IMAGE_OUT) \
	  --version $(VERSION) --revision $(COMMIT) --source $(IMAGE_SOURCE) --created $(IMAGE_CREATED) \
	  $(foreach p,$(IMAGE_PLATFORMS),--binary $(p)=$(BIN)/$(subst /,_,$(p))/placer-scheduler)

bench-bin: ## build bin/placer-bench
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN)/placer-bench ./cmd/bench

# Each profile runs BENCH_COUNT times, interleaved, each run in its own
# process: the table gives medians with intervals (docs/report.md). 5 runs
# take about 5 minutes here and give each figure's interval and each
# paired ratio 94% confidence; BENCH_COUNT=7 gives 95% for both.
BENCH_COUNT ?= 5
bench: bench-bin ## run the default workload, profiles default and placer, BENCH_COUNT runs each (default 5), memory backend: table and report
	$(BIN)/placer-bench run -f examples/bench/default.yaml --profile default --profile placer --backend memory --count $(BENCH_COUNT)

# The FGD paper's experiment on Alibaba's OpenB GPU trace (docs/traces.md):
# each seed of TRACE_SEEDS is one replay of each profile in its own process.
# The trace is not in the repository; README says where to get it.
TRACE_DIR   ?= $(if $(wildcard ../shared/traces/openb),../shared/traces/openb,)
TRACE_NODES ?= openb_node_list_gpu_node.csv
TRACE_PODS  ?= openb_pod_list_default.csv
TRACE_SEEDS ?= 42-44
bench-trace: bench-bin ## replay the OpenB default trace (TRACE_DIR) with the FGD protocol, seeds TRACE_SEEDS (default 42-44), profiles default, MostAllocated and placer
	@test -n "$(TRACE_DIR)" || { echo "make bench-trace: set TRACE_DIR to the folder holding the OpenB csv files (README: Trace replay)"; exit 2; }
	$(BIN)/placer-bench trace openb --nodes $(TRACE_DIR)/$(TRACE_NODES) --pods $(TRACE_DIR)/$(TRACE_PODS) \
	  --protocol fgd --seed $(TRACE_SEEDS) --target 130 --backend memory \
	  --profile default --profile examples/bench/profiles/mostallocated-gpu.yaml --profile placer $(TRACE_FLAGS)

# The scaling curve: each shape at each node count, pods SCALING_PODS_PER_NODE
# a node (10) up to what the object ceiling leaves (250,000 objects: 50,000
# nodes take 200,000 pods), a tenth of them placed first and the rest
# measured; each profile SCALING_COUNT times. Heavy (the 50,000-node runs
# take most of an hour): a benchmark, never a test. No pod is explained
# (--explain 0: an explained pod costs a filter pass over every node).
# SCALING_FLAGS adds flags (--cpuprofile).
SCALING_NODES  ?= 1000 5000 15000 50000
SCALING_SHAPES ?= basic spread
SCALING_PODS_PER_NODE ?= 10
SCALING_COUNT  ?= 1
SCALING_OUT    ?= _output/scaling
bench-scaling: bench-bin ## throughput and peak memory of default and placer against node count (SCALING_NODES, SCALING_SHAPES): SCALING_OUT/scaling.html
	@set -e; case "$(SCALING_PODS_PER_NODE)" in ''|*[!0-9]*|0) \
	  echo "make bench-scaling: SCALING_PODS_PER_NODE=$(SCALING_PODS_PER_NODE): want a whole number of at least 1"; exit 2;; esac; \
	dirs=; for shape in $(SCALING_SHAPES); do for n in $(SCALING_NODES); do \
	  pods=$$(($(SCALING_PODS_PER_NODE) * n)); [ $$pods -le $$((250000 - n)) ] || pods=$$((250000 - n)); init=$$((pods / 10)); \
	  case $$shape in \
	    basic)  sets="--set nodes=$$n --set initPods=$$init --set pods=$$((pods - init))";; \
	    spread) sets="--set nodes=$$n --set initDeployments=$$((init / 50)) --set initReplicas=50 --set deployments=$$(((pods - init) / 10)) --set replicas=10";; \
	    *) echo "make bench-scaling: no sizes for shape $$shape (basic, spread)"; exit 2;; \
	  esac; \
	  echo "== $$shape, $$n nodes, $$pods pods"; \
	  $(BIN)/placer-bench run -f examples/bench/$$shape.yaml $$sets --profile default --profile placer --backend memory \
	    --count $(SCALING_COUNT) --explain 0 --out $(SCALING_OUT)/$$shape-$$n $(SCALING_FLAGS); \
	  dirs="$$dirs $(SCALING_OUT)/$$shape-$$n"; done; done; \
	$(BIN)/placer-bench scaling $(SCALING_OUT) $$dirs

demo: bench-bin ## a small workload on the embedded control plane (in-process etcd and API server), default vs placer
	$(BIN)/placer-bench run -f examples/bench/demo.yaml --backend embedded --profile default --profile placer

bench-plugins: ## Go benchmarks of the plugins' per-node cost, beside upstream plugins
	$(GO) test -run '^$$' -bench . -benchtime=2s -count=$(or $(COUNT),1) ./pkg/plugins/...

# Upstream scheduler_perf (k8s.io/kubernetes/test/integration/scheduler_perf),
# Kubernetes' own scheduler benchmark: on Placer's test cases with Placer's
# plugins (test/perf), or on upstream's own cases. It starts etcd as a
# binary found on PATH, built here from the etcd module go.mod pins. Each
# run writes scheduler_perf's DataItems JSON and .dat files to PERF_OUT, the
# benchmark lines to PERF_OUT/bench.txt, and a log per failed workload to
# PERF_OUT/logs. docs/upstream.md describes both harnesses.
PERF_OUT    ?= _output/perf-upstream
PERF_FILTER ?= performance
PERF_BENCH  ?= .
PERF_TOPIC  ?= misc
define perf_run
	mkdir -p $(PERF_OUT)/logs
	{ PATH=$(CURDIR)/$(BIN):$$PATH ARTIFACTS=$(abspath $(PERF_OUT))/logs \
	  $(GO) test $(1) -run '^$$' -bench 'BenchmarkPerfScheduling/$(PERF_BENCH)' -benchtime=1ns -timeout 3h \
	  -args -perf-scheduling-label-filter=$(PERF_FILTER) -data-items-dir=$(abspath $(PERF_OUT)); \
	  echo $$? > $(PERF_OUT)/.status; } | tee $(PERF_OUT)/bench.txt
	exit $$(cat $(PERF_OUT)/.status)
endef

etcd: ## build bin/etcd, the etcd server scheduler_perf runs, from the etcd module go.mod pins
	$(GO) build -o $(BIN)/etcd ./hack/etcd

perf-upstream: etcd ## scheduler_perf on test/perf's cases with Placer's plugins (PERF_BENCH=Case/Workload, PERF_FILTER=labels)
	$(call perf_run,./test/perf/)

perf-upstream-smoke: etcd ## scheduler_perf on test/perf's smallest workloads: every case, a minute or two
	$(MAKE) perf-upstream PERF_FILTER=integration-test,short

perf-upstream-cases: etcd ## scheduler_perf on upstream's own cases (PERF_TOPIC=misc, PERF_BENCH='SchedulingBasic/5000Nodes_10000Pods$$')
	$(call perf_run,k8s.io/kubernetes/test/integration/scheduler_perf/$(PERF_TOPIC))

test: lint test-unit test-fuzz test-integration test-examples ## everything CI runs: lint, unit tests (race), fuzzing of the file readers, integration tests, the test kit example

test-unit: ## unit tests with the race detector
	CGO_ENABLED=1 $(GO) test -race -count=1 $(UNIT_PKGS)

# The readers of files users give: the trace readers, the workload file and
# upstream's performance-config.yaml, each fuzzed for FUZZ_TIME (package:target).
# A few seconds each in make test; make fuzz runs them longer. Minimizing a
# new input is capped at FUZZ_MINIMIZE: the seeds are whole files, and the
# default of 60s would take a short run's whole time.
# The upstream config reader's package links the API server (its executor
# does), and fuzzing instruments every package it links: a cold instrumented
# build of the apiserver tree costs CI about ten minutes. make test runs that
# fuzzer's seeds (every shipped performance-config case) as a unit test;
# make fuzz runs its engine with the others'.
FUZZ_QUICK   = ./pkg/bench/trace:FuzzOpenBNodes ./pkg/bench/trace:FuzzOpenBPods ./pkg/bench/trace:FuzzJSONL \
	./pkg/bench/workload:FuzzParse
FUZZ_TARGETS = $(FUZZ_QUICK) ./pkg/bench/upstream:FuzzConfig
FUZZ_TIME ?= 3s
FUZZ_MINIMIZE ?= 1s
test-fuzz: ## fuzz the readers of user files for FUZZ_TIME each (default 3s); the upstream reader's seeds run with the unit tests
	for t in $(FUZZ_QUICK); do \
	  $(GO) test -run '^$$' -fuzz "^$${t#*:}\$$" -fuzztime $(FUZZ_TIME) -fuzzminimizetime $(FUZZ_MINIMIZE) "$${t%%:*}" || exit 1; done

fuzz-all: # every fuzzer, FUZZ_TIME each
	for t in $(FUZZ_TARGETS); do \
	  $(GO) test -run '^$$' -fuzz "^$${t#*:}\$$" -fuzztime $(FUZZ_TIME) -fuzzminimizetime $(FUZZ_MINIMIZE) "$${t%%:*}" || exit 1; done

fuzz: ## fuzz every reader longer: 5m each unless FUZZ_TIME says (make fuzz FUZZ_TIME=30m)
	$(MAKE) fuzz-all FUZZ_TIME=$(if $(filter command line environment,$(origin FUZZ_TIME)),$(FUZZ_TIME),5m) FUZZ_MINIMIZE=$(if $(filter command line environment,$(origin FUZZ_MINIMIZE)),$(FUZZ_MINIMIZE),60s)

test-integration: build kubectl ## integration tests through the built binaries on the embedded control plane
	PLACER_SCHEDULER_BIN=$(CURDIR)/$(BIN)/placer-scheduler \
	PLACER_BENCH_BIN=$(CURDIR)/$(BIN)/placer-bench \
	PLACER_KUBECTL_BIN=$(CURDIR)/$(BIN)/kubectl \
	$(GO) test -count=1 -timeout 20m ./test/integration/...

# examples/testkit is a module of its own (the main module's ./... leaves it out): a
# plugin tested and benchmarked only through pkg/testkit, as a plugin author
# outside this repository would. One run of its benchmark proves it works;
# figures come from -count=6 runs compared with benchstat.
test-examples: ## the test kit example module: its tests, and one run of its benchmark
	cd examples/testkit && $(GO) vet ./... && $(GO) test -count=1 -timeout 10m ./... && \
	  $(GO) test -count=1 -run '^$$' -bench . -benchtime=1x ./...

lint: verify-codegen ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

verify-codegen: ## fail if generated code in pkg/apis is stale
	hack/verify-codegen.sh

codegen: ## regenerate deepcopy, conversion and defaults for pkg/apis
	hack/update-codegen.sh

clean: ## remove built binaries
	rm -rf $(BIN)
