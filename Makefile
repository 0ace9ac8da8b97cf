# Developer shortcuts. `make help` lists them.
.PHONY: help build run test lint bench docs

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

build: ## build bin/volley
	go build -o bin/volley ./cmd/volley

run: ## run the server on the embedded store in ./volley-data
	go run ./cmd/volley serve

test: ## run every test with the race detector (what CI runs)
	go run ./internal/testall

docs: ## render docs/api-reference.md from the OpenAPI document (internal/httpapi/openapi/openapi.yaml)
	go generate ./internal/httpapi/openapi

lint: ## gofmt, go vet and staticcheck
	@test -z "$$(gofmt -l .)" || (gofmt -l . && exit 1)
	go vet ./...
	go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

bench: ## measure ingest, latency and delivery, then list queries at 500k events (see docs/benchmarks.md)
	go run ./cmd/volley bench
	go run ./cmd/volley bench --phases d
