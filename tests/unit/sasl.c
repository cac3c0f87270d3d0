/* sasl.c - unit tests of smtp.h's >>sasl: the payloads (CRAM-MD5 as in RFC
   2195, OAUTHBEARER), punycode and IDNA (in that section of smtp.h too), and
   AUTH exchanges over the scripted peer: what went on the wire, what the
   trace shows, the refusals made before a byte. */
#include "unit.h"

TEST(cram_md5_rfc2195)
{
    const char *ch = "<1896.697170952@postoffice.reston.mci.net>";
    unsigned char out[100];
    size_t n = smtp__sasl_cram("tim", "tanstaaftanstaaf", (const unsigned char *)ch, strlen(ch), out, sizeof out);
    CHECK_EQ_MEM(out, n, "tim b913a602c7eda7a495b4e6e7334d3890", 36);
}

static const char *EHLO_AUTH = "250-fake.test\r\n250-AUTH PLAIN LOGIN CRAM-MD5 XOAUTH2 OAUTHBEARER\r\n250 8BITMIME\r\n";

static smtp_result auth_open(unsigned allowed, const char *const *script, const char *pass)
{
    smtp_config cfg;
    fake_reset();
    F.ehlo_reply = EHLO_AUTH;
    F.auth_script = script;
    trace_buf[0] = 0;
    memset(&cfg, 0, sizeof cfg);
    cfg.username = "tim"; cfg.password = pass; cfg.allowed_auth = allowed;
    cfg.allow_cleartext_auth = 1;      /* the fake peer is cleartext */
    cfg.trace = tracer; cfg.helo_name = "me.test";
    return fake_open(&S, &cfg);
}

TEST(auth_plain_login_cram_payloads)
{
    static const char *ok[] = { "235 2.7.0 Authentication successful\r\n", NULL };
    static const char *login[] = { "334 VXNlcm5hbWU6\r\n", "334 UGFzc3dvcmQ6\r\n", "235 2.7.0 ok\r\n", NULL };
    static const char *cram[] = { "334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n",
                                  "235 2.7.0 ok\r\n", NULL };
    CHECK_EQ_INT(auth_open(SMTP_AUTH_PLAIN, ok, "tanstaaftanstaaf"), SMTP_OK);
    CHECK_EQ_INT(fake_count("AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm\r\n"), 1);
    CHECK(strstr(trace_buf, "tanstaaf") == NULL && strstr(trace_buf, "AHRpbQ") == NULL);
    CHECK_CONTAINS(trace_buf, "C: AUTH PLAIN <credentials>");
    smtp_close(&S);
    CHECK_EQ_INT(auth_open(SMTP_AUTH_LOGIN, login, "tanstaaftanstaaf"), SMTP_OK);
    CHECK_EQ_INT(fake_count("AUTH LOGIN\r\ndGlt\r\ndGFuc3RhYWZ0YW5zdGFhZg==\r\n"), 1);
    CHECK(strstr(trace_buf, "dGFuc3RhYWZ0YW5zdGFhZg") == NULL);
    smtp_close(&S);
    CHECK_EQ_INT(auth_open(SMTP_AUTH_CRAM_MD5, cram, "tanstaaftanstaaf"), SMTP_OK);
    CHECK_EQ_INT(fake_count("AUTH CRAM-MD5\r\ndGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\n"), 1);
    smtp_close(&S);
}

TEST(auth_order_504_and_535)
{
    static const char *not_supported_then_ok[] = { "504 5.5.4 Unrecognized authentication type\r\n",
                                                    "235 2.7.0 ok\r\n", NULL };
    static const char *bad[] = { "535 5.7.8 Error: authentication failed\r\n", NULL };
    /* default mask: PLAIN first; on 504 LOGIN is tried (and this script then answers 235) */
    CHECK_EQ_INT(auth_open(0, not_supported_then_ok, "pw"), SMTP_OK);
    CHECK_EQ_INT(fake_count("AUTH PLAIN "), 1);
    CHECK_EQ_INT(fake_count("AUTH LOGIN"), 1);
    smtp_close(&S);
    /* a wrong password: one attempt, the 535 kept, nothing else tried */
    CHECK_EQ_INT(auth_open(0, bad, "wrong"), SMTP_ERR_AUTH);
    CHECK_EQ_INT(F.auths, 1);
    CHECK_EQ_INT(smtp_last_reply(&S)->code, 535);
    CHECK_EQ_STR(smtp_last_reply(&S)->status, "5.7.8");
    CHECK_CONTAINS(smtp_error_detail(&S), "535 5.7.8 Error: authentication failed");
    CHECK_EQ_INT(smtp_close(&S), SMTP_ERR_AUTH);
}

