/* unit.h - shared by the unit tests in tests/unit/: one file per section
   of smtp.h (the ">>name" banners), no sockets. Pure parts are called
   directly (smtp__ internals included); the session runs over the scripted
   in-memory peer of tests/fake.h.

   Each file is its own translation unit with its own static copy of the
   library (SMTP_STATIC: only what the file calls is compiled), its own
   session S and fake peer F, and ends with a function that runs its tests
   (unit_NAME, declared below); main.c runs them in the header's order and
   prints the totals. The Makefile links every file here into
   tests/.build/unit (ASan + UBSan), unit-notls (SMTP_NO_TLS) and unit-vg
   (for valgrind). A new file: add its unit_NAME here and to main.c. */
#ifndef SMTP_UNIT_H
#define SMTP_UNIT_H
#define SMTP_STATIC
#define SMTP_IMPLEMENTATION
#include "../../smtp.h"
#define TEST_SHARED
#include "../test.h"
/* unit-stepped (UNIT_STEPPED): every smtp_open, smtp_send and
   smtp_send_batch of the tests (and of fake.h) goes through
   smtp_open_start / smtp_send_start / smtp_send_batch_start and a loop of
   smtp_step, as an event loop would drive it; the fake peer stutters (each
   want is followed by the next step at once: its replies are already
   there, or come with the next write). Counts the wants seen. */
TEST_UNUSED static long unit_wants;
#ifdef UNIT_STEPPED
TEST_UNUSED static smtp_result unit_step_loop(smtp_session *s, smtp_result r)
{
    if (r != SMTP_OK) return r;
    while ((r = smtp_step(s)) == SMTP_WANT_READ || r == SMTP_WANT_WRITE) {
        unit_wants++;
        if (smtp_fd(s) != SMTP_INVALID_SOCKET || smtp_timeout_ms(s) < 0) return SMTP_ERR_STATE;   /* a transport: no fd; a deadline */
    }
    return r;
}
TEST_UNUSED static smtp_result unit_open(smtp_session *s, const smtp_config *cfg)
{
    return unit_step_loop(s, smtp_open_start(s, cfg));
}
TEST_UNUSED static smtp_result unit_send(smtp_session *s, const smtp_message *m)
{
    return unit_step_loop(s, smtp_send_start(s, m));
}
TEST_UNUSED static smtp_result unit_send_batch(smtp_session *s, const smtp_message *m, size_t n, smtp_result *res)
{
    return unit_step_loop(s, smtp_send_batch_start(s, m, n, res));
}
#define smtp_open unit_open
#define smtp_send unit_send
#define smtp_send_batch unit_send_batch
#endif
#include "../fake.h"

void unit_platform(void);
void unit_tls(void);
void unit_reader(void);
void unit_codec(void);
void unit_md5(void);
void unit_sasl(void);
void unit_writer(void);
void unit_proxy(void);
void unit_config(void);
void unit_session(void);

TEST_UNUSED static smtp_session S;



/* The trace of a session, one "C: " or "S: " line each (bodies left out). */
TEST_UNUSED static char trace_buf[4096];
TEST_UNUSED static void tracer(void *user, smtp_trace_dir d, const char *p, size_t n)
{
    size_t l = strlen(trace_buf);
    (void)user;
    if (d == SMTP_TRACE_BODY) return;
    snprintf(trace_buf + l, sizeof trace_buf - l, "%s%.*s\n", d == SMTP_TRACE_OUT ? "C: " : "S: ", (int)n, p);
}

/* Opens S over the fake peer answering EHLO with ehlo, traced into
   trace_buf, and sends text from mm (or an empty message; From
   alice@example.com unless mm gives one) to rcpt. */
TEST_UNUSED static smtp_result send_to(const char *ehlo, const char *rcpt, const char *text, smtp_message *mm)
{
    smtp_config cfg;
    static const char *to[2];
    smtp_message m;
    fake_reset();
    F.ehlo_reply = ehlo;
    trace_buf[0] = 0;
    memset(&cfg, 0, sizeof cfg);
    cfg.trace = tracer;
    if (fake_open(&S, &cfg) != SMTP_OK) return SMTP_ERR_STATE;
    to[0] = rcpt; to[1] = NULL;
    if (mm) m = *mm; else memset(&m, 0, sizeof m);
    m.from = m.from ? m.from : "alice@example.com"; m.to = to; m.text = text;
    return smtp_send(&S, &m);
}
#endif
