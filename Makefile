# smtp.h - build, test, demo.
#   make          build every C file under examples/ and tests/ (the fuzz
#                 targets: compiled, make fuzz links them with libFuzzer)
#   make test     everything: warnings matrix, unit tests and integration
#                 tests against real servers, under ASan + UBSan; s390x, i386
#                 and musl -static (tests/ports/run.sh, PORTS_QUICK=1)
#   make demo     start a local SMTP server, send a message, show what it got
#   make deps     install the Debian packages the tests and demo need
#   make stress   1 GB through smtp_data_write to a discarding sink
#   make test-loaded  make test beside stress-ng --cpu 2 (calm on a busy machine)
#   make fuzz     every libFuzzer target for FUZZ_SECONDS (60)
#   make bench    smtp.h vs smtp-source, curl, smtplib on loopback (tests/bench/results.md)
#   make metrics  session size, function lengths, stack frames and measured stack (notes)
#   make ports    unit tests and sends on s390x, powerpc, armhf, i386 (qemu-user),
#                 musl -static, tcc, mingw-w64 + wine (tests/ports/README.md)
#   make clean

CC      ?= cc
B       := tests/.build
RUN     := tests/.run
PY      := /usr/bin/python3
WARN    := -std=c99 -Wall -Wextra -pedantic -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wconversion
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
CFLAGS  ?= -O2 -g
LDLIBS  := -lbearssl
# make test builds and checks on every core unless make was given -j itself
NPROC   := $(shell nproc 2>/dev/null || echo 2)
PAR      = $(if $(filter -j%,$(MAKEFLAGS)),,-j$(NPROC))

