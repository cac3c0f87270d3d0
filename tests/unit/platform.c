/* platform.c - unit tests of smtp.h's >>platform, >>deadline and >>transport
   (with the result table at the top of >>implementation): result strings,
   the trace hook on the io slot. */
#include "unit.h"

TEST(result_strings)
{
    int r, i;
    const char *seen[64];
    int n = 0;
    for (r = SMTP_PARTIAL; r >= SMTP_ERR_CONFIG; r--) {
        const char *t = smtp_result_str((smtp_result)r);
        CHECK(t != NULL && *t);
        for (i = 0; i < n; i++) CHECK(strcmp(seen[i], t) != 0);
        seen[n++] = t;
    }
    CHECK_EQ_STR(smtp_result_str((smtp_result)-999), "unknown result code");
    CHECK_EQ_STR(smtp_result_str(SMTP_ERR_TIMEOUT), "timed out");
}

TEST(trace_sees_both_directions)
{
    smtp_config cfg;
    fake_reset();
    trace_buf[0] = 0;
    memset(&cfg, 0, sizeof cfg);
    cfg.trace = tracer; cfg.helo_name = "me.test";
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    smtp_close(&S);
    CHECK_EQ_STR(trace_buf, "S: 220 fake.test ESMTP\nC: EHLO me.test\nS: 250-fake.test\nS: 250-PIPELINING\n"
                 "S: 250 8BITMIME\nC: QUIT\nS: 221 2.0.0 Bye\n");
}

void unit_platform(void)
{
    RUN(result_strings);
    RUN(trace_sees_both_directions);
}
