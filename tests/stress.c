/* stress.c - make stress: a body of STRESS_MB megabytes (default 1024)
   through smtp_data_write to our discarding sink, then the same through
   smtp_send's BDAT path; prints the rate. Not part of make test. */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include "test.h"
#include <stdlib.h>

static smtp_session S;

TEST(one_gigabyte)
{
    static char chunk[1 << 20];
    smtp_config cfg;
    size_t i, mb = getenv("STRESS_MB") ? (size_t)atol(getenv("STRESS_MB")) : 1024, sent = 0;
    struct timespec a, b;
    double secs;
    for (i = 0; i < sizeof chunk; i++) chunk[i] = (i % 100 == 99) ? '\n' : (i % 100 == 0 ? '.' : 's');
    memset(&cfg, 0, sizeof cfg);
    cfg.host = "127.0.0.1"; cfg.port = getenv("SINK_PORT") ? atoi(getenv("SINK_PORT")) : 24560;
    cfg.security = SMTP_SECURITY_NONE;
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(smtp_mail_from(&S, "alice@example.com"), SMTP_OK);
    CHECK_EQ_INT(smtp_rcpt_to(&S, "sink@example.com"), SMTP_OK);
    CHECK_EQ_INT(smtp_data_begin(&S), SMTP_OK);
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (i = 0; i < mb; i++) {
        if (smtp_data_write(&S, chunk, sizeof chunk) != SMTP_OK) break;
        sent++;
    }
    CHECK_EQ_INT(sent, mb);
    CHECK_EQ_INT(smtp_data_end(&S), SMTP_OK);
    clock_gettime(CLOCK_MONOTONIC, &b);
    secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    printf("  %zu MB through smtp_data_write in %.2f s (%.0f MB/s)\n", mb, secs, (double)mb / secs);
    CHECK_EQ_INT(smtp_close(&S), SMTP_OK);
}

int main(void)
{
    RUN(one_gigabyte);
    return TEST_END();
}
