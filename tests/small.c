/* small.c - issue 15, the embedded profile: smtp.h built with SMTP_SMALL
   (100 recipients a transaction, 2 KB read and write buffers, 1 KB AUTH
   payloads, 4 KB certificates, BearSSL's half-duplex record buffer) must
   keep sizeof(smtp_session) with TLS at most 40 KB and still do the job
   against real servers: cleartext, STARTTLS with a body many times its
   buffers, implicit TLS to Postfix, AUTH PLAIN, and a 1500-recipient
   message in transactions of 100. The platform hooks SMTP_ENTROPY and
   SMTP_TIME are given by the test. What arrived is read back from the
   servers. */
/* the platform hooks too, as a device without a system RNG or a clock
   would give them (declared here, defined below: smtp.h comes first) */
static void hook_entropy(unsigned char *buf, unsigned long len);
static long long hook_time(void);
#define SMTP_ENTROPY(buf, len) hook_entropy(buf, len)
#define SMTP_TIME() hook_time()
#define SMTP_SMALL
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include "test.h"
#include "itest.h"

static unsigned long hook_entropy_calls, hook_entropy_bytes;
static long long hook_clock;   /* 0: the system's */
static void hook_entropy(unsigned char *buf, unsigned long len)
{
    unsigned long i;
    hook_entropy_calls++; hook_entropy_bytes += len;
    for (i = 0; i < len; i++) buf[i] = (unsigned char)rand();   /* a test: any bytes do */
}
static long long hook_time(void) { return hook_clock ? hook_clock : (long long)time(NULL); }

static smtp_result send_to(const char *const *to, const char *text)
{
    smtp_message m;
    memset(&m, 0, sizeof m);
    m.from = "alice@example.com"; m.to = to; m.subject = "small"; m.text = text;
    return smtp_send(&S, &m);
}

static void cfg_at(smtp_config *c, int port, smtp_security mode, const char *ca)
{
    memset(c, 0, sizeof *c);
    c->host = "localhost"; c->port = port; c->security = mode; c->ca_file = ca;
    c->helo_name = "client.test"; c->timeout_ms = CALM_MS;
}

static int newest_has(const char *spool, const char *needle)
{
    size_t len;
    char *eml = aio_msg(spool, aio_count(spool), "eml", &len);
    int ok = eml && strstr(eml, needle) != NULL;
    free(eml);
    return ok;
}

TEST(size_at_most_40_kb)
{
    if (test_verbose()) printf("    sizeof(smtp_session) with SMTP_SMALL: %lu bytes\n", (unsigned long)sizeof(smtp_session));
    CHECK(sizeof(smtp_session) <= 40 * 1024);
    CHECK(sizeof S.tls.iobuf == BR_SSL_BUFSIZE_MONO);
    CHECK_EQ_INT(SMTP__RCPT_MAX, 100);
}

TEST(cleartext_starttls_implicit_auth)
{
    static const char *const to[] = { "bob@example.com", NULL };
    static char body[60000];
    smtp_config cfg;
    char mark[80], path[700];
    size_t i;
    int before;
    /* cleartext */
    snprintf(mark, sizeof mark, "small cleartext %lld", now_ms());
    before = aio_count("aiosmtpd");
    cfg_at(&cfg, AIO_PORT, SMTP_SECURITY_NONE, NULL);
    cfg.host = "127.0.0.1";
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(send_to(to, mark), SMTP_OK);
    smtp_close(&S);
    CHECK_EQ_INT(aio_wait_count("aiosmtpd", before + 1), before + 1);
    CHECK(newest_has("aiosmtpd", mark));
    /* STARTTLS over the half-duplex buffer, a body 30 times the write buffer, its last line intact */
    for (i = 0; i + 1 < sizeof body; i++) body[i] = (i % 70 == 69) ? '\n' : (char)('a' + i % 26);
    snprintf(mark, sizeof mark, "small starttls end %lld", now_ms());
    memcpy(body + sizeof body - 1 - strlen(mark) - 1, mark, strlen(mark));
    body[sizeof body - 2] = '\n'; body[sizeof body - 1] = 0;
    before = aio_count("aiotls");
    cfg_at(&cfg, AIOTLS, SMTP_SECURITY_STARTTLS, CA);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_STR(smtp_tls_version(&S), "TLSv1.2");
    CHECK_EQ_INT(send_to(to, body), SMTP_OK);
    smtp_close(&S);
    CHECK_EQ_INT(aio_wait_count("aiotls", before + 1), before + 1);
    CHECK(newest_has("aiotls", mark));
    /* implicit TLS to Postfix */
    snprintf(mark, sizeof mark, "small implicit %lld", now_ms());
    cfg_at(&cfg, PF_IMPL, SMTP_SECURITY_IMPLICIT, PF_CA);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(send_to(to, mark), SMTP_OK);
    smtp_close(&S);
    CHECK(pf_find(mark, path, sizeof path));
    /* AUTH PLAIN inside STARTTLS; a password over the 1 KB AUTH limit is refused before anything is sent */
    snprintf(mark, sizeof mark, "small auth %lld", now_ms());
    before = aio_count("aioauth");
    cfg_at(&cfg, AIOAUTH, SMTP_SECURITY_STARTTLS, CA);
    cfg.username = "alice"; cfg.password = "s3cret pass";
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(send_to(to, mark), SMTP_OK);
    smtp_close(&S);
    CHECK_EQ_INT(aio_wait_count("aioauth", before + 1), before + 1);
    CHECK(newest_has("aioauth", mark));
    {
        static char longpass[1100];
        memset(longpass, 'p', sizeof longpass - 1);
        cfg.password = longpass;
        CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PARAM);
        CHECK_CONTAINS(smtp_error_detail(&S), "too long");
        smtp_close(&S);
    }
}

