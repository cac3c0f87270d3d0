# smtp.h - build, test, demo.
#   make          build the examples and the tests
#   make test     everything: warnings matrix, unit tests and integration
#                 tests against real servers, under ASan + UBSan
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

EXAMPLES := $(B)/hello $(B)/transcript $(B)/tls-example $(B)/smtp-send \
            $(B)/ex-cleartext $(B)/ex-starttls $(B)/ex-implicit-tls $(B)/ex-auto $(B)/ex-socks5 $(B)/ex-http-proxy \
            $(B)/ex-cram-md5 $(B)/ex-tls-versions $(B)/ex-bind-address $(B)/ex-config-file $(B)/ex-stream-body
TESTS    := $(B)/unit $(B)/unit-notls $(B)/integration $(B)/tls $(B)/auth $(B)/proxy $(B)/alloc $(B)/mime $(B)/abuse \
            $(B)/bench/tls_sink $(B)/threads $(B)/unit-vg
TESTS    += $(B)/certpolicy $(B)/evil_tls
TESTS    += $(B)/security

DEB_PACKAGES := gcc g++ make clang libclang-rt-14-dev libbearssl-dev postfix sasl2-bin \
  libsasl2-modules python3 python3-aiosmtpd python3-twisted dante-server tinyproxy openssl \
  curl ca-certificates valgrind msmtp swaks libnet-ssleay-perl libio-socket-inet6-perl iproute2 procps
# smtp-send as sendmail for real programs (tests/sendmail/run.sh)
DEB_PACKAGES += mutt neomutt s-nail bsd-mailx git-email libmailtools-perl php-cli time man-db

.PHONY: all test demo deps clean check-warnings unit integration stress

all: $(EXAMPLES) $(TESTS)

$(B):
	@mkdir -p $(B)

$(B)/hello: examples/hello.c smtp.h | $(B)
	$(CC) $(WARN) $(CFLAGS) -o $@ examples/hello.c $(LDLIBS)

$(B)/transcript: examples/transcript.c smtp.h | $(B)
	$(CC) $(WARN) $(CFLAGS) -o $@ examples/transcript.c $(LDLIBS)

# smtp-send uses smtp_settings_get / smtp_rcpt_to_opts when this smtp.h has them
SEND_DEFS := $(shell grep -q 'SMTP_API.*smtp_settings_get' smtp.h && echo -DSMTP_SEND_HAVE_SETTINGS_GET=1) \
             $(shell grep -q 'SMTP_API.*smtp_rcpt_to_opts' smtp.h && echo -DSMTP_SEND_HAVE_RCPT_TO_OPTS=1)
$(B)/smtp-send: examples/smtp-send.c smtp.h | $(B)
	$(CC) $(WARN) $(CFLAGS) $(SEND_DEFS) -o $@ examples/smtp-send.c $(LDLIBS)

$(B)/tls-example: examples/tls.c smtp.h | $(B)
	$(CC) $(WARN) $(CFLAGS) -o $@ examples/tls.c $(LDLIBS)

$(B)/ex-cleartext: examples/cleartext.c smtp.h | $(B)
	$(CC) $(WARN) $(CFLAGS) -o $@ examples/cleartext.c $(LDLIBS)

$(B)/ex-starttls: examples/starttls.c smtp.h | $(B)
	$(CC) $(WARN) $(CFLAGS) -o $@ examples/starttls.c $(LDLIBS)

$(B)/ex-implicit-tls: examples/implicit-tls.c smtp.h | $(B)
	$(CC) $(WARN) $(CFLAGS) -o $@ examples/implicit-tls.c $(LDLIBS)

$(B)/ex-auto: examples/auto.c smtp.h | $(B)
	$(CC) $(WARN) $(CFLAGS) -o $@ examples/auto.c $(LDLIBS)

$(B)/ex-socks5: examples/socks5.c smtp.h | $(B)
	$(CC) $(WARN) $(CFLAGS) -o $@ examples/socks5.c $(LDLIBS)

$(B)/ex-http-proxy: examples/http-proxy.c smtp.h | $(B)
	$(CC) $(WARN) $(CFLAGS) -o $@ examples/http-proxy.c $(LDLIBS)

$(B)/ex-cram-md5: examples/cram-md5.c smtp.h | $(B)
	$(CC) $(WARN) $(CFLAGS) -o $@ examples/cram-md5.c $(LDLIBS)

$(B)/ex-tls-versions: examples/tls-versions.c smtp.h | $(B)
	$(CC) $(WARN) $(CFLAGS) -o $@ examples/tls-versions.c $(LDLIBS)

$(B)/ex-bind-address: examples/bind-address.c smtp.h | $(B)
	$(CC) $(WARN) $(CFLAGS) -o $@ examples/bind-address.c $(LDLIBS)

