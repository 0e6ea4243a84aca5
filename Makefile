# libuffd — plain GNU Make.
#   make                 build/libuffd.a, build/libuffd.so, build/uffd, build/libuffd-preload.so
#   make test            build and run the suite (make tests: only build it)
#   make asan test       the same under AddressSanitizer (also ubsan, tsan), in build-<san>/
#   make stress          the stress programs for DURATION seconds each (default 60)
#   make bench           a short run of `uffd bench` (both backends, every scenario)
#   make install PREFIX=/usr/local   (make uninstall PREFIX=... removes it)
#   V=1                  show every command (quiet by default)
CC      ?= cc
PREFIX  ?= /usr/local
VERSION := 0.2.0
SOVER   := 0
SAN     :=
BUILD   := build

ifneq ($(filter asan,$(MAKECMDGOALS)),)
SAN := address
BUILD := build-asan
endif
ifneq ($(filter ubsan,$(MAKECMDGOALS)),)
SAN := undefined
BUILD := build-ubsan
endif
ifneq ($(filter tsan,$(MAKECMDGOALS)),)
SAN := thread
BUILD := build-tsan
endif

CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Werror
ALLCFLAGS := -std=gnu11 $(WARN) $(CFLAGS) -fPIC -pthread -Iinclude -D_GNU_SOURCE
LDLIBS  := -pthread
ifneq ($(SAN),)
ALLCFLAGS += -fsanitize=$(SAN) -fno-omit-frame-pointer
ifeq ($(SAN),undefined)
ALLCFLAGS += -fno-sanitize-recover=all
endif
LDFLAGS += -fsanitize=$(SAN)
endif