TEST(auth_tokens_and_their_errors)
{
    static const char *ok[] = { "235 2.7.0 Accepted\r\n", NULL };
    static const char *err[] = { "334 eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiYmVhcmVyIn0=\r\n",
                                 "535 5.7.8 Username and Password not accepted\r\n", NULL };
    /* XOAUTH2 only when asked for; first in the order then */
    CHECK_EQ_INT(auth_open(SMTP_AUTH_XOAUTH2 | SMTP_AUTH_PLAIN, ok, "tok"), SMTP_OK);
    CHECK_EQ_INT(fake_count("AUTH XOAUTH2 dXNlcj10aW0BYXV0aD1CZWFyZXIgdG9rAQE=\r\n"), 1);
    CHECK(strstr(trace_buf, "dXNlcj10aW0") == NULL);
    smtp_close(&S);
    CHECK_EQ_INT(auth_open(SMTP_AUTH_XOAUTH2, err, "expired"), SMTP_ERR_AUTH);
    CHECK_CONTAINS(smtp_error_detail(&S), "{\"status\":\"401\"");
    CHECK_EQ_INT(fake_count("AUTH XOAUTH2 "), 1);
    CHECK_EQ_INT(fake_count("\r\n\r\n"), 1);              /* the empty line that ends the exchange */
    smtp_close(&S);
    CHECK_EQ_INT(auth_open(SMTP_AUTH_OAUTHBEARER, err, "expired"), SMTP_ERR_AUTH);
    CHECK_EQ_INT(fake_count("\r\nAQ==\r\n"), 1);           /* RFC 7628 3.2.3: ^A */
    CHECK_CONTAINS(smtp_error_detail(&S), "401");
    smtp_close(&S);
    {   /* the OAUTHBEARER payload */
        unsigned char out[200];
        size_t n = smtp__sasl_oauthbearer("a,b=c", "mail.test", 587, "T", out, sizeof out);
        static const char want[] = "n,a=a=2Cb=3Dc,\001host=mail.test\001port=587\001auth=Bearer T\001\001";
        CHECK_EQ_MEM(out, n, want, sizeof want - 1);
    }
}

TEST(auth_challenge_of_12288_octets)
{
    static char line[12400 + 16], big[70000];
    static unsigned char raw[9216];
    static const char *script[3];
    size_t i;
    for (i = 0; i < sizeof raw; i++) raw[i] = (unsigned char)(i * 7);
    memcpy(line, "334 ", 4);
    i = 4 + smtp__b64(raw, sizeof raw, line + 4);          /* 12288 octets of base64 */
    memcpy(line + i, "\r\n", 3);
    script[0] = line; script[1] = "235 2.7.0 ok\r\n"; script[2] = NULL;
#ifdef SMTP_SMALL   /* the small profile's 2 KB read buffer: a clear error, nothing sent for it */
    CHECK_EQ_INT(auth_open(SMTP_AUTH_CRAM_MD5, script, "pw"), SMTP_ERR_TOO_LONG);
    CHECK_CONTAINS(smtp_error_detail(&S), "longer than 2048 bytes");
    smtp_close(&S);
    return;
#endif
    CHECK_EQ_INT(auth_open(SMTP_AUTH_CRAM_MD5, script, "pw"), SMTP_OK);
    {
        unsigned char want[64];
        char b64[100];
        size_t n = smtp__sasl_cram("tim", "pw", raw, sizeof raw, want, sizeof want), k = smtp__b64(want, n, b64);
        b64[k] = 0;
        CHECK_EQ_INT(fake_count(b64), 1);
    }
    smtp_close(&S);
    /* a 64 KB challenge: too long, the session ends */
    memcpy(big, "334 ", 4);
    memset(big + 4, 'A', sizeof big - 8);
    memcpy(big + sizeof big - 4, "\r\n", 3);
    script[0] = big;
    CHECK_EQ_INT(auth_open(SMTP_AUTH_CRAM_MD5, script, "pw"), SMTP_ERR_TOO_LONG);
    smtp_close(&S);
}