$(B)/ex-config-file: examples/config-file.c smtp.h | $(B)
	$(CC) $(WARN) $(CFLAGS) -o $@ examples/config-file.c $(LDLIBS)

$(B)/ex-stream-body: examples/stream-body.c smtp.h | $(B)
	$(CC) $(WARN) $(CFLAGS) -o $@ examples/stream-body.c $(LDLIBS)

# tests use GNU memmem and reach into smtp__ internals; ASan + UBSan always
$(B)/unit: tests/unit.c tests/test.h tests/fake.h smtp.h | $(B)
	$(CC) -std=c99 -D_GNU_SOURCE -Wall -Wextra -g -O1 $(SAN) -o $@ tests/unit.c $(LDLIBS)

# the same tests in a build without BearSSL: the API is the same, TLS is refused at run time
$(B)/unit-notls: tests/unit.c tests/test.h tests/fake.h smtp.h | $(B)
	$(CC) -std=c99 -D_GNU_SOURCE -Wall -Wextra -g -O1 $(SAN) -DSMTP_NO_TLS -o $@ tests/unit.c

$(B)/integration: tests/integration.c tests/test.h tests/itest.h smtp.h | $(B)
	$(CC) -std=c99 -D_GNU_SOURCE -Wall -Wextra -g -O1 $(SAN) -o $@ tests/integration.c $(LDLIBS)

$(B)/tls: tests/tls.c tests/test.h tests/itest.h smtp.h | $(B)
	$(CC) -std=c99 -D_GNU_SOURCE -Wall -Wextra -g -O1 $(SAN) -o $@ tests/tls.c $(LDLIBS)

$(B)/auth: tests/auth.c tests/test.h tests/itest.h smtp.h | $(B)
	$(CC) -std=c99 -D_GNU_SOURCE -Wall -Wextra -g -O1 $(SAN) -o $@ tests/auth.c $(LDLIBS)

# ThreadSanitizer: 8 threads x 200 messages, a session each, one shared trust store
$(B)/threads: tests/threads.c tests/test.h smtp.h | $(B)
	$(CC) -std=c99 -D_GNU_SOURCE -Wall -Wextra -g -O1 -fsanitize=thread -o $@ tests/threads.c $(LDLIBS) -lpthread

# for valgrind: no sanitizers
$(B)/unit-vg: tests/unit.c tests/test.h tests/fake.h smtp.h | $(B)
	$(CC) -std=c99 -D_GNU_SOURCE -Wall -Wextra -g -O1 -o $@ tests/unit.c $(LDLIBS)

$(B)/abuse: tests/abuse.c tests/test.h tests/itest.h smtp.h | $(B)
	$(CC) -std=c99 -D_GNU_SOURCE -Wall -Wextra -g -O1 $(SAN) -o $@ tests/abuse.c $(LDLIBS)

$(B)/mime: tests/mime.c tests/test.h tests/itest.h smtp.h | $(B)
	$(CC) -std=c99 -D_GNU_SOURCE -Wall -Wextra -g -O1 $(SAN) -o $@ tests/mime.c $(LDLIBS)

$(B)/alloc: tests/alloc.c tests/test.h tests/itest.h smtp.h | $(B)
	$(CC) -std=c99 -D_GNU_SOURCE -Wall -Wextra -g -O1 $(SAN) -o $@ tests/alloc.c $(LDLIBS)

$(B)/proxy: tests/proxy.c tests/test.h tests/itest.h smtp.h | $(B)
	$(CC) -std=c99 -D_GNU_SOURCE -Wall -Wextra -g -O1 $(SAN) -o $@ tests/proxy.c $(LDLIBS)

# hostile certificate chains (tests/peers/badcerts.sh) through real handshakes
# with tests/peers/evil_tls.c, a BearSSL server that sends any chain as given
$(B)/certpolicy: tests/certpolicy.c tests/test.h tests/itest.h smtp.h | $(B)
	$(CC) -std=c99 -D_GNU_SOURCE -Wall -Wextra -g -O1 $(SAN) -o $@ tests/certpolicy.c $(LDLIBS)

$(B)/evil_tls: tests/peers/evil_tls.c | $(B)
	$(CC) $(WARN) -O2 -g -o $@ tests/peers/evil_tls.c $(LDLIBS)

# issue 12: one regression test per finding of the security audit, each
# failing on v0.6.0; addresses and MIME judged by Python's email package
# (tests/security_parse.py); a BearSSL server and an HTTP proxy in child
# processes on 127.0.0.1:24750-24799
$(B)/security: tests/security.c tests/security_parse.py tests/test.h tests/fake.h smtp.h | $(B)
	$(CC) -std=c99 -D_GNU_SOURCE -Wall -Wextra -g -O1 $(SAN) -I. -DSECURITY_PY='"$(PY)"' -o $@ tests/security.c $(LDLIBS)