LIB_SRC   := $(wildcard src/*.c src/kernel/*.c src/user/*.c src/pager/*.c)
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
TOOL_SRC  := $(wildcard tools/*.c bench/*.c)
TOOL_OBJ  := $(TOOL_SRC:%.c=$(BUILD)/obj/%.o)
TLIB_SRC  := $(wildcard test/lib/*.c)
TLIB_OBJ  := $(TLIB_SRC:%.c=$(BUILD)/obj/%.o)
TEST_SRC  := $(wildcard test/*.c)
TEST_BIN  := $(TEST_SRC:test/%.c=$(BUILD)/test/%)
# C++ programs under test/ (the public headers must compile as C++).
CXX_TEST_SRC := $(wildcard test/*.cc)
TEST_BIN  += $(CXX_TEST_SRC:test/%.cc=$(BUILD)/test/%)
# The LD_PRELOAD shim and the unmodified programs the tests run under it are
# built with the sanitizer too under ASan and UBSan: `uffd run` of such a
# build preloads the sanitizer's runtime ahead of the shim (SHIM_RUNTIME), so
# that programs built without it run under the shim as well.  Under TSan they
# stay plain: its runtime cannot be preloaded into a program built without it.
PRELOAD_SRC := $(LIB_SRC) $(wildcard src/preload/*.c)
SHIM_SAN := $(filter address undefined,$(SAN))
SHIM_RUNTIME := $(if $(SHIM_SAN),$(realpath $(shell $(CC) -print-file-name=$(if $(filter address,$(SAN)),libasan.so,libubsan.so))))
PLAIN_OBJ := $(if $(SAN),$(if $(SHIM_SAN),obj,obj-plain),obj)
PRELOAD_OBJ := $(PRELOAD_SRC:%.c=$(BUILD)/$(PLAIN_OBJ)/%.o)
PROG_SRC  := $(wildcard test/prog/*.c)
PROG_BIN  := $(PROG_SRC:test/prog/%.c=$(BUILD)/prog/%)
PLAINCFLAGS := -std=gnu11 $(WARN) $(CFLAGS) -fPIC -pthread -Iinclude -D_GNU_SOURCE
EXAMPLE_SRC := $(wildcard examples/*.c)
EXAMPLE_BIN := $(EXAMPLE_SRC:examples/%.c=$(BUILD)/examples/%)
HEADERS   := $(wildcard include/*.h include/uffd/*.h src/*.h src/*/*.h test/lib/*.h tools/*.h bench/*.h)

# Quiet by default (one short line per library or tool object; test
# programs build silently): V=1 shows every command.
ifeq ($(V),1)
Q :=
SAY := @:
else
Q := @
SAY := @printf '  %-6s %s\n'
endif

# The store library (src/store/: Redis and memcached page sources, memory images)
# is a separate libuffd-store, built only where hiredis and libmemcached are
# installed, so that libuffd itself never links them.  Without them: no
# libuffd-store, no `uffd image`, no store tests (make says so).
comma := ,
STORE_PKGS := hiredis libmemcached
STORE      := $(shell pkg-config --exists $(STORE_PKGS) 2>/dev/null && echo 1)
STORE_SRC  := $(wildcard src/store/*.c)
STORE_OBJ  := $(STORE_SRC:%.c=$(BUILD)/obj/%.o)
STORE_TOOL := $(wildcard tools/image*.c)
STORE_TEST := $(wildcard test/store-*.c)
STORE_BENCH := $(wildcard bench/store/*.c)
STORE_BENCH_BIN := $(STORE_BENCH:bench/store/%.c=$(BUILD)/bench/store-%)
STORE_TLIB := $(wildcard test/lib/store/*.c)
STORE_TLIB_OBJ := $(STORE_TLIB:%.c=$(BUILD)/obj/%.o)
ifeq ($(STORE),1)
STORE_CFLAGS := $(shell pkg-config --cflags $(STORE_PKGS))
STORE_LIBS   := $(shell pkg-config --libs $(STORE_PKGS))
STORE_LIB    := $(BUILD)/libuffd-store.a
$(BUILD)/obj/src/store/%.o $(BUILD)/obj/tools/%.o $(BUILD)/obj/test/lib/store/%.o: ALLCFLAGS += $(STORE_CFLAGS) -DUFFD_HAVE_STORE -Isrc/store -Itest/lib
else
TOOL_SRC := $(filter-out $(STORE_TOOL),$(TOOL_SRC))
TOOL_OBJ := $(TOOL_SRC:%.c=$(BUILD)/obj/%.o)
TEST_BIN := $(filter-out $(STORE_TEST:test/%.c=$(BUILD)/test/%),$(TEST_BIN))
STORE_BENCH_BIN :=
$(info libuffd: hiredis or libmemcached not found (pkg-config $(STORE_PKGS)): building without libuffd-store, `uffd image` and the store tests)
endif

all: $(BUILD)/libuffd.a $(BUILD)/libuffd.so $(BUILD)/uffd $(BUILD)/libuffd-preload.so $(EXAMPLE_BIN) \
	$(if $(STORE),$(BUILD)/libuffd-store.so) $(if $(SAN),,$(BUILD)/uffd-shim)

$(BUILD)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(if $(filter test/%,$<),,$(SAY) CC $<)
	$(Q)$(CC) $(ALLCFLAGS) -c -o $@ $<

# The static library exports what the shared one does (src/libuffd.map):
# its objects linked into one (ld -r), every other global made local.
LIB_API := $(shell sed -n 's/^[[:space:]]*\(uffd_[a-z0-9_]*\);/\1/p' src/libuffd.map)

$(BUILD)/libuffd.a: $(LIB_OBJ) src/libuffd.map
	@rm -f $@
	$(SAY) AR $@
	$(Q)$(CC) -r -nostdlib -o $(BUILD)/libuffd-all.o $(LIB_OBJ)
	$(Q)objcopy $(LIB_API:%=--keep-global-symbol=%) $(BUILD)/libuffd-all.o
	$(Q)ar rcs $@ $(BUILD)/libuffd-all.o

$(BUILD)/libuffd.so: $(LIB_OBJ) src/libuffd.map
	$(SAY) LD $@
	$(Q)$(CC) -shared -Wl,-soname,libuffd.so.$(SOVER) -Wl,--version-script=src/libuffd.map \
		$(LDFLAGS) -o $(BUILD)/libuffd.so.$(VERSION) $(LIB_OBJ) $(LDLIBS)
	$(Q)ln -sf libuffd.so.$(VERSION) $(BUILD)/libuffd.so.$(SOVER)
	$(Q)ln -sf libuffd.so.$(VERSION) $@

$(BUILD)/obj-plain/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(SAY) CC $< "(preload)"
	$(Q)$(CC) $(PLAINCFLAGS) -c -o $@ $<

$(BUILD)/libuffd-preload.so: $(PRELOAD_OBJ) src/preload/preload.map
	$(SAY) LD $@
	$(Q)$(CC) -shared -Wl,--version-script=src/preload/preload.map $(if $(SHIM_SAN),$(LDFLAGS)) \
		-o $@ $(PRELOAD_OBJ) -pthread -ldl

# Programs written as real userfaultfd clients (only <linux/userfaultfd.h>).
$(BUILD)/prog/%: test/prog/%.c test/lib/passfd_io.h test/lib/prog.h
	@mkdir -p $(dir $@)
	$(Q)$(CC) -std=gnu11 $(WARN) $(CFLAGS) $(if $(SHIM_SAN),$(filter -fsanitize% -fno-%,$(ALLCFLAGS))) \
		-pthread -o $@ $< -pthread

$(BUILD)/libuffd-store.a: $(STORE_OBJ)
	@rm -f $@
	$(SAY) AR $@
	$(Q)ar rcs $@ $^

$(BUILD)/libuffd-store.so: $(STORE_OBJ) $(BUILD)/libuffd.so src/store/libuffd-store.map
	$(SAY) LD $@
	$(Q)$(CC) -shared -Wl,-soname,libuffd-store.so.$(SOVER) -Wl,--version-script=src/store/libuffd-store.map \
		$(LDFLAGS) -o $(BUILD)/libuffd-store.so.$(VERSION) $(STORE_OBJ) -L$(BUILD) -luffd $(STORE_LIBS) $(LDLIBS)
	$(Q)ln -sf libuffd-store.so.$(VERSION) $(BUILD)/libuffd-store.so.$(SOVER)
	$(Q)ln -sf libuffd-store.so.$(VERSION) $@

$(BUILD)/uffd: $(TOOL_OBJ) $(STORE_LIB) $(BUILD)/libuffd.a
	$(SAY) LD $@
	$(Q)$(CC) $(LDFLAGS) $(if $(STORE),-Wl$(comma)-u$(comma)uffd_source_store) -o $@ $(TOOL_OBJ) $(STORE_LIB) $(BUILD)/libuffd.a $(STORE_LIBS) $(LDLIBS)

# The same command linked with libuffd-preload.so instead of libuffd.a: a
# program under the shim, so `uffd-shim bench` measures the user backend as
# programs run by `uffd run` get it (src/user/pcache.c).  Not installed.
$(BUILD)/uffd-shim: $(TOOL_OBJ) $(STORE_LIB) $(BUILD)/libuffd-preload.so
	$(SAY) LD $@
	$(Q)$(CC) $(LDFLAGS) $(if $(STORE),-Wl$(comma)-u$(comma)uffd_source_store) -o $@ $(TOOL_OBJ) $(STORE_LIB) \
		-L$(BUILD) -l:libuffd-preload.so -Wl,-rpath,'$$ORIGIN' $(STORE_LIBS) $(LDLIBS)

# Store tests link libuffd-store and its client libraries (static pattern
# rules: explicit, so never confused with the generic test rule).
$(STORE_TLIB_OBJ): $(BUILD)/obj/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALLCFLAGS) -c -o $@ $<

$(STORE_BENCH_BIN): $(BUILD)/bench/store-%: bench/store/%.c $(TLIB_OBJ) $(STORE_TLIB_OBJ) $(STORE_LIB) $(BUILD)/libuffd.a $(HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(ALLCFLAGS) $(STORE_CFLAGS) -Itest/lib -Itest/lib/store -Isrc/store $(LDFLAGS) -o $@ $< \
		$(TLIB_OBJ) $(STORE_TLIB_OBJ) $(STORE_LIB) $(BUILD)/libuffd.a $(STORE_LIBS) $(LDLIBS)

$(STORE_TEST:test/%.c=$(BUILD)/test/%): $(BUILD)/test/%: test/%.c $(TLIB_OBJ) $(STORE_TLIB_OBJ) $(STORE_LIB) $(BUILD)/libuffd.a $(HEADERS)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALLCFLAGS) $(STORE_CFLAGS) -Itest/lib -Itest/lib/store -Isrc/store $(LDFLAGS) -Wl,-u,uffd_source_store -o $@ $< \
		$(TLIB_OBJ) $(STORE_TLIB_OBJ) \
		$(STORE_LIB) $(BUILD)/libuffd.a $(STORE_LIBS) $(LDLIBS)

$(BUILD)/test/%: test/%.c $(TLIB_OBJ) $(BUILD)/libuffd.a $(HEADERS)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALLCFLAGS) -Itest/lib $(LDFLAGS) -o $@ $< $(TLIB_OBJ) $(BUILD)/libuffd.a $(LDLIBS)

$(BUILD)/test/%: test/%.cc $(TLIB_OBJ) $(BUILD)/libuffd.a $(HEADERS)
	@mkdir -p $(dir $@)
	$(Q)$(CXX) $(filter-out -std=gnu11,$(ALLCFLAGS)) -std=gnu++17 -Itest/lib $(LDFLAGS) -o $@ $< \
		$(TLIB_OBJ) $(BUILD)/libuffd.a $(LDLIBS)

# The examples, built as a user would: the public headers and the library.
$(BUILD)/examples/%: examples/%.c $(BUILD)/libuffd.a $(HEADERS)
	@mkdir -p $(dir $@)
	$(SAY) CC $<
	$(Q)$(CC) $(ALLCFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libuffd.a $(LDLIBS)

# `uffd --version`
$(BUILD)/obj/tools/uffd.o: ALLCFLAGS += -DLIBUFFD_VERSION='"$(VERSION)"'
# `uffd run` of a sanitizer build: the runtime goes ahead of the shim.
$(BUILD)/obj/tools/run.o: ALLCFLAGS += $(if $(SHIM_RUNTIME),-DSHIM_RUNTIME='"$(SHIM_RUNTIME)"')

# The user backend owns SIGSEGV: AddressSanitizer must let it.
TEST_ENV := ASAN_OPTIONS=handle_segv=0:allow_user_segv_handler=1:detect_leaks=0 \
	UBSAN_OPTIONS=print_stacktrace=1 \
	TSAN_OPTIONS=report_signal_unsafe=0:handle_segv=0:handle_sigbus=0:die_after_fork=0:suppressions=$(CURDIR)/test/tsan.supp

tests: all $(TEST_BIN) $(PROG_BIN) $(STORE_BENCH_BIN)

test: all $(TEST_BIN) $(PROG_BIN)
	@$(TEST_ENV) test/run.sh $(BUILD)/test

# make stress DURATION=seconds: the stress programs, each area that long on
# each backend (the counters on stderr); make test runs them for 2 s.
DURATION ?= 60
STRESS_BIN := $(filter $(BUILD)/test/stress-%,$(TEST_BIN))
stress: all $(STRESS_BIN)
	@for t in $(STRESS_BIN); do \
		$(TEST_ENV) STRESS_SECONDS=$(DURATION) T_TIME_LIMIT=$$(($(DURATION) * 2 + 120)) \
			$$t || exit 1; done

# make fuzz: the differential fuzzer under libFuzzer (clang and its runtime:
# Debian's clang, libclang-rt-14-dev), with ASan; not part of CI.
FUZZ_CC ?= clang
build-fuzz/uffd-fuzz: fuzz/uffd-fuzz.c test/lib/fuzz.c $(LIB_SRC) $(HEADERS)
	@mkdir -p build-fuzz
	$(FUZZ_CC) -std=gnu11 -O1 -g -pthread -Iinclude -Itest/lib -D_GNU_SOURCE \
		-fsanitize=fuzzer,address -o $@ fuzz/uffd-fuzz.c test/lib/fuzz.c $(LIB_SRC)
fuzz: build-fuzz/uffd-fuzz

# A short run of every scenario (uffd bench --quick); see `build/uffd bench --help`.
bench: all
	$(BUILD)/uffd bench --quick
	$(BUILD)/uffd-shim bench --quick

# Restoring 1 GiB from loopback Redis and memcached (bench/store/restore.c;
# starts its own servers; about a minute).
bench-store: all $(STORE_BENCH_BIN)
	$(if $(STORE),$(STORE_BENCH_BIN),@echo "bench-store: built without libuffd-store")

asan ubsan tsan:
	@:

install: all
	install -d $(DESTDIR)$(PREFIX)/include/uffd $(DESTDIR)$(PREFIX)/lib/pkgconfig \
		$(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man3
	install -m 644 include/uffd.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 include/uffd/*.h $(DESTDIR)$(PREFIX)/include/uffd/
	install -m 644 $(BUILD)/libuffd.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libuffd.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libuffd.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libuffd.so.$(SOVER)
	ln -sf libuffd.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libuffd.so
	install -m 755 $(BUILD)/libuffd-preload.so $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/uffd $(DESTDIR)$(PREFIX)/bin/
	$(if $(STORE),install -m 644 $(BUILD)/libuffd-store.a $(DESTDIR)$(PREFIX)/lib/)
	$(if $(STORE),install -m 755 $(BUILD)/libuffd-store.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/)
	$(if $(STORE),ln -sf libuffd-store.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libuffd-store.so.$(SOVER))
	$(if $(STORE),ln -sf libuffd-store.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libuffd-store.so)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' libuffd.pc.in \
		> $(DESTDIR)$(PREFIX)/lib/pkgconfig/libuffd.pc
	$(if $(wildcard man/*.1),install -m 644 $(wildcard man/*.1) $(DESTDIR)$(PREFIX)/share/man/man1/)
	$(if $(wildcard man/*.3),install -m 644 $(wildcard man/*.3) $(DESTDIR)$(PREFIX)/share/man/man3/)

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/include/uffd.h \
		$(addprefix $(DESTDIR)$(PREFIX)/include/uffd/,$(notdir $(wildcard include/uffd/*.h)))
	-rmdir $(DESTDIR)$(PREFIX)/include/uffd 2>/dev/null
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/lib/,libuffd.a libuffd.so libuffd.so.$(SOVER) \
		libuffd.so.$(VERSION) libuffd-preload.so libuffd-store.a libuffd-store.so \
		libuffd-store.so.$(SOVER) libuffd-store.so.$(VERSION) pkgconfig/libuffd.pc)
	rm -f $(DESTDIR)$(PREFIX)/bin/uffd
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/share/man/man1/,$(notdir $(wildcard man/*.1))) \
		$(addprefix $(DESTDIR)$(PREFIX)/share/man/man3/,$(notdir $(wildcard man/*.3)))

clean:
	rm -rf build build-asan build-ubsan build-tsan build-fuzz

.PHONY: all tests test stress fuzz bench bench-store install uninstall clean asan ubsan tsan
.SECONDARY:
