# xorc: `make test` is what CI runs (after gofmt and go vet, see .ci/run).
GO ?= go
# Extra flags for `make test` (CI passes -count=1 and a -timeout).
TESTFLAGS ?=
PROTOC_GEN_GO_VERSION ?= v1.36.12

.PHONY: all build test vet fmt-check proto demo bench fuzz ci

all: build test

build:
	$(GO) build ./...

test:
	$(GO) test -race $(TESTFLAGS) ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out="$$(gofmt -l .)"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Regenerate proto/xorc.pb.go: protoc from Debian's protobuf-compiler,
# protoc-gen-go from the Go module proxy.
proto:
	@command -v protoc >/dev/null || { echo "protoc missing: apt-get install -y protobuf-compiler"; exit 1; }
	@command -v protoc-gen-go >/dev/null || $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	PATH="$$PATH:$$($(GO) env GOPATH)/bin" $(GO) generate ./proto

demo:
	$(GO) run ./cmd/xorc demo

bench:
	$(GO) run ./cmd/xorc bench --transport inproc
	$(GO) run ./cmd/xorc bench --transport shm
	$(GO) run ./cmd/xorc bench --transport pipe

# A short run of every fuzzer of the facade's packages.
fuzz:
	$(GO) test ./proto -run '^$$' -fuzz FuzzUnmarshalBatch -fuzztime 60s
	$(GO) test ./proto -run '^$$' -fuzz FuzzEnvelopeRoundTrip -fuzztime 60s
	$(GO) test ./internal/remote -run '^$$' -fuzz FuzzReceive -fuzztime 60s
	$(GO) test ./internal/remote -run '^$$' -fuzz FuzzFastDecode -fuzztime 60s
	$(GO) test ./internal/remote -run '^$$' -fuzz FuzzUndelivered -fuzztime 60s
	$(GO) test ./internal/remote -run '^$$' -fuzz FuzzSnapshotCodec -fuzztime 60s
	$(GO) test ./remote_pipe -run '^$$' -fuzz FuzzReadFrame -fuzztime 60s

ci:
	bash .ci/run