# The header alone: gcc and clang with every warning, as C++, SMTP_STATIC,
# with and without TLS. Any warning fails.
check-warnings: | $(B)
	@printf '#define SMTP_IMPLEMENTATION\n#include "../../smtp.h"\nint main(void) { return 0; }\n' > $(B)/only.c
	@cp $(B)/only.c $(B)/only.cpp
	@set -e; for cc in gcc clang; do for f in "" -DSMTP_NO_TLS -DSMTP_STATIC; do \
	  echo "  $$cc $$f"; $$cc $(WARN) -Werror $$f -c $(B)/only.c -o $(B)/only.o; done; done
	@set -e; for cxx in g++ clang++; do echo "  $$cxx (C++)"; \
	  $$cxx -std=c++11 -Wall -Wextra -pedantic -Werror -c $(B)/only.cpp -o $(B)/only.o; done
	@echo "check-warnings: clean"

unit: $(B)/unit $(B)/unit-notls
	$(B)/unit && $(B)/unit-notls

integration: $(B)/integration $(EXAMPLES)
	bash tests/run-integration.sh

test: deps check-warnings all
	@echo "== fuzz targets, 3 s each (make fuzz runs them longer)"; $(MAKE) --no-print-directory fuzz-smoke
	@echo "== unit tests"; $(B)/unit
	@echo "== unit tests, built with SMTP_NO_TLS"; $(B)/unit-notls
	@echo "== security regressions (issue 12)"; $(B)/security
	@echo "== unit tests under valgrind memcheck (no sanitizers)"; \
	  valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
	    $(B)/unit-vg > $(B)/unit-vg.log 2>&1 || { cat $(B)/unit-vg.log; exit 1; }; tail -1 $(B)/unit-vg.log
	@echo "== integration tests (real servers on loopback)"; bash tests/run-integration.sh
	@echo "== interoperability: the servers that broke on cross-message pipelining (make interop: all eight)"; \
	  $(MAKE) --no-print-directory interop-fast

# make stress: 1 GB (STRESS_MB) through smtp_data_write to our discarding sink; optimised build
$(B)/stress: tests/stress.c tests/test.h smtp.h | $(B)
	$(CC) -std=c99 -D_GNU_SOURCE -Wall -Wextra -O2 -g -o $@ tests/stress.c $(LDLIBS)

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

$(FZ)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h smtp.h
	@mkdir -p $(FZ)
	$(FUZZ_CC) -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -o $@ $< $(LDLIBS)

fuzz: $(FUZZ_TARGETS:%=$(FZ)/fuzz_%)
	@bash tests/fuzz/run.sh $(FZ) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=3

# ---- benchmark: tests/bench/ (run.sh starts and stops its sinks, writes
# tests/bench/results.md). Optimised, no sanitizers.
BENCH      := $(B)/bench
BENCH_BINS := $(BENCH)/bench_smtph $(BENCH)/tls_sink $(BENCH)/timeit

.PHONY: bench

$(BENCH)/bench_smtph: tests/bench/bench_smtph.c smtp.h
	@mkdir -p $(BENCH)
	$(CC) $(WARN) -O2 -g -o $@ tests/bench/bench_smtph.c $(LDLIBS)

$(BENCH)/tls_sink: tests/bench/tls_sink.c
	@mkdir -p $(BENCH)
	$(CC) $(WARN) -O2 -g -o $@ tests/bench/tls_sink.c $(LDLIBS)

$(BENCH)/timeit: tests/bench/timeit.c
	@mkdir -p $(BENCH)
	$(CC) $(WARN) -O2 -o $@ tests/bench/timeit.c

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

$(B)/interop-matrix: tests/interop/matrix.c smtp.h | $(B)
	$(CC) -std=c99 -D_GNU_SOURCE -Wall -Wextra -g -O1 $(SAN) -I. -o $@ tests/interop/matrix.c $(LDLIBS)

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
	$(CC) $(WARN) -O2 $(SEND_DEFS) -o $@ examples/smtp-send.c $(LDLIBS)

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
# The unit tests are built from UNIT_SRCS (all compiled into one binary).
UNIT_SRCS ?= tests/unit.c
PORTS     ?=
.PHONY: ports ports-deps

ports-deps:
	@bash tests/ports/deps.sh

ports: ports-deps
	@UNIT_SRCS="$(UNIT_SRCS)" WARN="$(WARN)" bash tests/ports/run.sh $(PORTS)
