/* tls.c - unit tests of smtp.h's >>tls: the PEM reader. Handshakes are
   tested against real peers (tests/tls.c, tests/certpolicy.c); a build with
   SMTP_NO_TLS has no test here. */
#include "unit.h"

#ifndef SMTP_NO_TLS
static char pem_out[256], pem_names[256];
static size_t pem_len;
static int pem_ends;
static void pem_begin(void *c, const char *name) { (void)c; strcat(pem_names, name); strcat(pem_names, ";"); }
static void pem_data(void *c, const void *p, size_t n) { (void)c; memcpy(pem_out + pem_len, p, n); pem_len += n; }
static void pem_end(void *c) { (void)c; pem_ends++; }

static int pem_run(const char *text)
{
    smtp__pem_sink k;
    k.begin = pem_begin; k.data = pem_data; k.end = pem_end; k.ctx = NULL;
    pem_len = 0; pem_ends = 0; pem_names[0] = 0;
    return smtp__pem_each(text, strlen(text), &k);
}

TEST(pem_reader)
{
    CHECK_EQ_INT(pem_run("junk before\n-----BEGIN CERTIFICATE-----\r\nZm9v\nYmFy\r\n-----END CERTIFICATE-----\n"
                         "-----BEGIN PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nZm8=\n-----END PRIVATE KEY-----"), 0);
    CHECK_EQ_MEM(pem_out, pem_len, "foobarfo", 8);
    CHECK_EQ_STR(pem_names, "CERTIFICATE;PRIVATE KEY;");
    CHECK_EQ_INT(pem_ends, 2);
    CHECK_EQ_INT(pem_run("-----BEGIN CERTIFICATE-----\nZm9v\n"), -1);             /* no END */
    CHECK_EQ_INT(pem_run("-----BEGIN CERTIFICATE-----\nZm*v\n-----END CERTIFICATE-----\n"), -1);
    CHECK_EQ_INT(pem_run("-----BEGIN CERTIFICATE-----\nZm8=Zg\n-----END CERTIFICATE-----\n"), -1);
    CHECK_EQ_INT(pem_run("-----BEGIN CERTIFICATE-----\nZm9vY\n-----END CERTIFICATE-----\n"), -1);
    CHECK_EQ_INT(pem_run("no PEM at all"), 0);
    CHECK_EQ_INT(pem_ends, 0);
}
#endif

void unit_tls(void)
{
#ifndef SMTP_NO_TLS
    RUN(pem_reader);
#endif
}
