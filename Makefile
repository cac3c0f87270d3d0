# smtp.h - build, test, demo.
#   make          build the examples and the tests
#   make test     everything: warnings matrix, unit tests and integration
#                 tests against real servers, under ASan + UBSan
#   make demo     start a local SMTP server, send a message, show what it got
#   make deps     install the Debian packages the tests and demo need
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

EXAMPLES := $(B)/hello $(B)/transcript $(B)/tls-example $(B)/smtp-send
TESTS    := $(B)/unit $(B)/unit-notls $(B)/integration $(B)/tls $(B)/auth $(B)/proxy

DEB_PACKAGES := gcc g++ make clang libclang-rt-14-dev libbearssl-dev postfix sasl2-bin \
  libsasl2-modules python3 python3-aiosmtpd python3-twisted dante-server tinyproxy openssl \
  curl ca-certificates valgrind msmtp swaks libnet-ssleay-perl libio-socket-inet6-perl iproute2 procps

.PHONY: all test demo deps clean check-warnings unit integration

all: $(EXAMPLES) $(TESTS)

$(B):
	@mkdir -p $(B)

$(B)/hello: examples/hello.c smtp.h | $(B)
	$(CC) $(WARN) $(CFLAGS) -o $@ examples/hello.c $(LDLIBS)

$(B)/transcript: examples/transcript.c smtp.h | $(B)
	$(CC) $(WARN) $(CFLAGS) -o $@ examples/transcript.c $(LDLIBS)

$(B)/smtp-send: examples/smtp-send.c smtp.h | $(B)
	$(CC) $(WARN) $(CFLAGS) -o $@ examples/smtp-send.c $(LDLIBS)

$(B)/tls-example: examples/tls.c smtp.h | $(B)
	$(CC) $(WARN) $(CFLAGS) -o $@ examples/tls.c $(LDLIBS)

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

$(B)/proxy: tests/proxy.c tests/test.h tests/itest.h smtp.h | $(B)
	$(CC) -std=c99 -D_GNU_SOURCE -Wall -Wextra -g -O1 $(SAN) -o $@ tests/proxy.c $(LDLIBS)

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
	@echo "== unit tests"; $(B)/unit
	@echo "== unit tests, built with SMTP_NO_TLS"; $(B)/unit-notls
	@echo "== integration tests (real servers on loopback)"; bash tests/run-integration.sh

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
