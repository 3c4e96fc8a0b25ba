# A thin menu over cargo. `make run` and `make test` are all a fresh machine
# with a Rust toolchain needs.

CARGO ?= cargo

.PHONY: run test lint bench bench-runs bench-curve bench-zmq fuzz man

## run: the live demo: local peers that misbehave, supervised and shown as they recover (Ctrl-C ends it)
run:
	$(CARGO) run --locked -p linesman-cli -- demo

## test: every test of the workspace, doctests included
test:
	$(CARGO) test --workspace --locked

## lint: formatting, clippy with warnings denied, the facade without its default features, rustdoc with warnings denied
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
	$(CARGO) check -p linesman --no-default-features --locked
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps --locked

## man: every command's man page, generated from the clap definitions, into target/man/
man:
	$(CARGO) run -q --locked -p linesman-cli -- man --dir target/man

## bench: every benchmark, release build, table with same-run baselines (the curve runs the release daemon)
bench:
	$(CARGO) build --release --locked -p linesman-cli
	$(CARGO) run --release --locked -p linesman-bench -- all

## bench-runs: every benchmark BENCH_RUNS times (default 5): per case the median figures and ratio, with the spread
BENCH_RUNS ?= 5
bench-runs:
	$(CARGO) build --release --locked -p linesman-cli
	$(CARGO) run --release --locked -p linesman-bench -- all --runs $(BENCH_RUNS)

## bench-curve: the scale curve at 1k, 5k, 10k and 19k connections, with `status -o json` against the release daemon
bench-curve:
	$(CARGO) build --release --locked -p linesman-cli
	$(CARGO) run --release --locked -p linesman-bench -- curve

## bench-zmq: linesman beside libzmq, medians of BENCH_RUNS runs (feature zmq: builds libzmq from source; not in CI)
bench-zmq:
	$(CARGO) run --release --locked -p linesman-bench --features zmq -- zmq --runs $(BENCH_RUNS)

## fuzz: the codec's fuzz targets for FUZZ_SECONDS each (needs cargo-fuzz; not in CI)
FUZZ_SECONDS ?= 60
fuzz:
	command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	cd fuzz && for target in $$(RUSTC_BOOTSTRAP=1 $(CARGO) fuzz list); do \
		RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run $$target -- -max_total_time=$(FUZZ_SECONDS) || exit 1; \
	done
