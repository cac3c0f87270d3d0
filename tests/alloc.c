/* alloc.c - sending a message allocates nothing: SMTP_MALLOC counts every
   call, against the real TLS aiosmtpd started by tests/run-integration.sh
   (and the cleartext one), with the trust store loaded before counting. */
#include <stdlib.h>
static long mallocs, frees;
static void *count_malloc(size_t n) { mallocs++; return malloc(n); }
static void count_free(void *p) { if (p) frees++; free(p); }
#define SMTP_MALLOC(n) count_malloc(n)
#define SMTP_FREE(p) count_free(p)
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include "test.h"
#include "itest.h"

static smtp_result send_some(int count)
{
    static char text[50000];
    const char *to[] = { "bob@example.com", "carol@example.com", NULL };
    smtp_message m;
    smtp_rcpt_result res[2];
    int i;
    smtp_result r = SMTP_OK;
    memset(text, 'x', sizeof text - 1);
    for (i = 100; i < (int)sizeof text - 1; i += 100) text[i] = '\n';
    memset(&m, 0, sizeof m);
    m.from = "Älice <alice@example.com>"; m.to = to; m.subject = "Zähler: no allocation"; m.text = text;
    m.results = res; m.results_cap = 2;
    for (i = 0; i < count && r == SMTP_OK; i++) r = smtp_send(&S, &m);
    return r;
}

TEST(sending_allocates_nothing_cleartext)
{
    smtp_config cfg;
    cfg_plain(&cfg, AIO_PORT);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    mallocs = frees = 0;
    CHECK_EQ_INT(send_some(5), SMTP_OK);
    CHECK_EQ_INT(mallocs, 0);
    smtp_close(&S);
}

TEST(sending_allocates_nothing_over_tls)
{
    smtp_config cfg;
    smtp_trust *t = NULL;
    CHECK_EQ_INT(smtp_trust_load_file(&t, CA, NULL, 0), SMTP_OK);
    CHECK(mallocs > 0);                         /* loading a trust store does allocate, through SMTP_MALLOC */
    memset(&cfg, 0, sizeof cfg);
    cfg.host = "localhost"; cfg.port = AIOTLS_IMPL;
    cfg.security = SMTP_SECURITY_IMPLICIT; cfg.trust = t;
    mallocs = frees = 0;
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(mallocs, 0);                   /* with a shared trust store, not even smtp_open allocates */
    CHECK_EQ_INT(send_some(5), SMTP_OK);
    CHECK_EQ_INT(mallocs, 0);
    smtp_close(&S);
    mallocs = frees = 0;
    smtp_trust_free(t);
    CHECK(frees > 0);                           /* and it goes back through SMTP_FREE */
    /* a per-session store is loaded by smtp_open and freed by smtp_close, evenly */
    cfg.trust = NULL; cfg.ca_file = CA;
    mallocs = frees = 0;
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    smtp_close(&S);
    CHECK(mallocs > 0);
    CHECK_EQ_INT(mallocs, frees);
}

int main(void)
{
    itest_env();
    printf("  sizeof(smtp_session) = %zu bytes\n", sizeof(smtp_session));
    RUN(sending_allocates_nothing_cleartext);
    RUN(sending_allocates_nothing_over_tls);
    return TEST_END();
}
