# synack — build, test, demo, install.
#   make            library (static + shared) and build/synack
#   make demo       build and run `synack demo` (installs Debian packages it needs)
#   make test       build everything under ASan+UBSan and run every test
#   make install    PREFIX=/usr/local by default
#   make bench      build bench/ (-O2 -g, no sanitizers) and run bench/run.sh
#   make mutate     mutation testing: which one-line mutations of the core no test
#                   notices (scripts/mutate.sh; ~20 min; not part of `make test`)

PREFIX ?= /usr/local
# The version is written once, in tools/synack/version.h.
VERSION := $(shell sed -n 's/^\#define SYNACK_VERSION "\(.*\)"/\1/p' tools/synack/version.h)
CC ?= cc
BUILD := build
CSTD := -std=c11 -D_DEFAULT_SOURCE
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-missing-field-initializers
INC := -Iinclude -Isrc
CFLAGS ?= -O2 -g
ALL_CFLAGS := $(CSTD) $(WARN) $(INC) $(CFLAGS) -fPIC
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_CFLAGS := $(CSTD) $(WARN) $(INC) $(SAN_FLAGS)

# The core: pure C11 + libc, no OS calls. Embeds anywhere.
CORE_SRC := $(sort $(wildcard src/base/*.c src/wire/*.c src/tcp/*.c src/udp/*.c src/net/*.c src/stack/*.c))
# Outside the core: simulator, devices and the threaded runtime (used by the
# CLI and the tests).
HOST_SRC := $(sort $(wildcard src/sim/*.c src/dev/*.c src/rt/*.c))
TOOL_SRC := $(sort $(wildcard tools/synack/*.c))
# The LD_PRELOAD library behind `synack run`: its calls, the runtime, the
# devices and the core, in one shared object that exports only the calls.
PRELOAD_SRC := $(sort $(wildcard src/preload/*.c))
TEST_COMMON := $(sort $(wildcard tests/common/*.c))
TEST_SRC := $(sort $(wildcard tests/unit/*.c tests/tcp/*.c tests/udp/*.c tests/sim/*.c tests/rt/*.c))
HDRS := $(wildcard include/*.h src/*/*.h tools/synack/*.h tests/common/*.h tests/rt/*.h)

CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
HOST_OBJ := $(HOST_SRC:%.c=$(BUILD)/obj/%.o)
TOOL_OBJ := $(TOOL_SRC:%.c=$(BUILD)/obj/%.o)
PRELOAD_OBJ := $(PRELOAD_SRC:%.c=$(BUILD)/obj/%.o) $(filter $(BUILD)/obj/src/dev/% $(BUILD)/obj/src/rt/%,$(HOST_OBJ))
SAN_CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/san/%.o)
SAN_HOST_OBJ := $(HOST_SRC:%.c=$(BUILD)/san/%.o)
SAN_TOOL_OBJ := $(filter-out $(BUILD)/san/tools/synack/main.o,$(TOOL_SRC:%.c=$(BUILD)/san/%.o))
SAN_COMMON_OBJ := $(TEST_COMMON:%.c=$(BUILD)/san/%.o)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

.PHONY: all lib demo test test-build install uninstall clean deps-demo deps-test fuzz bench bench-build mutate
all: lib $(BUILD)/synack $(BUILD)/libsynack-preload.so $(BUILD)/examples/echo_epoll $(BUILD)/examples/http_poll

lib: $(BUILD)/libsynack.a $(BUILD)/libsynack.so $(BUILD)/synack.pc

# V=1 shows full command lines.
Q := $(if $(V),,@)

$(BUILD)/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/san/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC san  $<")
	$(Q)$(CC) $(SAN_CFLAGS) -Itests -c $< -o $@

$(BUILD)/libsynack.a: $(CORE_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libsynack.so: $(CORE_OBJ) src/libsynack.map
	$(CC) -shared -Wl,-soname,libsynack.so.0 -Wl,--version-script=src/libsynack.map -o $@ $(CORE_OBJ)

$(BUILD)/libsynack-preload.so: $(PRELOAD_OBJ) $(CORE_OBJ) src/preload/preload.map
	$(CC) -shared -Wl,--version-script=src/preload/preload.map -o $@ $(PRELOAD_OBJ) $(CORE_OBJ) -ldl -lpthread -lm -luring

$(BUILD)/libsynack-host.a: $(HOST_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/synack: $(TOOL_OBJ) $(BUILD)/libsynack-host.a $(BUILD)/libsynack.a
	$(CC) $(CFLAGS) -o $@ $(TOOL_OBJ) $(BUILD)/libsynack-host.a $(BUILD)/libsynack.a -lm -lpthread -luring

$(BUILD)/synack.pc: synack.pc.in tools/synack/version.h
	@mkdir -p $(BUILD)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' $< > $@

# Sanitized binaries used by the tests.
$(BUILD)/san/synack: $(SAN_TOOL_OBJ) $(BUILD)/san/tools/synack/main.o $(SAN_HOST_OBJ) $(SAN_CORE_OBJ)
	$(CC) $(SAN_FLAGS) -o $@ $^ -lm -lpthread -luring

# The harness objects are kept, not deleted as intermediates after each link.
.SECONDARY: $(SAN_COMMON_OBJ)

$(BUILD)/tests/%: tests/%.c $(SAN_COMMON_OBJ) $(SAN_TOOL_OBJ) $(SAN_HOST_OBJ) $(SAN_CORE_OBJ) $(HDRS)
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  TEST    $@")
	$(Q)$(CC) $(SAN_CFLAGS) -Itests -Itools/synack -o $@ $< $(SAN_COMMON_OBJ) $(SAN_TOOL_OBJ) $(SAN_HOST_OBJ) $(SAN_CORE_OBJ) -lcmocka -lm -lpthread -luring

# This test compiles the preload library's totals.c in.
$(BUILD)/tests/unit/test_preload_totals: src/preload/totals.c src/preload/preload.h src/preload/stream.h

# Benchmarks: optimised, no sanitizers, against the optimised libraries.
BENCH_BIN := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/bench_*.c))
BENCH_CFLAGS := $(CSTD) $(WARN) $(INC) -O2 -g
# bench_memory counts libsynack's allocations through wrappers.
$(BUILD)/bench/bench_memory: BENCH_LDFLAGS := -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free

# bench_loss and loss_kernel (Linux under the same loss, synack beside it)
# share the simulator measurement in bench/loss_sim.c; loss_kernel's link
# emulator is bench/loss_emu.c. BENCH_EXTRA names such extra sources.
$(BUILD)/bench/bench_loss: BENCH_EXTRA := bench/loss_sim.c
$(BUILD)/bench/loss_kernel: BENCH_EXTRA := bench/loss_sim.c bench/loss_emu.c
$(BUILD)/bench/bench_loss $(BUILD)/bench/loss_kernel: bench/loss_sim.c bench/loss_sim.h
$(BUILD)/bench/loss_kernel: bench/loss_emu.c bench/loss_emu.h

$(BUILD)/bench/%: bench/%.c bench/util.c bench/util.h $(BUILD)/libsynack-host.a $(BUILD)/libsynack.a
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  BENCH   $@")
	$(Q)$(CC) $(BENCH_CFLAGS) -o $@ $< bench/util.c $(BENCH_EXTRA) $(BUILD)/libsynack-host.a $(BUILD)/libsynack.a -lm -lpthread -luring $(BENCH_LDFLAGS)

# The plain-socket client and server of bench/netns.sh: kernel sockets only,
# no synack library (it measures the relays, not itself).
$(BUILD)/bench/netns_connrate: bench/netns_connrate.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  BENCH   $@")
	$(Q)$(CC) $(BENCH_CFLAGS) -o $@ $< -lpthread

bench-build: $(BENCH_BIN) $(BUILD)/bench/netns_connrate $(BUILD)/bench/loss_kernel

bench: bench-build
	bash bench/run.sh

# The example sees only the public header, as an embedding program would.
$(BUILD)/examples/two_stacks: examples/two_stacks.c $(SAN_CORE_OBJ) include/synack.h
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -Iinclude $(SAN_FLAGS) -o $@ $< $(SAN_CORE_OBJ)

# The fd API example: public headers and the optimised libraries only.
$(BUILD)/examples/echo_epoll $(BUILD)/examples/http_poll: $(BUILD)/examples/%: examples/%.c include/synack.h include/synack_rt.h $(BUILD)/libsynack-host.a $(BUILD)/libsynack.a
	@mkdir -p $(dir $@)
	$(CC) $(CSTD) $(WARN) -Iinclude $(CFLAGS) -o $@ $< $(BUILD)/libsynack-host.a $(BUILD)/libsynack.a -lm -lpthread -luring

$(BUILD)/fuzz/fuzz_input: tests/fuzz/fuzz_input.c $(CORE_SRC) $(HDRS)
	@mkdir -p $(dir $@)
	clang $(CSTD) $(INC) -g -O1 -fsanitize=fuzzer,address,undefined -o $@ tests/fuzz/fuzz_input.c $(CORE_SRC)

demo: deps-demo all
	./$(BUILD)/synack demo

test-build: $(BUILD)/san/synack $(TEST_BIN) $(BUILD)/examples/two_stacks all

test: deps-test
	$(MAKE) -j2 test-build
	bash tests/run.sh

$(BUILD)/fuzz/fuzz_ack: tests/fuzz/fuzz_ack.c $(CORE_SRC) $(HDRS)
	@mkdir -p $(dir $@)
	clang $(CSTD) $(INC) -g -O1 -fsanitize=fuzzer,address,undefined -o $@ tests/fuzz/fuzz_ack.c $(CORE_SRC)

# The IPv6 parser and extension-header walk alone: only the wire layer.
$(BUILD)/fuzz/fuzz_ipv6: tests/fuzz/fuzz_ipv6.c $(wildcard src/wire/*.c) $(HDRS)
	@mkdir -p $(dir $@)
	clang $(CSTD) $(INC) -g -O1 -fsanitize=fuzzer,address,undefined -o $@ tests/fuzz/fuzz_ipv6.c $(wildcard src/wire/*.c)

$(BUILD)/fuzz/fuzz_icmpv6: tests/fuzz/fuzz_icmpv6.c $(CORE_SRC) $(HDRS)
	@mkdir -p $(dir $@)
	clang $(CSTD) $(INC) -g -O1 -fsanitize=fuzzer,address,undefined -o $@ tests/fuzz/fuzz_icmpv6.c $(CORE_SRC)

# The UDP parser alone: only the wire layer.
$(BUILD)/fuzz/fuzz_udp: tests/fuzz/fuzz_udp.c $(wildcard src/wire/*.c) $(HDRS)
	@mkdir -p $(dir $@)
	clang $(CSTD) $(INC) -g -O1 -fsanitize=fuzzer,address,undefined -o $@ tests/fuzz/fuzz_udp.c $(wildcard src/wire/*.c)

# Reassembly of both families through a whole stack (fuzz_reasm.c).
$(BUILD)/fuzz/fuzz_reasm: tests/fuzz/fuzz_reasm.c $(CORE_SRC) $(HDRS)
	@mkdir -p $(dir $@)
	clang $(CSTD) $(INC) -g -O1 -fsanitize=fuzzer,address,undefined -o $@ tests/fuzz/fuzz_reasm.c $(CORE_SRC)

# Steering (which stack of a group owns a frame): only the core.
$(BUILD)/fuzz/fuzz_steer: tests/fuzz/fuzz_steer.c $(CORE_SRC) $(HDRS)
	@mkdir -p $(dir $@)
	clang $(CSTD) $(INC) -g -O1 -fsanitize=fuzzer,address,undefined -o $@ tests/fuzz/fuzz_steer.c $(CORE_SRC)

# The API socket's JSON requests (synack netns --api-socket): tools code alone.
$(BUILD)/fuzz/fuzz_api_req: tests/fuzz/fuzz_api_req.c tools/synack/netns_api_req.c tools/synack/netns_api_req.h
	@mkdir -p $(dir $@)
	clang $(CSTD) -Itools/synack -g -O1 -fsanitize=fuzzer,address,undefined -o $@ tests/fuzz/fuzz_api_req.c tools/synack/netns_api_req.c

fuzz: $(BUILD)/fuzz/fuzz_api_req $(BUILD)/fuzz/fuzz_steer $(BUILD)/fuzz/fuzz_input $(BUILD)/fuzz/fuzz_ack $(BUILD)/fuzz/fuzz_ipv6 $(BUILD)/fuzz/fuzz_icmpv6 $(BUILD)/fuzz/fuzz_reasm $(BUILD)/fuzz/fuzz_udp

# Not part of `make test`: slow, and it reports rather than passes or fails.
# MUTATE_ONLY=text runs a subset (scripts/mutate.sh explains).
mutate:
	bash scripts/mutate.sh

deps-demo:
	@bash scripts/deps.sh demo

deps-test:
	@bash scripts/deps.sh test

install: lib $(BUILD)/synack $(BUILD)/libsynack-preload.so $(BUILD)/examples/echo_epoll $(BUILD)/examples/http_poll
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/bin
	install -m 644 $(BUILD)/libsynack.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libsynack.so $(DESTDIR)$(PREFIX)/lib/libsynack.so.0
	ln -sf libsynack.so.0 $(DESTDIR)$(PREFIX)/lib/libsynack.so
	install -m 644 include/synack.h $(DESTDIR)$(PREFIX)/include/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' synack.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/synack.pc
	install -m 755 $(BUILD)/synack $(DESTDIR)$(PREFIX)/bin/
	install -d $(DESTDIR)$(PREFIX)/lib/synack
	install -m 755 $(BUILD)/libsynack-preload.so $(DESTDIR)$(PREFIX)/lib/synack/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/lib/libsynack.a $(DESTDIR)$(PREFIX)/lib/libsynack.so* \
	      $(DESTDIR)$(PREFIX)/include/synack.h $(DESTDIR)$(PREFIX)/lib/pkgconfig/synack.pc \
	      $(DESTDIR)$(PREFIX)/bin/synack $(DESTDIR)$(PREFIX)/lib/synack/libsynack-preload.so
	-rmdir $(DESTDIR)$(PREFIX)/lib/synack 2>/dev/null

clean:
	rm -rf $(BUILD)
