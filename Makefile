# bpfprof build. Layout after libbpf-bootstrap's examples/c/Makefile:
# clang -target bpf objects -> bpftool skeletons -> the agent, with -MMD -MP
# header dependencies and quiet output unless V=1.

ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')
BUILD := build
PREFIX ?= /usr/local
DESTDIR ?=

CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
PKG_CONFIG ?= pkg-config

PKGS := libbpf libelf libdw zlib libmicrohttpd json-c
WARN := -Wall -Wextra -Werror
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 $(WARN) -Iinclude -Iuser -I$(BUILD) -D_GNU_SOURCE \
	  $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
LDLIBS += $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) -liberty -lstdc++ -lpthread -lcapstone -lm
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Iinclude -Ivmlinux/$(ARCH) -Wall -Werror

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
USER_SRCS := $(filter-out $(addsuffix /%,$(SKIP)),$(wildcard user/*.c user/*/*.c))
LIB_SRCS := $(filter-out user/main.c,$(USER_SRCS))
USER_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(USER_SRCS))
LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRCS))
ASAN_OBJS := $(patsubst %.c,$(BUILD)/asan/%.o,$(USER_SRCS))
ASAN_LIB_OBJS := $(patsubst %.c,$(BUILD)/asan/%.o,$(LIB_SRCS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRCS))

# Workloads: frame pointers kept so the frame-pointer walk reaches main.
WL_CFLAGS := -O2 -g -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -Wall -Wextra -Werror
WL_C := $(wildcard tests/workloads/*.c)
WL_CXX := $(wildcard tests/workloads/*.cc)
WL_BINS := $(patsubst tests/workloads/%.c,$(BUILD)/workloads/%,$(WL_C)) \
	   $(patsubst tests/workloads/%.cc,$(BUILD)/workloads/%,$(WL_CXX))

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all deps run test unit integration bench install uninstall clean format check-root

all: $(BUILD)/bpfprof $(BUILD)/asan/bpfprof $(UNIT_BINS) workloads

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(wildcard include/*.h bpf/*.bpf.h) | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(BUILD)/user/%.o: user/%.c | $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/asan/user/%.o: user/%.c | $(SKELS)
	$(call msg,CC-ASAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN) -MMD -MP -c $< -o $@

$(BUILD)/bpfprof: $(USER_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/asan/bpfprof: $(ASAN_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN) $^ $(LDLIBS) -o $@

$(BUILD)/tests/unit/%: tests/unit/%.c $(ASAN_LIB_OBJS)
	$(call msg,CC-TEST,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SAN) -MMD -MP $< $(ASAN_LIB_OBJS) $(LDLIBS) -lcmocka -o $@

workloads: $(WL_BINS)

$(BUILD)/workloads/%: tests/workloads/%.c
	$(call msg,CC-WL,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(WL_CFLAGS) $< -o $@ -lpthread -ldl -lm

# The static heap workload: malloc defined inside the executable.
$(BUILD)/workloads/heap_static: tests/workloads/heap_static.c tests/workloads/heap_work.c
	$(call msg,CC-WL,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(WL_CFLAGS) -static $< -o $@

$(BUILD)/workloads/%: tests/workloads/%.cc
	$(call msg,CXX-WL,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) $(WL_CFLAGS) $< -o $@ -lpthread

$(BUILD):
	$(Q)mkdir -p $(BUILD)

# Installs what is missing (Debian), then builds. Needs root: apt-get and BPF.
deps: check-root
	$(Q)tools/install-deps.sh

check-root:
	$(Q)if [ "$$(id -u)" != 0 ]; then \
		echo "bpfprof: must run as root to install packages and load BPF programs: try 'sudo make $(MAKECMDGOALS)'" >&2; \
		exit 1; fi

# The main job: the daemon in the foreground (Ctrl-C stops it).
run: deps
	$(Q)$(MAKE) --no-print-directory $(BUILD)/bpfprof
	$(BUILD)/bpfprof serve $(RUN_ARGS)

test: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/run.sh

unit: all
	$(Q)tests/run.sh unit

integration: all
	$(Q)tests/run.sh integration

bench: deps
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