TEST(auth_refused_locally)
{
    static const char *ok[] = { "235 ok\r\n", NULL };
    static const char *badch[] = { "334 not*base64\r\n", NULL };
    smtp_config cfg;
    size_t before;
    /* PLAIN without TLS and without allow_cleartext_auth: nothing sent */
    fake_reset();
    F.ehlo_reply = "250-fake.test\r\n250 AUTH PLAIN LOGIN\r\n";
    F.auth_script = ok;
    memset(&cfg, 0, sizeof cfg);
    cfg.username = "tim"; cfg.password = "pw";
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_ERR_AUTH_UNAVAILABLE);
    CHECK_CONTAINS(smtp_error_detail(&S), "allow_cleartext_auth");
    CHECK_EQ_INT(F.auths, 0);
    CHECK_EQ_INT(fake_count("AUTH"), 0);
    smtp_close(&S);
    /* CRAM-MD5 only, against a server offering PLAIN LOGIN: none in common, no AUTH sent */
    fake_reset();
    F.ehlo_reply = "250-fake.test\r\n250 AUTH PLAIN LOGIN\r\n";
    cfg.allowed_auth = SMTP_AUTH_CRAM_MD5; cfg.allow_cleartext_auth = 1;
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_ERR_AUTH_UNAVAILABLE);
    CHECK_CONTAINS(smtp_error_detail(&S), "offers PLAIN LOGIN");
    CHECK_CONTAINS(smtp_error_detail(&S), "permits CRAM-MD5");
    CHECK_EQ_INT(fake_count("AUTH"), 0);
    smtp_close(&S);
    /* no AUTH at all */
    fake_reset();
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_ERR_AUTH_UNAVAILABLE);
    CHECK_CONTAINS(smtp_error_detail(&S), "offers no AUTH");
    smtp_close(&S);
    /* a challenge that is not base64 */
    CHECK_EQ_INT(auth_open(SMTP_AUTH_CRAM_MD5, badch, "pw"), SMTP_ERR_PROTOCOL);
    before = F.outlen;
    CHECK_EQ_INT(smtp_noop(&S), SMTP_ERR_PROTOCOL);
    CHECK_EQ_INT(F.outlen, before);
    smtp_close(&S);
}

TEST(punycode_and_idna)
{
    static const char *words[][2] = { { "münchen", "xn--mnchen-3ya" }, { "bücher", "xn--bcher-kva" },
                                      { "例子", "xn--fsqu00a" }, { "ελληνικά", "xn--hxargifdar" } };
    char out[200], bad[80];
    size_t i;
    for (i = 0; i < 4; i++) {
        long cp[64];
        size_t n = 0, pos = 0, len = strlen(words[i][0]);
        while (pos < len) cp[n++] = smtp__utf8_next((const unsigned char *)words[i][0], len, &pos);
        CHECK(smtp__punycode(cp, n, out, sizeof out) > 0);
        CHECK_EQ_STR(out, words[i][1]);
    }
    CHECK(smtp__idna_addr("info@bücher.example", strlen("info@bücher.example"), out, sizeof out, bad, sizeof bad) == NULL);
    CHECK_EQ_STR(out, "info@xn--bcher-kva.example");
    CHECK(smtp__idna_addr("jörg@x.de", strlen("jörg@x.de"), out, sizeof out, bad, sizeof bad) != NULL);
    bad[0] = 0;
    CHECK(smtp__idna_addr("a@Bücher.de", strlen("a@Bücher.de"), out, sizeof out, bad, sizeof bad) != NULL);
    CHECK_EQ_STR(bad, "Bücher");
    CHECK(smtp__idna_addr("a@BÜCHER.de", strlen("a@BÜCHER.de"), out, sizeof out, bad, sizeof bad) != NULL);
    CHECK(smtp__idna_addr("a@b\xff.de", 7, out, sizeof out, bad, sizeof bad) != NULL);   /* not UTF-8 */
}

void unit_sasl(void)
{
    RUN(punycode_and_idna);
    RUN(cram_md5_rfc2195);
    RUN(auth_plain_login_cram_payloads);
    RUN(auth_order_504_and_535);
    RUN(auth_tokens_and_their_errors);
    RUN(auth_challenge_of_12288_octets);
    RUN(auth_refused_locally);
}
