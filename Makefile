# bpfprof build. Layout after libbpf-bootstrap's examples/c/Makefile:
# clang -target bpf objects -> bpftool skeletons -> the agent, with -MMD -MP
# header dependencies and quiet output unless V=1.

ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
BUILD := build
PREFIX ?= /usr/local
DESTDIR ?=

# make predefines CC (as cc), so `CC ?= gcc` would never apply; an explicit
# CC=... on the command line or in the environment still wins.
ifeq ($(origin CC),default)
CC := gcc
endif
CLANG ?= clang
BPFTOOL ?= bpftool
PKG_CONFIG ?= pkg-config

# pkg-config module -> the Debian package that ships it.
PKG_DEBS := libbpf=libbpf-dev libelf=libelf-dev libdw=libdw-dev zlib=zlib1g-dev \
	    libmicrohttpd=libmicrohttpd-dev json-c=libjson-c-dev
PKGS := $(foreach d,$(PKG_DEBS),$(firstword $(subst =, ,$(d))))
pkg_deb = $(lastword $(subst =, ,$(filter $(1)=%,$(PKG_DEBS))))
# A missing module stops the build naming its package (rather than empty
# flags turning into "bpf/libbpf.h: No such file" errors). Checked when the
# first C file is compiled, so `make deps`/`make run` can install it first.
PKG_CHECK = $(if $(shell command -v $(PKG_CONFIG)),,$(error bpfprof: $(PKG_CONFIG) not found: install the Debian package pkg-config (sudo make deps)))$(foreach p,$(PKGS),$(if $(shell $(PKG_CONFIG) --exists $(p) && echo y),,$(error bpfprof: pkg-config cannot find '$(p)': install the Debian package $(call pkg_deb,$(p)) (sudo make deps))))
# Expanded once, on first use.
PKG_CFLAGS = $(eval PKG_CFLAGS := $$(PKG_CHECK)$$(shell $$(PKG_CONFIG) --cflags $$(PKGS)))$(PKG_CFLAGS)
PKG_LIBS = $(eval PKG_LIBS := $$(PKG_CHECK)$$(shell $$(PKG_CONFIG) --libs $$(PKGS)))$(PKG_LIBS)

# -Werror only where we build to test (make test, CI: WERROR=1): a user's
# newer compiler with new warnings must still build `make run`.
WERROR ?= 0
ifeq ($(WERROR),1)
WERR := -Werror
endif
WARN := -Wall -Wextra $(WERR)
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 $(WARN) -Iinclude -Iuser -I$(BUILD) -D_GNU_SOURCE $(PKG_CFLAGS)
LDLIBS += $(PKG_LIBS) -liberty -lstdc++ -lpthread -lcapstone -lm
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Iinclude -Ivmlinux/$(ARCH) -Wall $(WERR)

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

BPF_SRCS := $(wildcard bpf/*.bpf.c)
SKELS := $(patsubst bpf/%.bpf.c,$(BUILD)/%.skel.h,$(BPF_SRCS))
# SKIP="user/http ..." leaves folders out while they are being written.
# user/heapsampler is a separate library (block at the end), not the agent.
USER_SRCS := $(filter-out user/heapsampler/% $(addsuffix /%,$(SKIP)),$(wildcard user/*.c user/*/*.c))
LIB_SRCS := $(filter-out user/main.c,$(USER_SRCS))
USER_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(USER_SRCS))
LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRCS))
ASAN_OBJS := $(patsubst %.c,$(BUILD)/asan/%.o,$(USER_SRCS))
ASAN_LIB_OBJS := $(patsubst %.c,$(BUILD)/asan/%.o,$(LIB_SRCS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRCS))