TEST(recipients_in_transactions_of_100)
{
    enum { N = 1500, PER = 100 };
    static char addr[N][40];
    static const char *to[N + 1];
    static smtp_rcpt_result res[N];
    smtp_config cfg;
    smtp_message m;
    char mark[80];
    int i, before, got = 0, accepted = 0;
    for (i = 0; i < N; i++) { snprintf(addr[i], sizeof addr[i], "r%04d@example.com", i); to[i] = addr[i]; }
    to[N] = NULL;
    snprintf(mark, sizeof mark, "small %d recipients %lld", N, now_ms());
    before = aio_count("aiosmtpd");
    cfg_at(&cfg, AIO_PORT, SMTP_SECURITY_NONE, NULL);
    cfg.host = "127.0.0.1";
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    memset(&m, 0, sizeof m);
    m.from = "alice@example.com"; m.to = to; m.subject = "small"; m.text = mark;
    m.results = res; m.results_cap = N;
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_OK);
    smtp_close(&S);
    for (i = 0; i < N; i++) accepted += res[i].accepted;
    CHECK_EQ_INT(accepted, N);
    /* N / PER transactions of PER recipients, each the whole message, each recipient once */
    CHECK_EQ_INT(aio_wait_count("aiosmtpd", before + N / PER), before + N / PER);
    for (i = before + 1; i <= before + N / PER; i++) {
        size_t len;
        char *json = aio_msg("aiosmtpd", i, "json", &len), *eml = aio_msg("aiosmtpd", i, "eml", &len), *p;
        char first[40];
        int n = 0;
        for (p = json; p && (p = strstr(p, "@example.com\"")) != NULL; p++) n++;   /* mail_from counts once */
        snprintf(first, sizeof first, "\"r%04d@example.com\"", (i - before - 1) * PER);
        CHECK_EQ_INT(n - 1, PER);
        CHECK(json && strstr(json, first));   /* the transactions in order, none skipped */
        CHECK(eml && strstr(eml, mark));
        got += n - 1;
        free(json); free(eml);
    }
    CHECK_EQ_INT(got, N);
}

/* SMTP_ENTROPY seeds TLS and the Message-ID nonce; SMTP_TIME dates the
   message and is the clock certificates are checked against. */
TEST(platform_hooks)
{
    static const char *const to[] = { "bob@example.com", NULL };
    smtp_config cfg;
    char mark[80];
    int before;
    unsigned long calls = hook_entropy_calls;
    /* 2001-09-09 01:46:40 UTC: before the test certificates were made */
    hook_clock = 1000000000LL;
    cfg_at(&cfg, AIOTLS, SMTP_SECURITY_STARTTLS, CA);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_CERT);
    CHECK_CONTAINS(smtp_error_detail(&S), "not yet valid");
    smtp_close(&S);
    CHECK(hook_entropy_calls >= calls + 2);   /* the session's nonce, the TLS seed */
    /* a clock that is right: the same server works, and the Date header is that clock's */
    hook_clock = (long long)time(NULL) + 86400;   /* tomorrow: inside the certificate (made today, for 10 years) */
    snprintf(mark, sizeof mark, "small hooks %lld", now_ms());
    before = aio_count("aiotls");
    cfg_at(&cfg, AIOTLS, SMTP_SECURITY_STARTTLS, CA);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(send_to(to, mark), SMTP_OK);
    smtp_close(&S);
    CHECK_EQ_INT(aio_wait_count("aiotls", before + 1), before + 1);
    CHECK(newest_has("aiotls", mark));
    {
        char date[64];
        smtp__date(date, sizeof date, (time_t)hook_clock);
        CHECK(newest_has("aiotls", date));   /* "Date: ..." of tomorrow: the hook's clock */
    }
    hook_clock = 0;
}

int main(void)
{
    itest_env();
    RUN(platform_hooks);
    RUN(size_at_most_40_kb);
    RUN(cleartext_starttls_implicit_auth);
    RUN(recipients_in_transactions_of_100);
    return TEST_END();
}