# ---- what `make` builds: every C file under examples/ and tests/ --------
# (a file added there is built, and checked by check-warnings, without
# touching this Makefile; a private smtp__ name a test uses and the header
# no longer has breaks `make` at once). Not here: tests/ports/*.c, Windows
# programs that make ports builds with mingw-w64.
EX_SRCS    := $(wildcard examples/*.c)
TEST_SRCS  := $(wildcard tests/*.c)
UNIT_SRCS  := $(wildcard tests/unit/*.c)
PEER_SRCS  := $(wildcard tests/peers/*.c)
BENCH_SRCS := $(wildcard tests/bench/*.c)
FUZZ_SRCS  := $(wildcard tests/fuzz/fuzz_*.c)
TOOL_SRCS  := $(wildcard tests/tools/*.c)
SM_SRCS    := $(wildcard tests/sendmail/*.c)
OTHER_SRCS := tests/interop/matrix.c

# examples/NAME.c -> $(B)/ex-NAME; the scripts and the README know four by
# their own names: hello, transcript, smtp-send, tls-example (examples/tls.c:
# $(B)/tls is the TLS test)
EX_NAMED := hello transcript smtp-send
EXAMPLES := $(EX_NAMED:%=$(B)/%) $(B)/tls-example \
            $(patsubst examples/%.c,$(B)/ex-%,$(filter-out $(EX_NAMED:%=examples/%.c) examples/tls.c,$(EX_SRCS)))
# tests/NAME.c -> $(B)/NAME; tests/unit/*.c -> $(B)/unit, unit-notls, unit-vg, unit-small;
# tests/peers/NAME.c -> $(B)/NAME; tests/bench/NAME.c -> $(B)/bench/NAME
TESTS    := $(patsubst tests/%.c,$(B)/%,$(TEST_SRCS)) $(B)/unit $(B)/unit-notls $(B)/unit-vg $(B)/unit-small $(B)/unit-stepped \
            $(patsubst tests/peers/%.c,$(B)/%,$(PEER_SRCS)) $(B)/interop-matrix
BENCH    := $(B)/bench
BENCH_BINS := $(patsubst tests/bench/%.c,$(BENCH)/%,$(BENCH_SRCS))
TOOLS    := $(patsubst tests/tools/%.c,$(B)/tools/%,$(TOOL_SRCS)) $(patsubst tests/sendmail/%.c,$(B)/sendmail/%,$(SM_SRCS))
# libFuzzer targets need clang's runtime (make fuzz); make checks that they compile
FUZZ_OK  := $(patsubst tests/fuzz/%.c,$(B)/fuzz-syntax/%.ok,$(FUZZ_SRCS))

DEB_PACKAGES := gcc g++ make clang libclang-rt-14-dev libbearssl-dev postfix sasl2-bin \
  libsasl2-modules python3 python3-aiosmtpd python3-twisted dante-server tinyproxy openssl \
  curl ca-certificates valgrind msmtp swaks libnet-ssleay-perl libio-socket-inet6-perl iproute2 procps
# smtp-send as sendmail for real programs (tests/sendmail/run.sh)
DEB_PACKAGES += mutt neomutt s-nail bsd-mailx git-email libmailtools-perl php-cli time man-db
# issue 16: Dovecot's LMTP server, a private instance (tests/peers/dovecot_lmtp.sh)
DEB_PACKAGES += dovecot-core dovecot-lmtpd
# issue 15: the Windows build in make test (mingw-w64, wine; dpkg-dev for BearSSL's source)
DEB_PACKAGES += gcc-mingw-w64-x86-64 mingw-w64-x86-64-dev wine wine64 dpkg-dev xz-utils
# issue 15: make test's ports step (tests/ports/run.sh, PORTS_QUICK=1): big-endian and 32-bit, musl -static
DEB_PACKAGES += qemu-user gcc-s390x-linux-gnu libc6-dev-s390x-cross gcc-i686-linux-gnu libc6-dev-i386-cross musl-tools

.PHONY: all test demo deps clean check-warnings unit integration stress

all: $(EXAMPLES) $(TESTS) $(BENCH_BINS) $(TOOLS) $(FUZZ_OK)

$(B):
	@mkdir -p $(B)

# ---- examples: the strict warning set, as a user would build them
# smtp-send uses smtp_settings_get / smtp_rcpt_to_opts when this smtp.h has them
SEND_DEFS := $(shell grep -q 'SMTP_API.*smtp_settings_get' smtp.h && echo -DSMTP_SEND_HAVE_SETTINGS_GET=1) \
             $(shell grep -q 'SMTP_API.*smtp_rcpt_to_opts' smtp.h && echo -DSMTP_SEND_HAVE_RCPT_TO_OPTS=1)
$(B)/smtp-send $(B)/smtp-send-release: EX_DEFS = $(SEND_DEFS)

$(B)/ex-%: examples/%.c smtp.h | $(B)
	$(CC) $(WARN) $(CFLAGS) $(EX_DEFS) -o $@ $< $(LDLIBS)

$(EX_NAMED:%=$(B)/%): $(B)/%: examples/%.c smtp.h | $(B)
	$(CC) $(WARN) $(CFLAGS) $(EX_DEFS) -o $@ $< $(LDLIBS)

$(B)/tls-example: examples/tls.c smtp.h | $(B)
	$(CC) $(WARN) $(CFLAGS) $(EX_DEFS) -o $@ $< $(LDLIBS)

# ---- tests: the same warning set, GNU memmem, smtp__ internals; ASan + UBSan
# unless a target says otherwise below
TEST_CFLAGS := $(WARN) -D_GNU_SOURCE -I. -g
TEST_OPT    := -O1
TEST_HDRS   := tests/test.h tests/fake.h tests/itest.h

$(patsubst tests/%.c,$(B)/%,$(TEST_SRCS)): $(B)/%: tests/%.c $(TEST_HDRS) smtp.h | $(B)
	$(CC) $(TEST_CFLAGS) $(TEST_OPT) $(SAN) $(TEST_DEFS) -o $@ $< $(LDLIBS)

# ThreadSanitizer: 8 threads x 200 messages, a session each, one shared trust store
$(B)/threads: SAN := -fsanitize=thread
$(B)/threads: LDLIBS += -lpthread
# make stress: optimised, no sanitizer
$(B)/stress: SAN :=
$(B)/stress: TEST_OPT := -O2
# issue 12: one regression test per finding of the security audit, each
# failing on v0.6.0; addresses and MIME judged by Python's email package
# (tests/security_parse.py); a BearSSL server and an HTTP proxy in child
# processes on 127.0.0.1:24750-24799
$(B)/security: tests/security_parse.py
$(B)/security: TEST_DEFS = -DSECURITY_PY='"$(PY)"'

# the unit tests: one file per section of smtp.h (tests/unit/*.c, each with
# its own static copy of the library: SMTP_STATIC), linked into three
# binaries: ASan + UBSan; the same without BearSSL (SMTP_NO_TLS: the API is
# the same, TLS is refused at run time); no sanitizer, for valgrind.
UNIT_HDRS := tests/unit/unit.h tests/test.h tests/fake.h
UNIT_FLAGS_unit       := $(SAN)
UNIT_FLAGS_unit-notls := $(SAN) -DSMTP_NO_TLS
UNIT_FLAGS_unit-vg    :=
UNIT_FLAGS_unit-small := $(SAN) -DSMTP_SMALL
UNIT_FLAGS_unit-stepped := $(SAN) -DUNIT_STEPPED
UNIT_LIBS_unit        := $(LDLIBS)
UNIT_LIBS_unit-small  := $(LDLIBS)
UNIT_LIBS_unit-stepped := $(LDLIBS)
UNIT_LIBS_unit-notls  :=
UNIT_LIBS_unit-vg     := $(LDLIBS)
define unit_binary
$(B)/$(1)-obj/%.o: tests/unit/%.c $(UNIT_HDRS) smtp.h
	@mkdir -p $$(@D)
	$$(CC) $$(TEST_CFLAGS) $$(TEST_OPT) $$(UNIT_FLAGS_$(1)) -c -o $$@ $$<
$(B)/$(1): $(patsubst tests/unit/%.c,$(B)/$(1)-obj/%.o,$(UNIT_SRCS))
	$$(CC) $$(UNIT_FLAGS_$(1)) -o $$@ $$^ $$(UNIT_LIBS_$(1))
endef
$(foreach u,unit unit-notls unit-vg unit-small unit-stepped,$(eval $(call unit_binary,$(u))))

# servers of our own: optimised, no sanitizer. tests/peers/evil_tls.c, a
# BearSSL server that sends any certificate chain as given (hostile chains
# of tests/peers/badcerts.sh through real handshakes: tests/certpolicy.c)
$(patsubst tests/peers/%.c,$(B)/%,$(PEER_SRCS)): $(B)/%: tests/peers/%.c | $(B)
	$(CC) $(WARN) -O2 -g -o $@ $< $(LDLIBS)

# the benchmark's programs (make bench); tls_sink is also the sink of make stress
$(BENCH)/%: tests/bench/%.c smtp.h
	@mkdir -p $(BENCH)
	$(CC) $(WARN) -O2 -g -o $@ $< $(LDLIBS)
# the smtp.h clients send the message of bench_msg.h; bench_parallel: 100 threads
$(BENCH)/bench_smtph $(BENCH)/bench_parallel: tests/bench/bench_msg.h
$(BENCH)/bench_parallel: LDLIBS += -lpthread

# the interoperability client (make interop)
$(B)/interop-matrix: tests/interop/matrix.c smtp.h | $(B)
	$(CC) $(TEST_CFLAGS) $(TEST_OPT) $(SAN) -o $@ $< $(LDLIBS)

# make metrics' programs (tests/tools/metrics.sh builds the one it measures
# itself, at -O2 and -O0)
$(B)/tools/%: tests/tools/%.c smtp.h
	@mkdir -p $(@D)
	$(CC) $(TEST_CFLAGS) -O2 -o $@ $< $(LDLIBS) -lpthread

# tests/sendmail/run.sh's helpers (it builds its own copy as well)
$(B)/sendmail/%: tests/sendmail/%.c smtp.h
	@mkdir -p $(@D)
	$(CC) $(WARN) -O2 -o $@ $< $(LDLIBS)

$(B)/fuzz-syntax/%.ok: tests/fuzz/%.c tests/fuzz/fuzz.h smtp.h
	@mkdir -p $(@D)
	$(CC) $(WARN) -D_GNU_SOURCE -Werror=implicit-function-declaration -fsyntax-only $< && touch $@

# The header alone: gcc and clang with every warning, as C++, SMTP_STATIC,
# with and without TLS; then every C file of examples/ and tests/ with the
# flags make gives it, with gcc and clang (the unit tests with and without
# TLS). Any warning fails.
check-warnings: | $(B)
	@printf '#define SMTP_IMPLEMENTATION\n#include "../../smtp.h"\nint main(void) { return 0; }\n' > $(B)/only.c
	@cp $(B)/only.c $(B)/only.cpp
	@echo "  gcc, clang: the header alone, as is and with -DSMTP_NO_TLS, -DSMTP_STATIC, -DSMTP_SMALL, both; g++, clang++ (C++)"
	@set -e; { for cc in gcc clang; do for f in "" -DSMTP_NO_TLS -DSMTP_STATIC -DSMTP_SMALL "-DSMTP_SMALL -DSMTP_NO_TLS"; do \
	  echo "$$cc $(WARN) -Werror $$f -c $(B)/only.c -o /dev/null"; done; done; \
	  for cxx in g++ clang++; do echo "$$cxx -std=c++11 -Wall -Wextra -pedantic -Werror -c $(B)/only.cpp -o /dev/null"; done; \
	  for cc in gcc clang; do \
	  for f in $(EX_SRCS) $(PEER_SRCS) $(BENCH_SRCS) $(SM_SRCS); do echo "$$cc $(WARN) -Werror $(SEND_DEFS) -fsyntax-only $$f"; done; \
	  for f in $(TEST_SRCS) $(UNIT_SRCS) $(FUZZ_SRCS) $(TOOL_SRCS) $(OTHER_SRCS); do echo "$$cc $(TEST_CFLAGS) -Werror -fsyntax-only $$f"; done; \
	  for f in $(UNIT_SRCS); do echo "$$cc $(TEST_CFLAGS) -DSMTP_NO_TLS -Werror -fsyntax-only $$f"; done; done; } | \
	  xargs -d '\n' -P $(NPROC) -I{} sh -c '{} || { echo "check-warnings: failed: {}" >&2; exit 255; }'
	@echo "  gcc, clang: $(words $(EX_SRCS) $(TEST_SRCS) $(UNIT_SRCS) $(PEER_SRCS) $(BENCH_SRCS) $(FUZZ_SRCS) $(TOOL_SRCS) $(SM_SRCS) $(OTHER_SRCS)) files of examples/ and tests/"
	@for cc in gcc clang; do { CC=$$cc bash tests/ports/featuremacros.sh > $(B)/featuremacros-$$cc.txt; \
	  echo $$? > $(B)/featuremacros-$$cc.rc; } & done; wait; \
	  for cc in gcc clang; do [ "$$(cat $(B)/featuremacros-$$cc.rc)" = 0 ] || { cat $(B)/featuremacros-$$cc.txt; exit 1; }; \
	  tail -1 $(B)/featuremacros-$$cc.txt | sed "s/^/  $$cc: /"; done
	@echo "check-warnings: clean"

unit: $(B)/unit $(B)/unit-notls $(B)/unit-small $(B)/unit-stepped
	$(B)/unit && $(B)/unit-notls && $(B)/unit-small && $(B)/unit-stepped

integration: $(B)/integration $(EXAMPLES)
	bash tests/run-integration.sh

# make test: make interop-fast's deps and the builds of the last steps
# (ports, the Windows build) start first, in the background
# (tests/prebuild.sh); the steps that need them wait for them. The fuzz
# runs keep one core busy and make interop-fast mostly waits on its
# servers: the two run side by side.
test: deps
	@UNIT_SRCS="$(UNIT_SRCS)" WARN="$(WARN)" bash tests/prebuild.sh start
	@$(MAKE) --no-print-directory check-warnings
	@echo "== building: make $(PAR) all"; $(MAKE) --no-print-directory $(PAR) --output-sync=target all
	@echo "== fuzz targets, 3 s each (make fuzz runs them longer); make interop-fast beside them (its output follows)"; \
	  bash tests/prebuild.sh wait interop; \
	  { $(MAKE) --no-print-directory interop-fast > $(B)/interop-fast.log 2>&1; echo $$? > $(B)/interop-fast.rc; } & \
	  $(MAKE) --no-print-directory $(PAR) fuzz-smoke; rc=$$?; wait; \
	  echo "== interoperability: the servers that broke on cross-message pipelining (make interop: all eight)"; \
	  cat $(B)/interop-fast.log; [ $$rc = 0 ] && [ "$$(cat $(B)/interop-fast.rc)" = 0 ]
	@echo "== unit tests"; rm -f $(B)/unit-blocking.tr; UNIT_TRANSCRIPT=$(B)/unit-blocking.tr $(B)/unit
	@echo "== unit tests, stepped (smtp_send_start + smtp_step; the peer stutters): the bytes sent equal the blocking run's"; \
	  rm -f $(B)/unit-stepped.tr; UNIT_TRANSCRIPT=$(B)/unit-stepped.tr $(B)/unit-stepped && \
	  bash tests/unit/transcripts.sh $(B)/unit-blocking.tr $(B)/unit-stepped.tr
	@echo "== unit tests, built with SMTP_NO_TLS"; $(B)/unit-notls
	@echo "== unit tests, built with SMTP_SMALL (the embedded profile)"; $(B)/unit-small
	@echo "== no file system, no name resolution (SMTP_NO_STDIO, SMTP_NO_GETADDRINFO)"; $(B)/noplatform
	@echo "== security regressions (issue 12)"; $(B)/security
	@echo "== unit tests under valgrind memcheck (no sanitizers)"; \
	  valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
	    $(B)/unit-vg > $(B)/unit-vg.log 2>&1 || { cat $(B)/unit-vg.log; exit 1; }; tail -2 $(B)/unit-vg.log
	@echo "== integration tests (real servers on loopback)"; bash tests/run-integration.sh
	@echo "== ports (issue 15): unit tests and a cleartext send on s390x, i386 (qemu-user, SMTP_NO_TLS); musl -static, every send"; \
	  bash tests/prebuild.sh wait ports; \
	  PORTS_QUICK=1 UNIT_SRCS="$(UNIT_SRCS)" WARN="$(WARN)" bash tests/ports/run.sh s390x i386 musl
	@echo "== Windows: mingw-w64 builds under wine, unit tests and sends to aiosmtpd (tests/ports/README.md)"; \
	  UNIT_SRCS="$(UNIT_SRCS)" WARN="$(WARN)" bash tests/ports/run.sh mingw

# make stress: 1 GB (STRESS_MB) through smtp_data_write to our discarding sink; optimised build
stress: deps $(B)/stress $(B)/bench/tls_sink
	@bash -c 'RUNDIR=tests/.run; mkdir -p $$RUNDIR; source tests/servers.sh; trap servers_stop EXIT; \
	  start_sink 24561 && SINK_PORT=24561 $(B)/stress'

# make test-loaded: make test while stress-ng keeps both CPUs busy (issue 12:
# tests must be calm on a busy machine). stress-ng stops when make test ends
# (or after LOAD_SECONDS, 3600, whichever comes first).
DEB_PACKAGES += stress-ng
LOAD_SECONDS ?= 3600
.PHONY: test-loaded
test-loaded: deps
	@bash -c 'stress-ng --cpu 2 --timeout $(LOAD_SECONDS)s --quiet & sp=$$!; \
	  trap "kill $$sp 2>/dev/null; wait $$sp 2>/dev/null" EXIT; t0=$$(date +%s); \
	  echo "== make test beside stress-ng --cpu 2 (pid $$sp)"; \
	  $(MAKE) --no-print-directory test; rc=$$?; \
	  echo "== make test beside stress-ng --cpu 2: exit $$rc after $$(( $$(date +%s) - t0 )) s"; exit $$rc'

demo: deps $(B)/transcript
	@bash tests/demo.sh

deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  echo "postfix postfix/main_mailer_type select No configuration" | $$SUDO debconf-set-selections; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

clean:
	rm -rf $(B) $(RUN)

# ---- fuzzing: libFuzzer targets in tests/fuzz/ (clang, libclang-rt-14-dev).
#   make fuzz              each target FUZZ_SECONDS (60), one after the other
#   make fuzz-smoke        the same, 3 s each
# Seeds: tests/fuzz/corpus/<target>/ (copied, never grown); crashes once
# found: tests/fuzz/regress/<target>-* (replayed first); summary at the end.
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_TARGETS := reply ehlo proxy b64 url config writer session compose inherit sasl x509
FZ           := $(B)/fuzz

.PHONY: fuzz fuzz-smoke

# SMTP_STATIC: only the functions a target reaches are compiled (the fuzzed
# code is the same; the twelve targets build in a fifth of the time)
$(FZ)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h smtp.h
	@mkdir -p $(FZ)
	$(FUZZ_CC) -g -O1 -D_GNU_SOURCE -DSMTP_STATIC -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -o $@ $< $(LDLIBS)

fuzz: $(FUZZ_TARGETS:%=$(FZ)/fuzz_%)
	@bash tests/fuzz/run.sh $(FZ) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=3

# ---- benchmark: tests/bench/ (run.sh starts and stops its sinks, writes
# tests/bench/results.md). Optimised, no sanitizers.
.PHONY: bench

bench: deps
	@$(MAKE) --no-print-directory $(BENCH_BINS)
	@bash tests/bench/run.sh

# ---- interoperability: eight real servers (tests/interop/README.md).
#   make interop        every server, one table (under 15 minutes)
#   make interop-fast   Dovecot submission, Haraka, chasquid only
# Both exit non-zero when any cell fails. interop-deps installs what
# make deps does not: packages beside Postfix, unpacked .debs and npm
# packages under tests/interop/.cache, and the servers' run-as users.
.PHONY: interop interop-fast interop-deps

interop-deps: deps
	@bash tests/interop/deps.sh

interop: interop-deps $(B)/interop-matrix
	@bash tests/interop/run.sh

interop-fast: interop-deps $(B)/interop-matrix
	@bash tests/interop/run.sh dovecot haraka chasquid

# ---- install: make install [PREFIX=/usr/local] [DESTDIR=...]; make uninstall
#   $(PREFIX)/include/smtp.h, bin/smtp-send, share/man/man1/smtp-send.1,
#   lib/pkgconfig/smtp.pc. As the system's sendmail: see smtp-send(1), USE AS SENDMAIL.
PREFIX  ?= /usr/local
DESTDIR ?=
.PHONY: install uninstall

$(B)/smtp-send-release: examples/smtp-send.c smtp.h | $(B)
	$(CC) $(WARN) -O2 $(EX_DEFS) -o $@ $< $(LDLIBS)

$(B)/smtp.pc: smtp.h | $(B)
	@printf 'prefix=%s\nincludedir=$${prefix}/include\n\nName: smtp.h\nDescription: a blocking SMTP client in one header (BearSSL TLS)\nVersion: %s\nCflags: -I$${includedir}\nLibs: -lbearssl\n' \
	  '$(PREFIX)' "$$(sed -n 's/^#define SMTP_VERSION_STRING "\(.*\)"/\1/p' smtp.h)" > $@

install: $(B)/smtp-send-release $(B)/smtp.pc
	install -d $(DESTDIR)$(PREFIX)/include $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 smtp.h $(DESTDIR)$(PREFIX)/include/smtp.h
	install -m 755 $(B)/smtp-send-release $(DESTDIR)$(PREFIX)/bin/smtp-send
	install -m 644 examples/smtp-send.1 $(DESTDIR)$(PREFIX)/share/man/man1/smtp-send.1
	install -m 644 $(B)/smtp.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/smtp.pc

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/include/smtp.h $(DESTDIR)$(PREFIX)/bin/smtp-send \
	  $(DESTDIR)$(PREFIX)/share/man/man1/smtp-send.1 $(DESTDIR)$(PREFIX)/lib/pkgconfig/smtp.pc

# ---- metrics (issue 14): smtp_session's members and size, function
# lengths, duplicates, stack frames, the static worst path and the stack
# measured under smtp_open and smtp_send (tests/tools/metrics.sh). For
# notes, not part of make test; needs what make deps installs.
.PHONY: metrics
metrics:
	@bash tests/tools/metrics.sh

# ---- ports (issue 15): the unit tests, examples/hello.c and examples/tls.c
# cross-built for s390x and powerpc (big-endian), armhf and i386 (32-bit),
# run under qemu-user; musl-gcc -static; tcc -b; mingw-w64 under wine. Each
# sends cleartext, STARTTLS and implicit TLS to aiosmtpd on loopback.
# BearSSL per platform from Debian's bearssl source, cached in
# tests/ports/.cache. One table at the end (tests/ports/README.md).
#   make ports [PORTS="s390x musl"] [PORTS_XFAIL="mingw"]
# The unit tests are built from UNIT_SRCS (tests/unit/*.c, all compiled
# into one binary).
PORTS     ?=
.PHONY: ports ports-deps

ports-deps:
	@bash tests/ports/deps.sh

ports: ports-deps
	@UNIT_SRCS="$(UNIT_SRCS)" WARN="$(WARN)" bash tests/ports/run.sh $(PORTS)
