# safehouse — plain GNU make, non-recursive.  See README.md.
#   make            build build/safehouse
#   make test       install missing build deps, build, run every test
#   make demo       install missing build deps, build, run the main job on a demo workdir
#   make test-sanitize  ASan+UBSan build of the unit tests, run
#   make fuzz FUZZ_SECONDS=N   run each libFuzzer target for N seconds
#   make bench      benchmarks (ratios against baselines from the same run)
#   make timeline   where the start-up time goes (a -DSH_TIMING build, per step)
#   make install PREFIX=/usr/local
BUILD   ?= build
CC      ?= cc
PREFIX  ?= /usr/local
DESTDIR ?=
CFLAGS  ?= -O2 -g
VERSION := 0.1.0
FUZZ_SECONDS ?= 30

SH_CPPFLAGS := -D_GNU_SOURCE -DSH_VERSION='"$(VERSION)"' -Isrc -Itests
SH_CFLAGS := -std=gnu11 -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wimplicit-fallthrough -Wswitch-enum -Werror=switch-default \
	-Wno-missing-field-initializers -Werror=implicit-function-declaration \
	-Werror=format-security -Werror=return-type -Werror=incompatible-pointer-types \
	-fstack-protector-strong -MMD -MP
SH_LDLIBS := -Wl,-Bstatic -lseccomp -Wl,-Bdynamic
ifeq ($(WERROR),1)
SH_CFLAGS += -Werror
endif
ifeq ($(SANITIZE),1)
BUILD := build-sanitize
SH_CFLAGS += -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SH_LDFLAGS += -fsanitize=address,undefined
else
SH_CPPFLAGS += -D_FORTIFY_SOURCE=2
endif

# Linux-only enforcement code is excluded from the macOS build and the reverse.
ifeq ($(shell uname -s),Darwin)
SRC_EXCLUDE := $(wildcard src/enforce/*.c)
SH_LDLIBS :=
else
SRC_EXCLUDE := $(wildcard src/macos/*.c)
endif

CORE_SRC := $(filter-out src/main.c src/libc/replace.c $(SRC_EXCLUDE),$(sort $(wildcard src/*.c src/*/*.c)))
CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/profiles.o
UNIT_SRC := $(sort $(wildcard tests/unit/*.c)) tests/harness.c
UNIT_OBJ := $(UNIT_SRC:%.c=$(BUILD)/%.o)
PROFILES := $(sort $(shell find profiles -name '*.sb' 2>/dev/null))

all: $(BUILD)/safehouse $(BUILD)/unit-tests $(BUILD)/probe $(BUILD)/safehouse-testetc

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(SH_CPPFLAGS) $(CPPFLAGS) $(SH_CFLAGS) $(CFLAGS) -c $< -o $@

# Built-in profiles are embedded in the binary: an install is one file.
$(BUILD)/tools/embed: tools/embed.c
	@mkdir -p $(@D)
	$(CC) -O2 -std=gnu11 -Wall -Wextra $< -o $@
$(BUILD)/gen/profiles.c: $(BUILD)/tools/embed $(PROFILES)
	@mkdir -p $(@D)
	$(BUILD)/tools/embed profiles $(PROFILES) > $@.tmp && mv $@.tmp $@
$(BUILD)/gen/profiles.o: $(BUILD)/gen/profiles.c
	$(CC) $(SH_CPPFLAGS) $(CPPFLAGS) -std=gnu11 $(CFLAGS) -c $< -o $@

# ---- seccomp filter compiled at build time (tools/gen-seccomp.c; bench/) ----
# The BPF programs of src/enforce/seccomp.c, generated with the same static
# libseccomp, so no launch rebuilds them.  Linux only (enforce/ is excluded
# on macOS).
$(BUILD)/tools/gen-seccomp: tools/gen-seccomp.c src/enforce/seccomp.c src/util/err.c src/util/escape.c
	@mkdir -p $(@D)
	$(CC) $(SH_CPPFLAGS) -O2 -std=gnu11 -Wall -Wextra $< src/util/err.c src/util/escape.c $(SH_LDLIBS) -o $@
$(BUILD)/gen/seccomp_bpf.h: $(BUILD)/tools/gen-seccomp
	@mkdir -p $(@D)
	$(BUILD)/tools/gen-seccomp > $@.tmp && mv $@.tmp $@
$(BUILD)/src/enforce/seccomp.o: $(BUILD)/gen/seccomp_bpf.h
$(BUILD)/src/enforce/seccomp.o: SH_CPPFLAGS += -DSH_SECCOMP_PREBUILT -I$(BUILD)/gen
# ---- end seccomp ----

# ---- the shipped binaries: static, against musl, where musl-gcc is there ----
# glibc's start-up alone runs some sixty CPUID instructions, each a VM exit
# on a virtual machine (about half a millisecond per launch here); musl's
# runs none.  musl's allocator and short copies are slow for the launcher, so
# that build replaces them (src/libc).  tools/deps.sh installs musl-tools;
# STATIC=0 forces the dynamic glibc build.  The unit tests, the sanitizer
# and fuzz builds, and the test helpers stay on glibc.
MUSL_CC := $(shell command -v musl-gcc 2>/dev/null)
ifeq ($(SANITIZE),1)
STATIC := 0
endif
ifeq ($(shell uname -s),Darwin)
STATIC := 0
endif
STATIC ?= $(if $(MUSL_CC),1,0)
# mem.c and str.c must not have their loops turned back into calls to themselves
$(BUILD)/src/libc/mem.o $(BUILD)/static/src/libc/mem.o $(BUILD)/src/libc/str.o \
	$(BUILD)/static/src/libc/str.o: SH_CFLAGS += -fno-builtin -fno-tree-loop-distribute-patterns

ifeq ($(STATIC),1)
SOBJ := $(BUILD)/static
STATIC_OBJ := $(CORE_SRC:%.c=$(SOBJ)/%.o) $(SOBJ)/gen/profiles.o $(SOBJ)/src/libc/replace.o
# musl's headers plus the kernel's (linux/, asm/, asm-generic/) from the system
MULTIARCH := $(shell cc -print-multiarch 2>/dev/null)
ASM_DIR := $(firstword $(wildcard /usr/include/$(MULTIARCH)/asm /usr/include/asm))
$(SOBJ)/inc/.stamp:
	@test -n "$(ASM_DIR)" || { echo "no kernel headers (asm/) for the static build; install linux-libc-dev or use STATIC=0" >&2; exit 1; }
	@mkdir -p $(@D)
	ln -sfn /usr/include/linux $(@D)/linux
	ln -sfn /usr/include/asm-generic $(@D)/asm-generic
	ln -sfn $(ASM_DIR) $(@D)/asm
	@touch $@
$(SOBJ)/%.o: %.c $(SOBJ)/inc/.stamp
	@mkdir -p $(@D)
	$(MUSL_CC) $(SH_CPPFLAGS) -I$(SOBJ)/inc $(CPPFLAGS) $(SH_CFLAGS) $(CFLAGS) -c $< -o $@
$(SOBJ)/gen/profiles.o: $(BUILD)/gen/profiles.c $(SOBJ)/inc/.stamp
	@mkdir -p $(@D)
	$(MUSL_CC) $(SH_CPPFLAGS) $(CPPFLAGS) -std=gnu11 $(CFLAGS) -c $< -o $@
$(SOBJ)/src/enforce/seccomp.o: $(BUILD)/gen/seccomp_bpf.h
$(SOBJ)/src/enforce/seccomp.o: SH_CPPFLAGS += -DSH_SECCOMP_PREBUILT -I$(BUILD)/gen
$(SOBJ)/testetc/context.o: src/cli/context.c $(SOBJ)/inc/.stamp
	@mkdir -p $(@D)
	$(MUSL_CC) $(SH_CPPFLAGS) -I$(SOBJ)/inc $(CPPFLAGS) -DSH_SYSCONFDIR='"$(TESTETC)"' $(SH_CFLAGS) $(CFLAGS) -c $< -o $@
# Static and position-independent (ASLR for the launcher's own code), linked
# by hand: musl-gcc's specs know -static but not -static-pie.
MUSL_LIB := $(shell sed -n 's/.*-specs "\(.*\)\/musl-gcc.specs".*/\1/p' $(MUSL_CC) 2>/dev/null)
ifneq ($(wildcard $(MUSL_LIB)/rcrt1.o),)
STATIC_LINK = $(MUSL_CC) -nostartfiles -Wl,-static -Wl,-pie -Wl,--no-dynamic-linker -Wl,-z,text \
	$(LDFLAGS) $(MUSL_LIB)/rcrt1.o $(MUSL_LIB)/crti.o $(shell $(MUSL_CC) -print-file-name=crtbeginS.o) \
	$^ $(shell $(MUSL_CC) -print-file-name=crtendS.o) $(MUSL_LIB)/crtn.o -o $@
else
STATIC_LINK = $(MUSL_CC) -static $(LDFLAGS) $^ -o $@
endif
$(BUILD)/safehouse: $(SOBJ)/src/main.o $(STATIC_OBJ)
	$(STATIC_LINK)
$(BUILD)/safehouse-testetc: $(SOBJ)/src/main.o $(filter-out $(SOBJ)/src/cli/context.o,$(STATIC_OBJ)) $(SOBJ)/testetc/context.o
	$(STATIC_LINK)
-include $(STATIC_OBJ:.o=.d) $(SOBJ)/src/main.d $(SOBJ)/testetc/context.d
else
$(BUILD)/safehouse: $(BUILD)/src/main.o $(CORE_OBJ)
	$(CC) $(SH_LDFLAGS) $(LDFLAGS) $^ -o $@
$(BUILD)/safehouse-testetc: $(BUILD)/src/main.o $(filter-out $(BUILD)/src/cli/context.o,$(CORE_OBJ)) $(BUILD)/testetc/context.o
	$(CC) $(SH_LDFLAGS) $(LDFLAGS) $^ -o $@
endif

# A test build whose system config directory (normally /etc/safehouse) is a
# scratch directory, so tests of the config layers and of the administrator's
# requirements never touch the host's /etc.  Never installed.
TESTETC := /var/tmp/safehouse-test-etc
$(BUILD)/testetc/context.o: src/cli/context.c
	@mkdir -p $(@D)
	$(CC) $(SH_CPPFLAGS) $(CPPFLAGS) -DSH_SYSCONFDIR='"$(TESTETC)"' $(SH_CFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/unit-tests: $(UNIT_OBJ) $(CORE_OBJ)
	$(CC) $(SH_LDFLAGS) $(LDFLAGS) $^ $(SH_LDLIBS) -o $@

# The probe runs inside the sandbox under seccomp: never sanitized, static
# when possible so it needs nothing from the view.
$(BUILD)/probe: tests/probe.c
	@mkdir -p $(@D)
	$(CC) -D_GNU_SOURCE -O2 -std=gnu11 -Wall -Wextra -static $< -o $@ 2>/dev/null || \
		$(CC) -D_GNU_SOURCE -O2 -std=gnu11 -Wall -Wextra $< -o $@

# Test helper programs, one per tests/helpers/*.c (run outside the sandbox
# by the integration tests, e.g. deny-userns for the fallback tests).
HELPERS := $(patsubst tests/helpers/%.c,$(BUILD)/helpers/%,$(wildcard tests/helpers/*.c))
all: $(HELPERS)
$(BUILD)/helpers/%: tests/helpers/%.c
	@mkdir -p $(@D)
	$(CC) -D_GNU_SOURCE -O2 -std=gnu11 -Wall -Wextra $< -o $@

deps:
	@sh tools/deps.sh

test: deps
	@$(MAKE) --no-print-directory all
	@sh tests/run.sh $(BUILD)

check: test

test-sanitize: deps
	@$(MAKE) --no-print-directory SANITIZE=1 build-sanitize/unit-tests
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
		build-sanitize/unit-tests

demo: deps
	@$(MAKE) --no-print-directory $(BUILD)/safehouse $(BUILD)/probe
	@sh tools/demo.sh $(BUILD)

# ---- fuzzing (clang + libFuzzer) ----
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,%,$(filter-out tests/fuzz/replay.c,$(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all $(SH_CPPFLAGS) -std=gnu11
FUZZ_CORE := $(filter-out src/enforce/% src/cli/% src/macos/%,$(CORE_SRC))
build-fuzz/%: tests/fuzz/%.c $(FUZZ_CORE) $(BUILD)/gen/profiles.c
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) $< $(FUZZ_CORE) $(BUILD)/gen/profiles.c -o $@
fuzz: $(addprefix build-fuzz/,$(FUZZ_TARGETS))
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p build-fuzz/corpus-$$t; \
		seed=tests/fuzz/corpus/$${t#fuzz_}; [ -d $$seed ] || seed=; \
		echo "fuzz: $$t for $(FUZZ_SECONDS)s"; \
		build-fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -print_final_stats=0 \
			-artifact_prefix=build-fuzz/crash-$$t- build-fuzz/corpus-$$t $$seed \
			>build-fuzz/$$t.log 2>&1 || { tail -40 build-fuzz/$$t.log; exit 1; }; \
	done; echo "fuzz: no crashes"

bench: export SH_BENCH_DEPS := 1
bench: deps all
	@sh bench/run.sh $(BUILD)

install: $(BUILD)/safehouse
	install -D -m 0755 $(BUILD)/safehouse $(DESTDIR)$(PREFIX)/bin/safehouse
	install -D -m 0644 safehouse.1 $(DESTDIR)$(PREFIX)/share/man/man1/safehouse.1
	install -D -m 0644 completions/safehouse.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/safehouse
	install -D -m 0644 completions/_safehouse $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_safehouse
	install -D -m 0644 completions/safehouse.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/safehouse.fish

analyze: $(BUILD)/gen/seccomp_bpf.h
	cppcheck --enable=warning,portability --error-exitcode=1 --inline-suppr -Isrc src
	for f in $(CORE_SRC) src/main.c; do $(CC) $(SH_CPPFLAGS) -DSH_SECCOMP_PREBUILT -I$(BUILD)/gen \
		-std=gnu11 -fanalyzer -c $$f -o /dev/null || exit 1; done

clean:
	rm -rf build build-sanitize build-fuzz build-timing

timeline: all
	@sh bench/timeline.sh

.PHONY: all deps test check test-sanitize demo fuzz bench timeline install analyze clean
-include $(CORE_OBJ:.o=.d) $(UNIT_OBJ:.o=.d) $(BUILD)/src/main.d $(BUILD)/testetc/context.d
