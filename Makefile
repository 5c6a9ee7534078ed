# Two entry points: `make demo` runs arunner on the bundled example, `make
# test` runs the test suite. Each installs what it needs from Debian when it
# can (as root with apt-get) and otherwise says what is missing.

SHELL := /bin/bash
export PATH := $(PATH):/usr/local/go/bin
GO ?= go

# Packages whose tests start goroutines of their own run under -race; the
# rest without it. One list, as import paths.
MODULE := github.com/arunner/arunner
RACE_PKGS := runner events internal/eventproto factcache prompt credentials/sshagent internal/lazyio stream runnertest pool
empty :=
space := $(empty) $(empty)
RACE_RE := ^$(MODULE)/($(subst $(space),|,$(RACE_PKGS)))($$|/)

.PHONY: demo test deps-demo deps-test deps-bench build vet bench

build:
	$(GO) build -o bin/arunner ./cmd/arunner

demo: deps-demo build
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	cp -r examples/demo "$$tmp/pdd" && \
	echo "== arunner run $$tmp/pdd -p site.yml" && \
	DEMO_WORKDIR="$$tmp" ./bin/arunner run "$$tmp/pdd" -p site.yml --ident demo && \
	echo && echo "== artifacts left by the run (status: $$(cat $$tmp/pdd/artifacts/demo/status), rc: $$(cat $$tmp/pdd/artifacts/demo/rc))" && \
	ls -l "$$tmp/pdd/artifacts/demo" && \
	echo "== $$(ls $$tmp/pdd/artifacts/demo/job_events | wc -l) job events, for example the play recap:" && \
	grep -l '"playbook_on_stats"' $$tmp/pdd/artifacts/demo/job_events/*.json | head -1 | xargs cat | head -c 600; echo

test: deps-test vet
	$(GO) test -race -count=1 -timeout 12m $(addprefix $(MODULE)/,$(addsuffix /...,$(RACE_PKGS)))
	$(GO) test -count=1 -timeout 12m $$($(GO) list ./... | grep -v -E '$(RACE_RE)')
	cd examples/controller && $(GO) test -count=1 -timeout 12m ./...

# The BSDs (macOS among them) build too: ansible controllers run there.
CROSS_GOOS := darwin freebsd

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))" || { echo "gofmt would change:"; gofmt -l .; exit 1; }
	$(GO) vet ./...
	cd examples/controller && $(GO) vet ./...
	@for os in $(CROSS_GOOS); do echo "GOOS=$$os go build ./..."; GOOS=$$os $(GO) build ./... || exit 1; done

bench: deps-bench
	bench/run.sh

deps-demo:
	@./scripts/need.sh go ansible-core

deps-test:
	@./scripts/need.sh go gcc libc6-dev ansible-core python3-ansible-runner openssh-server git sudo sshpass bubblewrap podman runc chromium postgresql redis-server nats-server

deps-bench:
	@./scripts/need.sh go ansible-core python3-ansible-runner
