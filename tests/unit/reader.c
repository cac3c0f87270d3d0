/* reader.c - unit tests of smtp.h's >>reader: the reply parser and the EHLO
   capabilities, pure functions over a buffer (whole, split at every offset,
   malformed). */
#include "unit.h"

static long feed_all(const char *r, int *code, int *lines)
{
    smtp__reply_parser rp;
    long n;
    memset(&rp, 0, sizeof rp);
    n = smtp__reply_feed(&rp, r, strlen(r), NULL, NULL);
    *code = rp.code; *lines = rp.lines;
    return n;
}

TEST(reply_single_and_multi)
{
    int code, lines;
    CHECK_EQ_INT(feed_all("250 OK\r\n", &code, &lines), 8);
    CHECK_EQ_INT(code, 250); CHECK_EQ_INT(lines, 1);
    CHECK_EQ_INT(feed_all("250-a\r\n250-b\r\n250 c\r\nEXTRA", &code, &lines), 21);
    CHECK_EQ_INT(lines, 3);
    CHECK_EQ_INT(feed_all("354\r\n", &code, &lines), 5);      /* code alone: a last line */
    CHECK_EQ_INT(code, 354);
    CHECK_EQ_INT(feed_all("220 bare LF\n", &code, &lines), 12);
    CHECK_EQ_INT(feed_all("250-a\r\n250-b", &code, &lines), 0);  /* needs more */
    CHECK_EQ_INT(feed_all("", &code, &lines), 0);
}

TEST(reply_malformed)
{
    static const char *bad[] = { "2x0 what\r\n", "999 no\r\n", "099 no\r\n", "25\r\n", "250x\r\n",
                                 "250-a\r\n251 b\r\n", "abc\r\n", " 250 a\r\n", "\r\n", "600 x\r\n" };
    size_t i;
    int code, lines;
    for (i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK_EQ_INT(feed_all(bad[i], &code, &lines), SMTP_ERR_PROTOCOL);
    {
        smtp__reply_parser rp;
        const char nul[] = "250 a\0b\r\n";
        memset(&rp, 0, sizeof rp);
        CHECK_EQ_INT(smtp__reply_feed(&rp, nul, sizeof nul - 1, NULL, NULL), SMTP_ERR_PROTOCOL);
    }
}

/* The same reply split at every offset, and byte by byte, gives the same result. */
TEST(reply_split_everywhere)
{
    const char *r = "250-mail.example.com\r\n250-SIZE 1000\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n";
    size_t len = strlen(r), k, i;
    for (k = 0; k <= len; k++) {
        smtp__reply_parser rp;
        memset(&rp, 0, sizeof rp);
        CHECK_EQ_INT(smtp__reply_feed(&rp, r, k, NULL, NULL), k == len ? (long)len : 0);
        if (k < len) CHECK_EQ_INT(smtp__reply_feed(&rp, r, len, NULL, NULL), (long)len);
        CHECK_EQ_INT(rp.lines, 4);
    }
    {
        smtp__reply_parser rp;
        long got = 0;
        memset(&rp, 0, sizeof rp);
        for (i = 1; i <= len && got == 0; i++) got = smtp__reply_feed(&rp, r, i, NULL, NULL);
        CHECK_EQ_INT(got, (long)len);
        CHECK_EQ_INT(i - 1, len);
    }
}

TEST(enhanced_status)
{
    char st[16];
    CHECK_EQ_INT(smtp__enhanced("5.1.1 User unknown", 18, 550, st), 6);
    CHECK_EQ_STR(st, "5.1.1");
    CHECK_EQ_INT(smtp__enhanced("2.0.0", 5, 250, st), 5);
    CHECK_EQ_INT(smtp__enhanced("2.123.456 x", 11, 250, st), 10);
    CHECK_EQ_STR(st, "2.123.456");
    CHECK_EQ_INT(smtp__enhanced("4.1.1 x", 7, 550, st), 0);      /* class disagrees with code */
    CHECK_EQ_INT(smtp__enhanced("2.1 x", 5, 250, st), 0);
    CHECK_EQ_INT(smtp__enhanced("2.1.1000 x", 10, 250, st), 0);
    CHECK_EQ_INT(smtp__enhanced("2.1.1x", 6, 250, st), 0);
    CHECK_EQ_INT(smtp__enhanced("3.1.1 x", 7, 354, st), 0);      /* no class 3 */
    CHECK_EQ_INT(smtp__enhanced("Ok", 2, 250, st), 0);
}

TEST(ehlo_capabilities)
{
    static const char *lines[] = { "SIZE 35882577", "pipelining", "8BITMIME", "SMTPUTF8", "STARTTLS",
                                   "AUTH=LOGIN PLAIN", "AUTH CRAM-MD5 XOAUTH2 OAUTHBEARER GSSAPI",
                                   "CHUNKING", "DSN", "ENHANCEDSTATUSCODES", "X-UNKNOWN 1", "SIZEX" };
    unsigned ext = 0, auth = 0;
    unsigned long size = 0;
    size_t i;
    for (i = 0; i < sizeof lines / sizeof *lines; i++)
        smtp__ehlo_line(lines[i], strlen(lines[i]), &ext, &auth, &size);
    CHECK_EQ_INT(size, 35882577);
    CHECK_EQ_INT(ext, SMTP_EXT_SIZE | SMTP_EXT_PIPELINING | SMTP_EXT_8BITMIME | SMTP_EXT_SMTPUTF8 |
                 SMTP_EXT_STARTTLS | SMTP_EXT_AUTH | SMTP_EXT_CHUNKING | SMTP_EXT_DSN |
                 SMTP_EXT_ENHANCEDSTATUSCODES);
    CHECK_EQ_INT(auth, SMTP_AUTH_PLAIN | SMTP_AUTH_LOGIN | SMTP_AUTH_CRAM_MD5 | SMTP_AUTH_XOAUTH2 |
                 SMTP_AUTH_OAUTHBEARER);
    ext = auth = 0;
    smtp__ehlo_line("AUTH=PLAIN", 10, &ext, &auth, &size);   /* the old form alone */
    CHECK_EQ_INT(auth, SMTP_AUTH_PLAIN);
    smtp__ehlo_line("SIZE", 4, &ext, &auth, &size);           /* no number: no announced limit */
    CHECK_EQ_INT(size, 0);
    CHECK(ext & SMTP_EXT_SIZE);
}

void unit_reader(void)
{
    RUN(reply_single_and_multi);
    RUN(reply_malformed);
    RUN(reply_split_everywhere);
    RUN(enhanced_status);
    RUN(ehlo_capabilities);
}