# Workloads: frame pointers kept so the frame-pointer walk reaches main.
WL_CFLAGS := -O2 -g -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -Wall -Wextra $(WERR)
WL_C := $(wildcard tests/workloads/*.c)
WL_CXX := $(wildcard tests/workloads/*.cc)
WL_H := $(wildcard tests/workloads/*.h)
WL_BINS := $(patsubst tests/workloads/%.c,$(BUILD)/workloads/%,$(WL_C)) \
	   $(patsubst tests/workloads/%.cc,$(BUILD)/workloads/%,$(WL_CXX))

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all deps test-deps run test unit integration bench install uninstall clean format check-root

all: $(BUILD)/bpfprof $(BUILD)/asan/bpfprof $(UNIT_BINS) workloads

FORCE:

# Everything compiled depends on this stamp, rewritten only when the compiler
# or -Werror changes, so `make test` recompiles what `make` built without it.
FLAGS_STAMP := $(BUILD)/.flags
$(FLAGS_STAMP): FORCE | $(BUILD)
	$(Q)echo '$(CC) $(CLANG) $(WERR)' | cmp -s - $@ || echo '$(CC) $(CLANG) $(WERR)' >$@

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(wildcard include/*.h bpf/*.bpf.h) $(FLAGS_STAMP) | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(BUILD)/user/%.o: user/%.c $(FLAGS_STAMP) | $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/asan/user/%.o: user/%.c $(FLAGS_STAMP) | $(SKELS)
	$(call msg,CC-ASAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN) -MMD -MP -c $< -o $@

$(BUILD)/bpfprof: $(USER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/asan/bpfprof: $(ASAN_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN) $^ $(LDLIBS) -o $@

$(BUILD)/tests/unit/%: tests/unit/%.c $(ASAN_LIB_OBJS) $(FLAGS_STAMP)
	$(call msg,CC-TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN) -MMD -MP $< $(ASAN_LIB_OBJS) $(LDLIBS) -lcmocka -o $@

workloads: $(WL_BINS)

$(BUILD)/workloads/%: tests/workloads/%.c $(WL_H) $(FLAGS_STAMP)
	$(call msg,CC-WL,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(WL_CFLAGS) $< -o $@ -lpthread -ldl -lm

# The static heap workload: malloc defined inside the executable.
$(BUILD)/workloads/heap_static: tests/workloads/heap_static.c tests/workloads/heap_work.c $(WL_H) $(FLAGS_STAMP)
	$(call msg,CC-WL,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(WL_CFLAGS) -static $< -o $@

# No symbol table at all: pprof must ask /debug/pprof/symbol about it.
$(BUILD)/workloads/unsym_work: tests/workloads/unsym_work.c $(WL_H) $(FLAGS_STAMP)
	$(call msg,CC-WL,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(WL_CFLAGS) -s $< -o $@ -lpthread

$(BUILD)/workloads/%: tests/workloads/%.cc $(WL_H) $(FLAGS_STAMP)
	$(call msg,CXX-WL,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) $(WL_CFLAGS) $< -o $@ -lpthread

$(BUILD):
	$(Q)mkdir -p $(BUILD)

# Install what is missing (Debian packages; root): deps for building and
# running, test-deps adds the tools the tests and benchmarks use.
deps: check-root
	$(Q)tools/install-deps.sh

test-deps: check-root
	$(Q)tools/install-test-deps.sh

check-root:
	$(Q)if [ "$$(id -u)" != 0 ]; then \
		echo "bpfprof: must run as root to install packages and load BPF programs: try 'sudo make $(MAKECMDGOALS)'" >&2; \
		exit 1; fi

# The main job: the daemon in the foreground (Ctrl-C stops it).
run: deps
	$(Q)$(MAKE) --no-print-directory $(BUILD)/bpfprof
	$(BUILD)/bpfprof serve $(RUN_ARGS)

test: test-deps
	$(Q)$(MAKE) --no-print-directory WERROR=1 all
	$(Q)tests/run.sh

unit: all
	$(Q)tests/run.sh unit

integration: all
	$(Q)tests/run.sh integration

bench: test-deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/bench/run.sh

UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc

install: $(BUILD)/bpfprof
	install -D -m 0755 $(BUILD)/bpfprof $(DESTDIR)$(PREFIX)/bin/bpfprof
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|@BINDIR@|$(PREFIX)/bin|' tools/bpfprof.service > $(DESTDIR)$(UNITDIR)/bpfprof.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/bpfprof.service
	test -e $(DESTDIR)$(SYSCONFDIR)/bpfprof.conf || \
		install -D -m 0644 tools/bpfprof.conf $(DESTDIR)$(SYSCONFDIR)/bpfprof.conf
	install -D -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/bpfprof/README.md

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/bpfprof $(DESTDIR)$(UNITDIR)/bpfprof.service
	rm -rf $(DESTDIR)$(PREFIX)/share/doc/bpfprof

format:
	clang-format -i $(USER_SRCS) $(wildcard user/*/*.h include/*.h bpf/*.c tests/unit/*.c)

clean:
	rm -rf $(BUILD)

# --- libbpfprof-heap.so: the in-process heap sampler (user/heapsampler) ------
# Preloaded into a profiled process: no sanitizers, hidden visibility except
# the interposed functions, the hooks and the shared state; initial-exec TLS
# for the countdown; -fexceptions so a throwing operator new unparks it;
# -z nodelete so dlclose never unmaps code other objects bound to.
HS_LIB := $(BUILD)/libbpfprof-heap.so
HS_SRCS := $(wildcard user/heapsampler/*.c)
HS_CFLAGS := -std=gnu11 -O2 -g -fPIC -fvisibility=hidden -ftls-model=initial-exec \
	     -fno-omit-frame-pointer -fexceptions -fcf-protection=none -fno-builtin \
	     $(WARN) -Iuser -D_GNU_SOURCE
HS_LDFLAGS := -shared -Wl,-z,nodelete -Wl,-z,now -Wl,--no-undefined
# Test programs run with LD_PRELOAD (tests/integration/test_heapsampler.sh):
# -fno-builtin so the compiler keeps every malloc/free pair the test makes.
HS_TEST_CFLAGS := -O1 -g -fno-builtin -Wall -Wextra -Werror -Iuser -D_GNU_SOURCE
HS_TESTS := $(patsubst tests/heapsampler/%.c,$(BUILD)/tests/heapsampler/%,$(wildcard tests/heapsampler/hs_*.c)) \
	    $(patsubst tests/heapsampler/%.cc,$(BUILD)/tests/heapsampler/%,$(wildcard tests/heapsampler/hs_*.cc)) \
	    $(BUILD)/tests/heapsampler/libhs_bumpalloc.so $(BUILD)/tests/heapsampler/hs_work_static \
	    $(BUILD)/tests/bench/heapsampler_bench
JEMALLOC_SO ?= /usr/lib/x86_64-linux-gnu/libjemalloc.so.2

.PHONY: heapsampler heapsampler-check install-heapsampler uninstall-heapsampler
all: heapsampler
heapsampler: $(HS_LIB) $(HS_TESTS)

$(HS_LIB): $(HS_SRCS) $(wildcard user/heapsampler/*.h)
	$(call msg,LD-SO,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(HS_CFLAGS) $(HS_LDFLAGS) $(HS_SRCS) -o $@ -lm -ldl

# The set's unit test needs only the set, not the agent's objects.
$(BUILD)/tests/unit/test_heapsampler_set: tests/unit/test_heapsampler_set.c user/heapsampler/hs_set.c
	$(call msg,CC-TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN) -MMD -MP $^ -lcmocka -lpthread -o $@

$(BUILD)/tests/heapsampler/hs_jemalloc: tests/heapsampler/hs_jemalloc.c tests/heapsampler/hs_test.h
	$(call msg,CC-HS,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(HS_TEST_CFLAGS) $< -o $@ $(JEMALLOC_SO) -lpthread -ldl

$(BUILD)/tests/heapsampler/%: tests/heapsampler/%.c tests/heapsampler/hs_test.h
	$(call msg,CC-HS,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(HS_TEST_CFLAGS) $< -o $@ -lpthread -ldl -lm

$(BUILD)/tests/heapsampler/%: tests/heapsampler/%.cc tests/heapsampler/hs_test.h
	$(call msg,CXX-HS,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) $(HS_TEST_CFLAGS) $< -o $@ -lpthread -ldl

# A static program: --heap-mode preload refuses it, auto falls back to uprobes.
$(BUILD)/tests/heapsampler/hs_work_static: tests/heapsampler/hs_work.c
	$(call msg,CC-HS,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(HS_TEST_CFLAGS) -static $< -o $@

# An async-signal-safe bump allocator loaded after the sampler in the signal test.
$(BUILD)/tests/heapsampler/libhs_bumpalloc.so: tests/heapsampler/bumpalloc.c
	$(call msg,LD-SO,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(HS_TEST_CFLAGS) -O2 -fPIC -shared $< -o $@

$(BUILD)/tests/bench/heapsampler_bench: tests/bench/heapsampler_bench.c
	$(call msg,CC-BENCH,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(HS_TEST_CFLAGS) -O2 $< -o $@

heapsampler-check: heapsampler
	$(Q)bash tests/integration/test_heapsampler.sh

install: install-heapsampler
uninstall: uninstall-heapsampler
install-heapsampler: $(HS_LIB)
	install -D -m 0755 $(HS_LIB) $(DESTDIR)$(PREFIX)/lib/bpfprof/libbpfprof-heap.so
uninstall-heapsampler:
	rm -rf $(DESTDIR)$(PREFIX)/lib/bpfprof
# --- end of libbpfprof-heap.so ------------------------------------------------

-include $(USER_OBJS:.o=.d) $(ASAN_OBJS:.o=.d) $(UNIT_BINS:=.d)

# ---- fuzzing: tests/fuzz/ (libFuzzer; clang + libclang-rt-14-dev) ----------
# The library objects are rebuilt with clang, coverage and ASan/UBSan into
# build/fuzz/ (apart from the gcc build) and archived, so each harness links
# only what it reaches. `make fuzz FUZZ_SECONDS=N` fuzzes every harness N s;
# tests/fuzz/run.sh documents its modes (make test uses `check`).
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS := -O1 -g -std=gnu11 -Wall -Wextra -Iinclude -Iuser -Itests/fuzz -I$(BUILD) \
	       -D_GNU_SOURCE $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null) $(FUZZ_SAN)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
FUZZ_OBJS := $(patsubst %.c,$(BUILD)/fuzz/%.o,$(LIB_SRCS))
FUZZ_LIB := $(BUILD)/fuzz/libbpfprof-fuzz.a

.PHONY: fuzz fuzz-build

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	$(Q)tests/fuzz/run.sh fuzz $(FUZZ_SECONDS)

$(BUILD)/fuzz/user/%.o: user/%.c | $(SKELS)
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(FUZZ_LIB): $(FUZZ_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB)
	$(call msg,CC-FUZZ,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -MMD -MP $< $(FUZZ_LIB) $(LDLIBS) -o $@

-include $(FUZZ_OBJS:.o=.d) $(FUZZ_BINS:=.d)
# ---- end of fuzzing --------------------------------------------------------
