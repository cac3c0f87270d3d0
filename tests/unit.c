/* unit.c - unit tests of smtp.h's pure parts (reply and EHLO parsers, the
   body writer, addresses, codecs, setters) and of the session logic over
   a scripted in-memory peer (tests/fake.h). No sockets. */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include "test.h"
#include "fake.h"
#include <sys/stat.h>

static smtp_session S;

/* ---- reply parser ------------------------------------------------------ */

static long feed_all(const char *r, int *code, int *lines)
{
    smtp__rp rp;
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
        smtp__rp rp;
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
        smtp__rp rp;
        memset(&rp, 0, sizeof rp);
        CHECK_EQ_INT(smtp__reply_feed(&rp, r, k, NULL, NULL), k == len ? (long)len : 0);
        if (k < len) CHECK_EQ_INT(smtp__reply_feed(&rp, r, len, NULL, NULL), (long)len);
        CHECK_EQ_INT(rp.lines, 4);
    }
    {
        smtp__rp rp;
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

/* ---- body writer ------------------------------------------------------- */

/* The rules written plainly, one byte at a time: the reference. */
static size_t ref_normalise(const unsigned char *in, size_t n, unsigned char *out)
{
    size_t i, o = 0;
    int bol = 1;
    for (i = 0; i < n; i++) {
        if (in[i] == '\r' || in[i] == '\n') {
            if (in[i] == '\r' && i + 1 < n && in[i + 1] == '\n') i++;
            out[o++] = '\r'; out[o++] = '\n'; bol = 1;
            continue;
        }
        if (bol && in[i] == '.') out[o++] = '.';
        out[o++] = in[i]; bol = 0;
    }
    if (!bol) { out[o++] = '\r'; out[o++] = '\n'; }
    out[o++] = '.'; out[o++] = '\r'; out[o++] = '\n';
    return o;
}

/* Encodes in as pieces split at the offsets given, output capacity cap. */
static size_t enc_pieces(const unsigned char *in, size_t n, size_t split, size_t cap, unsigned char *out)
{
    smtp__dot st;
    size_t o = 0, pos = 0, end;
    memset(&st, 0, sizeof st);
    st.bol = 1;
    while (pos < n) {
        end = pos < split && split <= n ? split : n;
        while (pos < end) {
            size_t used, w = smtp__dot_encode(&st, in + pos, end - pos, out + o, cap, &used);
            o += w; pos += used;
        }
    }
    return o + smtp__dot_finish(&st, out + o);
}

TEST(writer_every_case_every_split)
{
    static const char *cases[] = {
        "", "a", ".", "..", ".\n", "\n.\n", "a\n.\nb", "\r", "\n", "\r\n", "\r\r", "\n\n", "\n\r",
        "a\rb", "a\nb", "a\r\nb", ".a\r\n.b\r\n", "x\r\n.\r\n", "\r.", "\n.", "\r\n.", "line\r",
        "end without newline", "a.\n.b.\n..\n", "\r\n\r\n.\r\n", ".\r\n.\r\n.",
        "\x80\xff\x01\t.\n", "first\n.\n\r\x00mid"
    };
    unsigned char exp[256], got[256];
    size_t i, split, cap;
    for (i = 0; i < sizeof cases / sizeof *cases; i++) {
        const unsigned char *in = (const unsigned char *)cases[i];
        size_t n = strlen(cases[i]), en = ref_normalise(in, n, exp);
        for (split = 0; split <= n; split++)
            for (cap = 2; cap <= 9; cap += 7) {
                size_t gn = enc_pieces(in, n, split, cap, got);
                CHECK_EQ_MEM(got, gn, exp, en);
            }
    }
}

TEST(writer_long_and_random)
{
    static unsigned char in[70000], exp[150000], got[150000];
    size_t i, en, gn, k;
    unsigned x = 12345;
    for (k = 0; k < 20; k++) {
        for (i = 0; i < sizeof in; i++) {
            x = x * 1103515245u + 12345u;
            in[i] = "ab.\r\n.x"[(x >> 16) % 7];
        }
        en = ref_normalise(in, sizeof in, exp);
        gn = enc_pieces(in, sizeof in, (x >> 8) % sizeof in, 4096 + k, got);
        CHECK_EQ_MEM(got, gn, exp, en);
    }
    memset(in, 'x', sizeof in);   /* one very long line passes as given */
    en = ref_normalise(in, sizeof in, exp);
    gn = enc_pieces(in, sizeof in, 5000, 16384, got);
    CHECK_EQ_MEM(got, gn, exp, en);
    CHECK_EQ_INT(gn, sizeof in + 5);
}

/* ---- addresses, codecs ------------------------------------------------- */

TEST(addresses)
{
    const char *a, *bad;
    size_t n;
    CHECK(smtp__addr("bob@example.com", 1, &a, &n) == NULL && n == 15);
    CHECK(smtp__addr("Bob Smith <bob@example.com>", 1, &a, &n) == NULL && n == 15 && !strncmp(a, "bob@", 4));
    CHECK(smtp__addr("  bob@example.com  ", 1, &a, &n) == NULL && n == 15);
    CHECK(smtp__addr("\"A <b>\" <c@d>", 1, &a, &n) == NULL && n == 3);
    CHECK(smtp__addr("", 0, &a, &n) == NULL && n == 0);          /* null sender */
    CHECK(smtp__addr("<>", 0, &a, &n) == NULL && n == 0);
    CHECK(smtp__addr("", 1, &a, &n) != NULL);
    CHECK(smtp__addr("postmaster", 1, &a, &n) == NULL);
    CHECK(smtp__addr("PostMaster", 1, &a, &n) == NULL);
    CHECK(smtp__addr("postmaster", 0, &a, &n) != NULL);
    CHECK((bad = smtp__addr("a@b\r\nRCPT TO:<x@y>", 1, &a, &n)) != NULL);
    CHECK_CONTAINS(bad, "control");
    CHECK(smtp__addr("nobody", 1, &a, &n) != NULL);
    CHECK(smtp__addr("@b", 1, &a, &n) != NULL);
    CHECK(smtp__addr("a@", 1, &a, &n) != NULL);
    CHECK(smtp__addr("a b@c", 1, &a, &n) != NULL);
    CHECK(smtp__addr("x <a@b", 1, &a, &n) != NULL);
    CHECK(smtp__addr("x <a@b> y", 1, &a, &n) != NULL);
    {
        char big[300];
        memset(big, 'a', sizeof big);
        memcpy(big + 250, "@b.co", 6);             /* 255 octets */
        CHECK(smtp__addr(big, 1, &a, &n) != NULL);
        big[249] = 0; big[248] = 'c';
        memcpy(big + 240, "@b.co", 5);             /* 249 octets */
        CHECK(smtp__addr(big, 1, &a, &n) == NULL);
    }
}

TEST(base64_and_utf8_cut)
{
    char out[32];
    CHECK_EQ_MEM(out, smtp__b64((const unsigned char *)"", 0, out), "", 0);
    CHECK_EQ_MEM(out, smtp__b64((const unsigned char *)"f", 1, out), "Zg==", 4);
    CHECK_EQ_MEM(out, smtp__b64((const unsigned char *)"fo", 2, out), "Zm8=", 4);
    CHECK_EQ_MEM(out, smtp__b64((const unsigned char *)"foo", 3, out), "Zm9v", 4);
    CHECK_EQ_MEM(out, smtp__b64((const unsigned char *)"foobar", 6, out), "Zm9vYmFy", 8);
    /* "aé€" = 61 c3a9 e282ac: a cut at 2 or 3 moves back to a character start */
    CHECK_EQ_INT(smtp__utf8_cut((const unsigned char *)"a\xc3\xa9\xe2\x82\xac", 6, 2), 1);
    CHECK_EQ_INT(smtp__utf8_cut((const unsigned char *)"a\xc3\xa9\xe2\x82\xac", 6, 4), 3);
    CHECK_EQ_INT(smtp__utf8_cut((const unsigned char *)"a\xc3\xa9\xe2\x82\xac", 6, 5), 3);
    CHECK_EQ_INT(smtp__utf8_cut((const unsigned char *)"a\xc3\xa9\xe2\x82\xac", 6, 6), 6);
    CHECK_EQ_INT(smtp__utf8_cut((const unsigned char *)"\x80\x80\x80\x80\x80", 5, 2), 2);  /* invalid: anywhere */
}

TEST(tls_version_setters)
{
    smtp_config c;
    memset(&c, 0, sizeof c);
    CHECK_EQ_INT(smtp_config_set_tls_versions(&c, SMTP_TLS_1_2 | SMTP_TLS_1_3), SMTP_OK);
    CHECK_EQ_INT(c.tls_versions, SMTP_TLS_1_2);
    CHECK_EQ_INT(smtp_config_set_tls_versions(&c, SMTP_TLS_1_3), SMTP_OK);
    CHECK_EQ_INT(c.tls_versions, SMTP_TLS_1_2);
    CHECK_EQ_INT(smtp_config_set_tls_versions(&c, SMTP_TLS_1_0 | SMTP_TLS_1_2), SMTP_OK);
    CHECK_EQ_INT(c.tls_versions, SMTP_TLS_1_0 | SMTP_TLS_1_1 | SMTP_TLS_1_2);
    CHECK_EQ_INT(smtp_config_set_tls_versions(&c, SMTP_TLS_1_1), SMTP_OK);
    CHECK_EQ_INT(c.tls_versions, SMTP_TLS_1_1);
    CHECK_EQ_INT(smtp_config_set_tls_versions(&c, 1u << 4), SMTP_ERR_PARAM);
    CHECK_EQ_INT(smtp_config_set_tls_versions(&c, 0), SMTP_ERR_PARAM);
    CHECK_EQ_INT(c.tls_versions, SMTP_TLS_1_1);                 /* unchanged by the failures */
    CHECK_EQ_INT(smtp_config_set_tls_versions_unsafe(&c, SMTP_TLS_1_3), SMTP_OK);
    CHECK_EQ_INT(c.tls_versions, SMTP_TLS_1_3);
    CHECK_EQ_INT(smtp_config_set_tls_versions_unsafe(&c, SMTP_TLS_1_3 | 1u << 9), SMTP_ERR_PARAM);
}

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

/* ---- decoding helpers for composer checks ------------------------------ */

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

static size_t b64dec(const char *p, size_t n, char *out)
{
    size_t i, o = 0;
    unsigned v = 0;
    int bits = 0;
    for (i = 0; i < n && p[i] != '='; i++) {
        int d = b64val(p[i]);
        if (d < 0) continue;
        v = v << 6 | (unsigned)d; bits += 6;
        if (bits >= 8) { bits -= 8; out[o++] = (char)(v >> bits & 255); }
    }
    return o;
}

/* Unfolds header name's value and decodes RFC 2047 B words (UTF-8) in it. */
static size_t header_value(const char *msg, const char *name, char *out)
{
    const char *p = strstr(msg, name), *e;
    size_t o = 0;
    if (!p) return 0;
    p += strlen(name);
    while (*p == ' ') p++;
    for (e = p; *e && !(e[0] == '\r' && e[1] == '\n' && e[2] != ' '); e++) {}
    while (p < e) {
        if (p[0] == '\r' && p[1] == '\n') { p += 2; continue; }   /* unfold: drop CRLF, keep the space */
        if (!strncmp(p, "=?UTF-8?B?", 10)) {
            const char *q = strstr(p + 10, "?=");
            o += b64dec(p + 10, (size_t)(q - p - 10), out + o);
            p = q + 2;
            /* white space between adjacent encoded words is dropped (RFC 2047 6.2) */
            if (!strncmp(p, "\r\n =?UTF-8?B?", 13)) p += 3;
            else if (!strncmp(p, " =?UTF-8?B?", 11)) p += 1;
            continue;
        }
        out[o++] = *p++;
    }
    out[o] = 0;
    return o;
}

/* Decodes a quoted-printable body (soft breaks removed, CRLF kept). */
static size_t qp_decode(const char *p, size_t n, char *out)
{
    size_t i, o = 0;
    for (i = 0; i < n; i++) {
        if (p[i] == '=' && i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n') { i += 2; continue; }
        if (p[i] == '=' && i + 2 < n) {
            char h[3] = { p[i + 1], p[i + 2], 0 };
            out[o++] = (char)strtol(h, NULL, 16); i += 2; continue;
        }
        out[o++] = p[i];
    }
    return o;
}

static size_t longest_line(const char *p, size_t n)
{
    size_t i, run = 0, max = 0;
    for (i = 0; i < n; i++) {
        if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n') { run = 0; i++; continue; }
        if (++run > max) max = run;
    }
    return max;
}

/* The wire message without dot-stuffing. */
static size_t unstuff(const char *p, size_t n, char *out)
{
    size_t i, o = 0;
    int bol = 1;
    for (i = 0; i < n; i++) {
        if (bol && p[i] == '.') { bol = 0; continue; }
        out[o++] = p[i];
        bol = p[i] == '\n';
    }
    out[o] = 0;
    return o;
}

/* ---- the session over the scripted peer -------------------------------- */

static char body_buf[1 << 21], dec_buf[1 << 21];

TEST(compose_headers_and_encodings)
{
    smtp_config cfg;
    smtp_message m;
    const char *to[] = { "Bob <bob@example.com>", "carol@example.com", NULL };
    const char *cc[] = { "Dörte Müller <doerte@example.org>", NULL };
    const char *bcc[] = { "secret@example.net", NULL };
    static char text[5000];
    char val[4096], *hdr_end, norm[6000];
    size_t n, i, nn;
    const char *subject = "Grüße aus Köln — ünïcödé subject that is long enough to need folding, twice over: ✓✓✓";
    fake_reset();
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    memset(&m, 0, sizeof m);
    m.from = "Alice Ä <alice@example.com>"; m.to = to; m.cc = cc; m.bcc = bcc; m.subject = subject;
    /* text: a leading dot line, bare CR, bare LF, "\n.\n", UTF-8 and a 2000-byte line */
    strcpy(text, ".first line\n\n.\nbare\rcr and é\r\nend ");
    n = strlen(text);
    memset(text + n, 'x', 2000); text[n + 2000] = 0;
    strcat(text, "\n=tail\t\n.");
    m.text = text;
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_OK);
    CHECK_EQ_INT(F.messages, 1);
    CHECK_EQ_INT(fake_count("RCPT TO:<"), 4);
    CHECK_EQ_INT(fake_count("RCPT TO:<secret@example.net>"), 1);
    n = unstuff(F.msg, F.msglen, body_buf);
    CHECK(longest_line(F.msg, F.msglen) <= 998);
    hdr_end = strstr(body_buf, "\r\n\r\n");
    CHECK(hdr_end != NULL);
    if (!hdr_end) return;
    *hdr_end = 0;
    CHECK(longest_line(body_buf, strlen(body_buf)) <= 78);
    CHECK(strstr(body_buf, "secret@") == NULL);                 /* bcc never in the headers */
    CHECK(strstr(body_buf, "Bcc") == NULL);
    header_value(body_buf, "Subject:", val);
    CHECK_EQ_STR(val, subject);
    header_value(body_buf, "\r\nCc:", val);
    CHECK_EQ_STR(val, "Dörte Müller <doerte@example.org>");
    header_value(body_buf, "\r\nFrom:", val);
    CHECK_EQ_STR(val, "Alice Ä <alice@example.com>");
    header_value(body_buf, "\r\nTo:", val);
    CHECK_EQ_STR(val, "Bob <bob@example.com>, carol@example.com");
    CHECK_CONTAINS(body_buf, "\r\nMessage-ID: <");
    CHECK_CONTAINS(body_buf, "@example.com>\r\n");
    CHECK_CONTAINS(body_buf, "Date: ");
    CHECK_CONTAINS(body_buf, " +0000\r\n");
    CHECK_CONTAINS(body_buf, "\r\nContent-Type: text/plain; charset=utf-8\r\n");
    CHECK_CONTAINS(body_buf, "Content-Transfer-Encoding: quoted-printable");
    /* the text part, decoded, equals the text given, line ends as CRLF */
    nn = qp_decode(hdr_end + 4, n - (size_t)(hdr_end + 4 - body_buf), dec_buf);
    for (i = 0, n = 0; text[i]; i++) {
        if (text[i] == '\r' || text[i] == '\n') {
            if (text[i] == '\r' && text[i + 1] == '\n') i++;
            norm[n++] = '\r'; norm[n++] = '\n';
        } else norm[n++] = text[i];
    }
    norm[n++] = '\r'; norm[n++] = '\n';    /* the writer ends the last line */
    CHECK_EQ_MEM(dec_buf, nn, norm, n);
    smtp_close(&S);
    CHECK_EQ_INT(fake_count("QUIT\r\n"), 1);
}

TEST(compose_7bit_and_folded_ascii_subject)
{
    smtp_config cfg;
    smtp_message m;
    const char *to[] = { "bob@example.com", NULL };
    char subj[400], val[1000], *he;
    int i;
    fake_reset();
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    for (i = 0, subj[0] = 0; i < 40; i++) strcat(subj, i ? " word" : "Subject");
    memset(&m, 0, sizeof m);
    m.from = "alice@example.com"; m.to = to; m.subject = subj; m.text = "plain\n.dot\n";
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_OK);
    memcpy(body_buf, F.msg, F.msglen); body_buf[F.msglen] = 0;
    he = strstr(body_buf, "\r\n\r\n");
    CHECK(he && !strcmp(he, "\r\n\r\nplain\r\n..dot\r\n"));
    CHECK_CONTAINS(body_buf, "Content-Transfer-Encoding: 7bit\r\n");
    CHECK(strstr(body_buf, "=?") == NULL);
    if (he) *he = 0;
    CHECK(longest_line(body_buf, strlen(body_buf)) <= 78);
    header_value(body_buf, "Subject:", val);
    CHECK_EQ_STR(val, subj);
    smtp_close(&S);
}

TEST(refused_recipient_partial)
{
    smtp_config cfg;
    smtp_message m;
    smtp_rcpt_result res[3];
    const char *to[] = { "a@example.com", "refuse@example.com", NULL };
    const char *cc[] = { "c@example.com", NULL };
    fake_reset();
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    memset(&m, 0, sizeof m);
    memset(res, 0x55, sizeof res);
    m.from = "x@example.com"; m.to = to; m.cc = cc; m.text = "hi";
    m.results = res; m.results_cap = 3;
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_PARTIAL);
    CHECK_EQ_INT(F.messages, 1);
    CHECK_EQ_INT(res[0].accepted, 1); CHECK_EQ_INT(res[0].code, 250);
    CHECK_EQ_INT(res[1].accepted, 0); CHECK_EQ_INT(res[1].code, 550);
    CHECK_EQ_STR(res[1].address, "refuse@example.com");
    CHECK_EQ_STR(res[1].status, "5.1.1");
    CHECK_EQ_STR(res[1].text, "<refuse>: Recipient address rejected");
    CHECK_EQ_INT(res[2].accepted, 1);
    CHECK_CONTAINS(smtp_error_detail(&S), "refuse@example.com");
    CHECK_CONTAINS(smtp_error_detail(&S), "550 5.1.1");
    /* the session goes on */
    CHECK_EQ_INT(smtp_noop(&S), SMTP_OK);
    smtp_close(&S);
}

static int cb_count, cb_refused;
static void on_result(void *user, const smtp_rcpt_result *r)
{
    (void)user;
    cb_count++;
    if (!r->accepted) cb_refused++;
}

TEST(too_many_recipients_452_continues)
{
    smtp_config cfg;
    smtp_message m;
    const char *to[] = { "r1@x.org", "r2@x.org", "r3@x.org", "r4@x.org", "r5@x.org", NULL };
    fake_reset();
    F.max_rcpt = 2;
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    memset(&m, 0, sizeof m);
    m.from = "x@example.com"; m.to = to; m.text = "hi";
    m.on_result = on_result; cb_count = cb_refused = 0;
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_OK);
    CHECK_EQ_INT(F.mails, 3);
    CHECK_EQ_INT(F.messages, 3);
    CHECK_EQ_INT(fake_count("RCPT TO:<r3@x.org>"), 2);   /* 452 once, then in the next transaction */
    CHECK_EQ_INT(cb_count, 5);
    CHECK_EQ_INT(cb_refused, 0);
    smtp_close(&S);
}

TEST(all_refused_sends_nothing)
{
    smtp_config cfg;
    smtp_message m;
    const char *to[] = { "refuse1@x.org", "refuse2@x.org", NULL };
    fake_reset();
    F.ehlo_reply = "250-fake.test\r\n250 8BITMIME\r\n";     /* no PIPELINING: one command at a time */
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    memset(&m, 0, sizeof m);
    m.from = "x@example.com"; m.to = to; m.text = "hi";
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_ERR_REPLY);
    CHECK_EQ_INT(fake_count("DATA"), 0);
    CHECK_EQ_INT(fake_count("RSET\r\n"), 1);
    CHECK_CONTAINS(smtp_error_detail(&S), "none of the 2 recipients");
    CHECK_EQ_INT(smtp_noop(&S), SMTP_OK);
    smtp_close(&S);
}

TEST(pipelined_group_all_refused)
{
    smtp_config cfg;
    smtp_message m;
    smtp_rcpt_result res[2];
    const char *to[] = { "refuse1@x.org", "refuse2@x.org", NULL };
    fake_reset();
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    memset(&m, 0, sizeof m);
    m.from = "x@example.com"; m.to = to; m.text = "hi"; m.results = res; m.results_cap = 2;
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_ERR_REPLY);
    /* one write: MAIL, both RCPTs and DATA together (RFC 2920) */
    CHECK_EQ_INT(fake_count("MAIL FROM:<x@example.com>\r\nRCPT TO:<refuse1@x.org>\r\nRCPT TO:<refuse2@x.org>\r\nDATA\r\n"), 1);
    CHECK_EQ_INT(F.messages, 0);
    CHECK_EQ_INT(fake_count("RSET\r\n"), 1);             /* the refused DATA left a transaction open */
    CHECK_EQ_INT(res[0].code, 550);
    CHECK_EQ_INT(res[1].code, 550);
    CHECK_CONTAINS(smtp_error_detail(&S), "550 5.1.1");
    CHECK_EQ_INT(smtp_noop(&S), SMTP_OK);
    smtp_close(&S);
}

TEST(batch_pipelines_across_messages)
{
    smtp_config cfg;
    smtp_message m[4];
    smtp_result res[4];
    const char *to1[] = { "a@x.org", NULL }, *to2[] = { "b@x.org", "refuse@x.org", NULL }, *bad[] = { "no-at-sign", NULL };
    int i;
    int pass;
    for (pass = 0; pass < 2; pass++) {   /* 0: the default, one transaction at a time; 1: pipeline_messages */
    fake_reset();
    F.data_reply = "554 5.7.1 rejected\r\n"; F.data_reply_at = 3;   /* the third message that arrives */
    memset(&cfg, 0, sizeof cfg);
    cfg.pipeline_messages = pass;
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    memset(m, 0, sizeof m);
    for (i = 0; i < 4; i++) { m[i].from = "s@x.org"; m[i].to = to1; m[i].text = "batch"; }
    m[1].to = to2;          /* partial */
    m[2].to = bad;          /* refused before a byte: PARAM, and the batch goes on */
    F.writes = 0;
    CHECK_EQ_INT(smtp_send_batch(&S, m, 4, res), SMTP_ERR_REPLY);
    CHECK_EQ_INT(res[0], SMTP_OK);
    CHECK_EQ_INT(res[1], SMTP_PARTIAL);
    CHECK_EQ_INT(res[2], SMTP_ERR_PARAM);
    CHECK_EQ_INT(res[3], SMTP_ERR_REPLY);    /* its final reply was 554 */
    CHECK_EQ_INT(F.messages, 3);
    CHECK_EQ_INT(fake_count("no-at-sign"), 0);
    if (pass) {   /* the end of one message and the next envelope went out in one write */
        CHECK_EQ_INT(fake_count("\r\n.\r\nMAIL FROM:<s@x.org>\r\nRCPT TO:<"), 2);
        CHECK_EQ_INT(F.writes, 4);            /* envelope 1; dot 1 + envelope 2; dot 2 + envelope 4; dot 4 */
    } else {      /* never anything after the end of data before its reply (Dovecot, Haraka, chasquid) */
        CHECK_EQ_INT(F.writes, 6);            /* envelope, then the dot alone, for each of the three */
    }
    CHECK_EQ_INT(smtp_noop(&S), SMTP_OK);
    smtp_close(&S);
    }
}

TEST(bdat_chunks_and_a_refused_chunk)
{
    smtp_config cfg;
    smtp_message m;
    smtp_rcpt_result res[1];
    const char *to[] = { "a@x.org", NULL };
    static char body[60000];
    size_t i;
    for (i = 0; i < sizeof body - 1; i++) body[i] = (i % 61 == 0) ? '\n' : (i % 61 == 1 ? '.' : 'x');
    fake_reset();
    F.ehlo_reply = "250-fake.test\r\n250-PIPELINING\r\n250 CHUNKING\r\n";
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    memset(&m, 0, sizeof m);
    m.from = "x@example.com"; m.to = to; m.text = body; m.results = res; m.results_cap = 1;
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_OK);
    CHECK_EQ_INT(F.messages, 1);
    CHECK(F.chunks >= 4);                                  /* 60 KB in 16 KB chunks */
    CHECK_EQ_INT(fake_count("DATA\r\n"), 0);
    CHECK(memmem(F.msg, F.msglen, "\r\n.xxx", 6) != NULL);  /* no dot-stuffing in BDAT */
    CHECK(memmem(F.msg, F.msglen, "\r\n..", 4) == NULL);
    /* the second chunk refused: no more chunks, nothing counted as sent, RSET, the session goes on */
    F.refuse_chunk = 2;
    i = (size_t)fake_count("BDAT");
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_ERR_REPLY);
    CHECK_EQ_INT(F.messages, 1);
    CHECK(fake_count("BDAT") - (int)i <= 3);            /* the refused one, maybe one more in flight */
    CHECK_EQ_INT(fake_count(" LAST\r\n"), 1);             /* the refused message never got its LAST */
    CHECK_EQ_INT(res[0].accepted, 0);
    CHECK_EQ_INT(res[0].code, 552);
    CHECK_EQ_STR(res[0].status, "5.3.4");
    CHECK_EQ_INT(fake_count("RSET\r\n"), 1);
    CHECK_EQ_INT(smtp_noop(&S), SMTP_OK);
    smtp_close(&S);
}

TEST(refused_data_then_rset)
{
    smtp_config cfg;
    smtp_message m;
    smtp_rcpt_result res[1];
    const char *to[] = { "a@x.org", NULL };
    fake_reset();
    F.refuse_data = 1;
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    memset(&m, 0, sizeof m);
    m.from = "x@example.com"; m.to = to; m.text = "hi"; m.results = res; m.results_cap = 1;
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_ERR_REPLY);
    CHECK_EQ_INT(res[0].accepted, 0);
    CHECK_EQ_INT(res[0].code, 554);
    CHECK_EQ_INT(fake_count("RSET\r\n"), 1);
    CHECK_EQ_INT(smtp_noop(&S), SMTP_OK);
    smtp_close(&S);
}

TEST(final_reply_refused_counts_nothing)
{
    smtp_config cfg;
    smtp_message m;
    smtp_rcpt_result res[1];
    const char *to[] = { "a@x.org", NULL };
    fake_reset();
    F.data_reply = "554 5.7.1 spam\r\n";
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    memset(&m, 0, sizeof m);
    m.from = "x@example.com"; m.to = to; m.text = "hi"; m.results = res; m.results_cap = 1;
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_ERR_REPLY);
    CHECK_EQ_INT(res[0].accepted, 0);
    CHECK_EQ_INT(res[0].code, 554);
    CHECK_EQ_STR(res[0].status, "5.7.1");
    CHECK_EQ_INT(fake_count("RSET\r\n"), 0);   /* the transaction ended with the final reply */
    smtp_close(&S);
}

TEST(injection_is_param_before_any_byte)
{
    smtp_config cfg;
    smtp_message m;
    const char *to[] = { "ok@x.org", "a@b\r\nRCPT TO:<x@y>", NULL };
    size_t before;
    fake_reset();
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    before = F.outlen;
    memset(&m, 0, sizeof m);
    m.from = "x@example.com"; m.to = to; m.text = "hi";
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_ERR_PARAM);
    CHECK_CONTAINS(smtp_error_detail(&S), "message.to[1]");
    to[1] = NULL;
    m.subject = "hi\r\nBcc: evil@x.org";
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_ERR_PARAM);
    CHECK_CONTAINS(smtp_error_detail(&S), "subject");
    m.subject = NULL; m.from = NULL;
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_ERR_PARAM);
    CHECK_CONTAINS(smtp_error_detail(&S), "from");
    m.from = "x@example.com"; m.envelope_from = "a@b\nc";
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_ERR_PARAM);
    m.envelope_from = NULL; m.to = NULL;
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_ERR_PARAM);
    CHECK_CONTAINS(smtp_error_detail(&S), "no recipient");
    CHECK_EQ_INT(smtp_send(&S, NULL), SMTP_ERR_PARAM);
    CHECK_EQ_INT(smtp_mail_from(&S, "a@b>\r\nDATA"), SMTP_ERR_PARAM);
    CHECK_EQ_INT(smtp_mail_from(&S, NULL), SMTP_ERR_PARAM);
    CHECK_EQ_INT(F.outlen, before);                        /* not one byte went out */
    CHECK_EQ_INT(smtp_noop(&S), SMTP_OK);                  /* and the session is fine */
    smtp_close(&S);
}

TEST(null_sender_and_envelope)
{
    smtp_config cfg;
    smtp_message m;
    const char *to[] = { "postmaster", NULL };
    fake_reset();
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    memset(&m, 0, sizeof m);
    m.from = "Daemon <daemon@x.org>"; m.envelope_from = ""; m.to = to; m.text = "bounce";
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_OK);
    CHECK_EQ_INT(fake_count("MAIL FROM:<>\r\n"), 1);
    CHECK_EQ_INT(fake_count("RCPT TO:<postmaster>\r\n"), 1);
    smtp_close(&S);
}

TEST(code_421_ends_the_session)
{
    smtp_config cfg;
    size_t before;
    fake_reset();
    F.rcpt_421 = 1;
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(smtp_mail_from(&S, "a@b.c"), SMTP_OK);
    CHECK_EQ_INT(smtp_rcpt_to(&S, "x@y.z"), SMTP_ERR_CLOSED);
    CHECK_EQ_INT(smtp_last_reply(&S)->code, 421);
    CHECK_CONTAINS(smtp_error_detail(&S), "421 4.3.2 shutting down");
    before = F.outlen;
    CHECK_EQ_INT(smtp_noop(&S), SMTP_ERR_CLOSED);          /* sticky, no I/O */
    CHECK_EQ_INT(smtp_rset(&S), SMTP_ERR_CLOSED);
    CHECK_EQ_INT(F.outlen, before);
    CHECK_EQ_INT(smtp_close(&S), SMTP_ERR_CLOSED);
    CHECK_EQ_INT(F.outlen, before);                        /* no QUIT on a dead session */
}

TEST(unsolicited_bytes_are_protocol_error)
{
    smtp_config cfg;
    fake_reset();
    fake_queue("250 nobody asked\r\n");
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_ERR_PROTOCOL);
    CHECK_CONTAINS(smtp_error_detail(&S), "answer nothing");
    CHECK_EQ_INT(fake_count("EHLO"), 0);
    smtp_close(&S);
}

TEST(helo_fallback)
{
    smtp_config cfg;
    fake_reset();
    F.ehlo_reply = "502 5.5.1 EHLO not implemented\r\n";
    memset(&cfg, 0, sizeof cfg);
    cfg.helo_name = "client.example.org";
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(fake_count("EHLO client.example.org\r\nHELO client.example.org\r\n"), 1);
    CHECK_EQ_INT(smtp_extensions(&S), 0);
    smtp_close(&S);
}

TEST(ehlo_learned_and_last_reply)
{
    smtp_config cfg;
    fake_reset();
    F.ehlo_reply = "250-fake.test greets you\r\n250-SIZE 52428800\r\n250-AUTH=LOGIN\r\n250-AUTH PLAIN CRAM-MD5\r\n250 CHUNKING\r\n";
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(smtp_size_limit(&S), 52428800);
    CHECK_EQ_INT(smtp_supported_auth(&S), SMTP_AUTH_LOGIN | SMTP_AUTH_PLAIN | SMTP_AUTH_CRAM_MD5);
    CHECK_EQ_INT(smtp_extensions(&S), SMTP_EXT_SIZE | SMTP_EXT_AUTH | SMTP_EXT_CHUNKING);
    CHECK_EQ_INT(smtp_last_reply(&S)->lines, 5);
    CHECK_EQ_INT(smtp_noop(&S), SMTP_OK);
    CHECK_EQ_INT(smtp_last_reply(&S)->code, 250);
    CHECK_EQ_STR(smtp_last_reply(&S)->status, "2.0.0");
    CHECK_EQ_STR(smtp_last_reply(&S)->text, "Ok");
    smtp_close(&S);
}

TEST(state_errors)
{
    smtp_config cfg;
    fake_reset();
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(smtp_data_write(&S, "x", 1), SMTP_ERR_STATE);
    CHECK_EQ_INT(smtp_data_end(&S), SMTP_ERR_STATE);
    CHECK_EQ_INT(smtp_rcpt_to(&S, "a@b.c"), SMTP_ERR_STATE);
    CHECK_EQ_INT(smtp_data_begin(&S), SMTP_ERR_STATE);
    CHECK_EQ_INT(smtp_mail_from(&S, "a@b.c"), SMTP_OK);
    CHECK_EQ_INT(smtp_mail_from(&S, "a@b.c"), SMTP_ERR_STATE);
    CHECK_EQ_INT(smtp_data_begin(&S), SMTP_ERR_STATE);     /* no recipient yet */
    CHECK_EQ_INT(smtp_rcpt_to(&S, "refuse@b.c"), SMTP_ERR_REPLY);
    CHECK_EQ_INT(smtp_rcpt_to(&S, "ok@b.c"), SMTP_OK);
    CHECK_EQ_INT(smtp_data_begin(&S), SMTP_OK);
    CHECK_EQ_INT(smtp_noop(&S), SMTP_ERR_STATE);
    CHECK_EQ_INT(smtp_data_write(&S, "a\n.b", 4), SMTP_OK);
    CHECK_EQ_INT(smtp_data_end(&S), SMTP_OK);
    CHECK_EQ_MEM(F.msg, F.msglen, "a\r\n..b\r\n", 8);
    CHECK_EQ_INT(smtp_close(&S), SMTP_OK);
    CHECK_EQ_INT(smtp_close(&S), SMTP_OK);                 /* twice is harmless */
    CHECK_EQ_INT(smtp_noop(&S), SMTP_ERR_STATE);
}

TEST(unsupported_and_bad_config)
{
    smtp_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.host = "127.0.0.1";
#ifdef SMTP_NO_TLS
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_UNSUPPORTED);     /* AUTO is TLS */
    CHECK_CONTAINS(smtp_error_detail(&S), "SMTP_SECURITY_NONE");
    smtp_close(&S);
    cfg.security = SMTP_SECURITY_IMPLICIT;
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_UNSUPPORTED);
    CHECK_CONTAINS(smtp_error_detail(&S), "SMTP_NO_TLS");
    smtp_close(&S);
    {
        smtp_trust *t = (smtp_trust *)&cfg;
        CHECK_EQ_INT(smtp_trust_load_system(&t, NULL, 0), SMTP_ERR_UNSUPPORTED);
        CHECK(t == NULL);
    }
#else
    smtp_config_set_tls_versions_unsafe(&cfg, SMTP_TLS_1_2 | SMTP_TLS_1_3);
    cfg.port = 1;
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_UNSUPPORTED);     /* before connecting */
    CHECK_CONTAINS(smtp_error_detail(&S), "TLS 1.3");
    smtp_close(&S);
    cfg.tls_versions = 0;
#endif
    cfg.security = SMTP_SECURITY_NONE;
    cfg.proxy.type = SMTP_PROXY_SOCKS5;
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PARAM);
    CHECK_CONTAINS(smtp_error_detail(&S), "cfg.proxy.host");
    {
        static char long_user[300];
        memset(long_user, 'u', 256);
        cfg.proxy.host = "127.0.0.1"; cfg.proxy.port = 1080; cfg.proxy.username = long_user;
        CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PARAM);          /* RFC 1929: 255 at most */
        CHECK_CONTAINS(smtp_error_detail(&S), "255");
        cfg.proxy.username = "a\r\nb";
        CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PARAM);
        cfg.proxy.type = SMTP_PROXY_HTTP; cfg.proxy.username = "a:b";
        CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PARAM);          /* Basic: no ':' in the user */
        cfg.proxy.type = SMTP_PROXY_SOCKS4; cfg.proxy.username = "id"; cfg.proxy.password = "pw";
        CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PARAM);          /* SOCKS4 has no password */
        cfg.proxy.password = NULL; cfg.proxy.port = 0;
        CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PARAM);
        cfg.proxy.port = 1080; cfg.host = "::1";
        CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PARAM);          /* SOCKS4 is IPv4 only */
        cfg.host = "127.0.0.1"; cfg.proxy.username = NULL; cfg.proxy.host = NULL;
    }
    cfg.proxy.type = SMTP_PROXY_NONE;
    cfg.username = "u";
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PARAM);        /* no password */
    CHECK_CONTAINS(smtp_error_detail(&S), "cfg.password");
    cfg.password = "p\r\nMAIL FROM:<x@y>";
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PARAM);
    cfg.password = NULL;
    CHECK_EQ_INT(smtp_open(&S, NULL), SMTP_ERR_PARAM);
    cfg.username = NULL; cfg.host = "a\r\nb";
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PARAM);
    cfg.host = "127.0.0.1"; cfg.helo_name = "two words";
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PARAM);
    CHECK_CONTAINS(smtp_error_detail(&S), "helo_name");
    CHECK_EQ_INT(smtp_close(&S), SMTP_ERR_PARAM);   /* the error that ended it */
}

static char trace_buf[4096];
static void tracer(void *user, smtp_trace_dir d, const char *p, size_t n)
{
    size_t l = strlen(trace_buf);
    (void)user;
    if (d == SMTP_TRACE_BODY) return;
    snprintf(trace_buf + l, sizeof trace_buf - l, "%s%.*s\n", d == SMTP_TRACE_OUT ? "C: " : "S: ", (int)n, p);
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

TEST(date_format)
{
    char d[64];
    smtp__date(d, sizeof d, (time_t)1700000000);   /* 2023-11-14 22:13:20 UTC, a Tuesday */
    CHECK_EQ_STR(d, "Tue, 14 Nov 2023 22:13:20 +0000");
    smtp__date(d, sizeof d, (time_t)0);
    CHECK_EQ_STR(d, "Thu, 01 Jan 1970 00:00:00 +0000");
}

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

/* ---- MD5, HMAC-MD5, CRAM-MD5 ------------------------------------------- */

static void md5_hex(const void *p, size_t n, size_t piece, char *hex)
{
    smtp__md5 m;
    unsigned char d[16];
    size_t off;
    int i;
    smtp__md5_init(&m);
    for (off = 0; off < n; off += piece) smtp__md5_update(&m, (const char *)p + off, off + piece > n ? n - off : piece);
    smtp__md5_final(&m, d);
    for (i = 0; i < 16; i++) sprintf(hex + 2 * i, "%02x", d[i]);
}

TEST(md5_rfc1321_suite_and_padding)
{
    static const char *suite[][2] = {
        { "", "d41d8cd98f00b204e9800998ecf8427e" }, { "a", "0cc175b9c0f1b6a831c399e269772661" },
        { "abc", "900150983cd24fb0d6963f7d28e17f72" }, { "message digest", "f96b697d7cb7938d525a2f31aaf161d0" },
        { "abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b" },
        { "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f" },
        { "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
          "57edf4a22be3c955ac49da2e2107b67a" } };
    static const struct { size_t n; const char *hex; } pad[] = {
        { 55, "ef1772b6dff9a122358552954ad0df65" }, { 56, "3b0c8ac703f828b04c6c197006d17218" },
        { 63, "b06521f39153d618550606be297466d5" }, { 64, "014842d480b571495a4a0363793f7367" },
        { 65, "c743a45e0d2e6a95cb859adae0248435" }, { 127, "020406e1d05cdc2aa287641f7ae2cc39" },
        { 128, "e510683b3f5ffe4093d021808bc6ff70" }, { 1000000, "7707d6ae4e027c70eea2a935c2296f21" } };
    static char a[1000000];
    char hex[33];
    size_t i, piece;
    for (i = 0; i < sizeof suite / sizeof *suite; i++)
        for (piece = 1; piece <= 100; piece += 33) {
            md5_hex(suite[i][0], strlen(suite[i][0]), piece, hex);
            CHECK_EQ_STR(hex, suite[i][1]);
        }
    memset(a, 'a', sizeof a);
    for (i = 0; i < sizeof pad / sizeof *pad; i++) {
        md5_hex(a, pad[i].n, pad[i].n, hex);
        CHECK_EQ_STR(hex, pad[i].hex);
        md5_hex(a, pad[i].n, 7, hex);             /* in pieces across block edges */
        CHECK_EQ_STR(hex, pad[i].hex);
    }
}

TEST(hmac_md5_rfc2202)
{
    static unsigned char k1[16], k3[16], d3[50], k4[25], d4[50], k5[16], k67[80];
    static const char *want[] = { "9294727a3638bb1c13f48ef8158bfc9d", "750c783e6ab0b503eaa86e310a5db738",
        "56be34521d144c88dbb8c733f0e8b3f6", "697eaf0aca3a3aea3a75164746ffaa79", "56461ef2342edc00f9bab995690efd4c",
        "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd", "6f630fad67cda0ee1fb1f562db3aa53e" };
    const char *t6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    const char *t7 = "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data";
    unsigned char d[16];
    char hex[33];
    int c, i;
    memset(k1, 0x0b, 16); memset(k3, 0xaa, 16); memset(d3, 0xdd, 50);
    for (i = 0; i < 25; i++) k4[i] = (unsigned char)(i + 1);
    memset(d4, 0xcd, 50); memset(k5, 0x0c, 16); memset(k67, 0xaa, 80);
    for (c = 0; c < 7; c++) {
        switch (c) {
        case 0: smtp__hmac_md5(k1, 16, "Hi There", 8, d); break;
        case 1: smtp__hmac_md5("Jefe", 4, "what do ya want for nothing?", 28, d); break;
        case 2: smtp__hmac_md5(k3, 16, d3, 50, d); break;
        case 3: smtp__hmac_md5(k4, 25, d4, 50, d); break;
        case 4: smtp__hmac_md5(k5, 16, "Test With Truncation", 20, d); break;
        case 5: smtp__hmac_md5(k67, 80, t6, strlen(t6), d); break;
        default: smtp__hmac_md5(k67, 80, t7, strlen(t7), d); break;
        }
        for (i = 0; i < 16; i++) sprintf(hex + 2 * i, "%02x", d[i]);
        CHECK_EQ_STR(hex, want[c]);
    }
}

TEST(cram_md5_rfc2195)
{
    const char *ch = "<1896.697170952@postoffice.reston.mci.net>";
    unsigned char out[100];
    size_t n = smtp__sasl_cram("tim", "tanstaaftanstaaf", (const unsigned char *)ch, strlen(ch), out, sizeof out);
    CHECK_EQ_MEM(out, n, "tim b913a602c7eda7a495b4e6e7334d3890", 36);
}

TEST(base64_decoding_is_strict)
{
    unsigned char out[64];
    CHECK_EQ_INT(smtp__unb64("Zm9vYmFy", 8, out), 6);
    CHECK_EQ_MEM(out, 6, "foobar", 6);
    CHECK_EQ_INT(smtp__unb64("Zm8=", 4, out), 2);
    CHECK_EQ_INT(smtp__unb64("Zg==", 4, out), 1);
    CHECK_EQ_INT(smtp__unb64("", 0, out), 0);
    CHECK_EQ_INT(smtp__unb64("Zm9", 3, out), -1);          /* not a multiple of 4 */
    CHECK_EQ_INT(smtp__unb64("Zm*v", 4, out), -1);
    CHECK_EQ_INT(smtp__unb64("Z===", 4, out), -1);
    CHECK_EQ_INT(smtp__unb64("Zg==Zg==", 8, out), -1);     /* padding in the middle */
    CHECK_EQ_INT(smtp__unb64("Zm 9", 4, out), -1);
}

/* ---- AUTH over the scripted peer ---------------------------------------- */

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

/* ---- proxy reply parsers -------------------------------------------------- */

TEST(proxy_reply_parsers)
{
    smtp__preply r;
    const unsigned char s4[] = { 0, 90, 0, 25, 127, 0, 0, 1, 'x' }, s4bad[] = { 4, 90, 0, 0, 0, 0, 0, 0 };
    const unsigned char v4[] = { 5, 0, 0, 1, 127, 0, 0, 1, 0, 25, '2', '2', '0' };
    const unsigned char name[] = { 5, 5, 0, 3, 9, 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't', 0, 25 };
    const unsigned char v6[] = { 5, 0, 0, 4, 0,0,0,0, 0,0,0,0, 0,0,0,0, 0,0,0,1, 0, 25 };
    const unsigned char badatyp[] = { 5, 0, 0, 9, 0, 0, 0, 0, 0, 0 };
    const char *http = "HTTP/1.0 200 Connection established\r\nProxy-agent: tinyproxy/1.11.1\r\n\r\n220 greeting\r\n";
    const char *h407 = "HTTP/1.1 407 Proxy Authentication Required\r\n\r\n";
    size_t k, hl = strlen(http) - 14;
    memset(&r, 0, sizeof r);
    for (k = 0; k < 8; k++) CHECK_EQ_INT(smtp__socks4_reply(s4, k, &r), 0);
    CHECK_EQ_INT(smtp__socks4_reply(s4, sizeof s4, &r), 8);
    CHECK_EQ_INT(r.status, 90);
    CHECK_EQ_INT(smtp__socks4_reply(s4bad, 8, &r), SMTP_ERR_PROTOCOL);
    for (k = 0; k < 10; k++) CHECK_EQ_INT(smtp__socks5_reply(v4, k, &r), 0);
    CHECK_EQ_INT(smtp__socks5_reply(v4, sizeof v4, &r), 10);     /* not one byte of the greeting */
    CHECK_EQ_INT(r.status, 0);
    for (k = 0; k < sizeof name; k++) CHECK_EQ_INT(smtp__socks5_reply(name, k, &r), 0);
    CHECK_EQ_INT(smtp__socks5_reply(name, sizeof name, &r), 16);
    CHECK_EQ_INT(r.status, 5);
    CHECK_EQ_INT(smtp__socks5_reply(v6, sizeof v6, &r), 22);
    CHECK_EQ_INT(smtp__socks5_reply(badatyp, sizeof badatyp, &r), SMTP_ERR_PROTOCOL);
    r.ver = 5;   /* SOCKS5's method selection */
    CHECK_EQ_INT(smtp__socks5_two((const unsigned char *)"\x05\xff", 1, &r), 0);
    CHECK_EQ_INT(smtp__socks5_two((const unsigned char *)"\x05\xff", 2, &r), 2);
    CHECK_EQ_INT(r.status, 0xFF);
    CHECK_EQ_INT(smtp__socks5_two((const unsigned char *)"\x04\x00", 2, &r), SMTP_ERR_PROTOCOL);
    r.ver = 1;   /* RFC 1929's status */
    CHECK_EQ_INT(smtp__socks5_two((const unsigned char *)"\x01\x01", 2, &r), 2);
    CHECK_EQ_INT(r.status, 1);
    CHECK_EQ_INT(smtp__socks5_two((const unsigned char *)"\x05\x00", 2, &r), SMTP_ERR_PROTOCOL);
    for (k = 0; k < hl; k++) CHECK_EQ_INT(smtp__http_reply((const unsigned char *)http, k, &r), 0);
    CHECK_EQ_INT(smtp__http_reply((const unsigned char *)http, strlen(http), &r), (long)hl);
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_STR(r.reason, "Connection established");
    CHECK_EQ_INT(smtp__http_reply((const unsigned char *)h407, strlen(h407), &r), (long)strlen(h407));
    CHECK_EQ_INT(r.status, 407);
    CHECK_EQ_INT(smtp__http_reply((const unsigned char *)"HTTP/1.1 2x0 no\r\n\r\n", 19, &r), SMTP_ERR_PROTOCOL);
    CHECK_EQ_INT(smtp__http_reply((const unsigned char *)"SSH-2.0-x\r\n\r\n", 13, &r), SMTP_ERR_PROTOCOL);
    CHECK_EQ_INT(smtp__http_reply((const unsigned char *)"HTTP/1.1 200 OK\n\n", 17, &r), 17);
    {
        static char big[9000];
        memset(big, 'x', sizeof big);
        memcpy(big, "HTTP/1.1 200 OK\r\n", 17);
        CHECK_EQ_INT(smtp__http_reply((const unsigned char *)big, sizeof big, &r), SMTP_ERR_PROTOCOL);
    }
}

/* ---- the msmtp configuration file and URLs ------------------------------ */

static const char *write_conf(const char *text, int mode)
{
    static char path[64];
    FILE *f;
    snprintf(path, sizeof path, "/tmp/smtp-unit-%d.conf", (int)getpid());
    f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    chmod(path, (mode_t)mode);
    return path;
}

static const char *CONF =
    "# an msmtp file\n"
    "defaults\n"
    "auth on\n"
    "tls on\n"
    "tls_trust_file /etc/ssl/certs/ca-certificates.crt\n"
    "logfile ~/.msmtp.log\n"
    "timeout 20\n"
    "\n"
    "account base\n"
    "host mail.example.com\n"
    "port 587\n"
    "from base@example.com\n"
    "user \"base user\"\n"
    "password \"pa ss\\\"word\"\n"
    "\n"
    "account work : base\n"
    "from work@example.com\n"
    "auth cram-md5\n"
    "\n"
    "account plain\n"
    "host 127.0.0.1\n"
    "port 2525\n"
    "tls off\n"
    "proxy_host 127.0.0.1\n"
    "proxy_type http\n"
    "proxy_port 3128\n"
    "source_ip 127.0.0.2\n"
    "domain client.example\n"
    "greeting_timeout 5\n"
    "\n"
    "account implicit : base\n"
    "tls_starttls off\n"
    "tls_min_version 1.1\n"
    "tls_max_version 1.3\n"
    "passwordeval \"pass show mail\"\n"
    "\n"
    "account default : work\n";

TEST(config_file_accounts)
{
    smtp_settings st;
    const char *path = write_conf(CONF, 0600);
    CHECK_EQ_INT(smtp_config_load(&st, path, NULL), SMTP_OK);
    CHECK_EQ_STR(st.account, "default");
    CHECK_EQ_STR(st.cfg.host, "mail.example.com");
    CHECK_EQ_INT(st.cfg.port, 587);
    CHECK_EQ_STR(st.cfg.from, "work@example.com");              /* the child wins */
    CHECK_EQ_STR(st.cfg.username, "base user");
    CHECK_EQ_STR(st.cfg.password, "pa ss\"word");
    CHECK_EQ_INT(st.cfg.allowed_auth, SMTP_AUTH_CRAM_MD5);
    CHECK_EQ_INT(st.cfg.security, SMTP_SECURITY_STARTTLS);
    CHECK_EQ_STR(st.cfg.ca_file, "/etc/ssl/certs/ca-certificates.crt");
    CHECK_EQ_INT(st.cfg.timeout_ms, 20000);
    CHECK_CONTAINS(st.notes, ":6: logfile ignored");
    smtp_settings_free(&st);
    CHECK_EQ_INT(smtp_config_load(&st, path, "plain"), SMTP_OK);
    CHECK_EQ_INT(st.cfg.security, SMTP_SECURITY_NONE);
    CHECK_EQ_INT(st.cfg.proxy.type, SMTP_PROXY_HTTP);
    CHECK_EQ_INT(st.cfg.proxy.port, 3128);
    CHECK_EQ_STR(st.cfg.local_address, "127.0.0.2");
    CHECK_EQ_STR(st.cfg.helo_name, "client.example");
    CHECK_EQ_INT(st.cfg.greeting_timeout_ms, 5000);
    CHECK_EQ_INT(st.cfg.timeout_ms, 20000);                     /* from defaults */
    CHECK(st.cfg.username == NULL);
    smtp_settings_free(&st);
    CHECK_EQ_INT(smtp_config_load(&st, path, "implicit"), SMTP_OK);
    CHECK_EQ_INT(st.cfg.security, SMTP_SECURITY_IMPLICIT);
    CHECK_EQ_INT(st.cfg.tls_versions, SMTP_TLS_1_1 | SMTP_TLS_1_2);   /* 1.3 dropped */
    CHECK_EQ_STR(st.passwordeval, "pass show mail");
    CHECK_EQ_STR(st.cfg.from, "base@example.com");
    smtp_settings_free(&st);
    /* no tls line: our default (AUTO, TLS required), not msmtp's cleartext */
    path = write_conf("account default\nhost h.example\n", 0644);
    CHECK_EQ_INT(smtp_config_load(&st, path, NULL), SMTP_OK);
    CHECK_EQ_INT(st.cfg.security, SMTP_SECURITY_AUTO);
    CHECK_EQ_STR(st.notes, "");
    smtp_settings_free(&st);
    unlink(path);
}

TEST(config_file_errors)
{
    static const struct { const char *text; const char *says; } bad[] = {
        { "account a\nhost h\nfrobnicate yes\n", ":3: unknown key \"frobnicate\"" },
        { "account a\nport 99999\n", ":2: port: takes 1..65535 (got \"99999\")" },
        { "account a\nhost \"unterminated\n", ":2: unterminated quote" },
        { "account a\nhost h\n", "no account \"default\"" },
        { "account a : a\nhost h\naccount default : a\n", ":1: account \"a\" inherits from itself" },
        { "account a : b\naccount b : a\naccount default : a\n", "inherits from itself" },
        { "account a : nosuch\naccount default : a\n", "\"nosuch\", which is not defined" },
        { "host h\n", ":1: host: outside any account" },
        { "account default\ntls maybe\n", ":2: tls: takes on|off (got \"maybe\")" },
        { "account default\ntimeout soon\n", ":2: timeout:" },
        { "account default\ntls_fingerprint 12:34\n", "SHA-256" },
    };
    smtp_settings st;
    size_t i;
    for (i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *path = write_conf(bad[i].text, 0600);
        CHECK_EQ_INT(smtp_config_load(&st, path, NULL), SMTP_ERR_CONFIG);
        CHECK_CONTAINS(st.detail, bad[i].says);
        CHECK_CONTAINS(st.detail, path);
        smtp_settings_free(&st);
    }
    /* a password in a file others can read: refused, as msmtp does */
    {
        const char *path = write_conf("account default\nhost h\npassword secret\n", 0644);
        CHECK_EQ_INT(smtp_config_load(&st, path, NULL), SMTP_ERR_CONFIG);
        CHECK_CONTAINS(st.detail, "chmod 600");
        smtp_settings_free(&st);
        chmod(path, 0600);
        CHECK_EQ_INT(smtp_config_load(&st, path, NULL), SMTP_OK);
        smtp_settings_free(&st);
        unlink(path);
    }
    CHECK_EQ_INT(smtp_config_load(&st, "/nonexistent/msmtprc", NULL), SMTP_ERR_CONFIG);
    CHECK_CONTAINS(st.detail, "/nonexistent/msmtprc");
    smtp_settings_free(&st);
}

TEST(url_table)
{
    static const struct {
        const char *url; smtp_result r; smtp_security sec; const char *host; int port;
        const char *user, *pass, *helo; int timeout;
    } t[] = {
        { "smtps://user%40x:p%3Ass@mail.example.com:465/client.example?timeout=30", SMTP_OK, SMTP_SECURITY_IMPLICIT,
          "mail.example.com", 465, "user@x", "p:ss", "client.example", 30000 },
        { "smtp://[::1]:2525?security=none", SMTP_OK, SMTP_SECURITY_NONE, "::1", 2525, NULL, NULL, NULL, 0 },
        { "smtp://mail.example.com", SMTP_OK, SMTP_SECURITY_STARTTLS, "mail.example.com", 0, NULL, NULL, NULL, 0 },
        { "SMTP://bob@h.example:587/", SMTP_OK, SMTP_SECURITY_STARTTLS, "h.example", 587, "bob", NULL, NULL, 0 },
        { "smtp://a:b@c@h.example?security=starttls-if-available&connect_timeout=3", SMTP_OK,
          SMTP_SECURITY_STARTTLS_IF_AVAILABLE, "h.example", 0, "a", "b@c", NULL, 0 },
        { "http://h.example", SMTP_ERR_CONFIG, SMTP_SECURITY_AUTO, NULL, 0, NULL, NULL, NULL, 0 },
        { "smtp://", SMTP_ERR_CONFIG, SMTP_SECURITY_AUTO, NULL, 0, NULL, NULL, NULL, 0 },
        { "smtp://h:99999", SMTP_ERR_CONFIG, SMTP_SECURITY_AUTO, NULL, 0, NULL, NULL, NULL, 0 },
        { "smtp://h:abc", SMTP_ERR_CONFIG, SMTP_SECURITY_AUTO, NULL, 0, NULL, NULL, NULL, 0 },
        { "smtp://[::1", SMTP_ERR_CONFIG, SMTP_SECURITY_AUTO, NULL, 0, NULL, NULL, NULL, 0 },
        { "smtp://u:%zz@h", SMTP_ERR_CONFIG, SMTP_SECURITY_AUTO, NULL, 0, NULL, NULL, NULL, 0 },
        { "smtp://u:%0d%0a@h", SMTP_ERR_CONFIG, SMTP_SECURITY_AUTO, NULL, 0, NULL, NULL, NULL, 0 },
        { "smtp://h?bogus=1", SMTP_ERR_CONFIG, SMTP_SECURITY_AUTO, NULL, 0, NULL, NULL, NULL, 0 },
        { "smtp://h?timeout=soon", SMTP_ERR_CONFIG, SMTP_SECURITY_AUTO, NULL, 0, NULL, NULL, NULL, 0 },
        { "smtp://h/a%00b", SMTP_ERR_CONFIG, SMTP_SECURITY_AUTO, NULL, 0, NULL, NULL, NULL, 0 },
        { "smtp://h?security", SMTP_ERR_CONFIG, SMTP_SECURITY_AUTO, NULL, 0, NULL, NULL, NULL, 0 },
    };
    size_t i;
    for (i = 0; i < sizeof t / sizeof *t; i++) {
        smtp_settings st;
        smtp_result r = smtp_config_from_url(&st, t[i].url);
        CHECK_EQ_INT(r, t[i].r);
        if (r != t[i].r) printf("    url %s: %s\n", t[i].url, st.detail);
        if (r == SMTP_OK && t[i].r == SMTP_OK) {
            CHECK_EQ_INT(st.cfg.security, t[i].sec);
            CHECK_EQ_STR(st.cfg.host, t[i].host);
            CHECK_EQ_INT(st.cfg.port, t[i].port);
            if (t[i].user) CHECK_EQ_STR(st.cfg.username, t[i].user); else CHECK(st.cfg.username == NULL);
            if (t[i].pass) CHECK_EQ_STR(st.cfg.password, t[i].pass); else CHECK(st.cfg.password == NULL);
            if (t[i].helo) CHECK_EQ_STR(st.cfg.helo_name, t[i].helo); else CHECK(st.cfg.helo_name == NULL);
            CHECK_EQ_INT(st.cfg.timeout_ms, t[i].timeout);
        } else if (r != SMTP_OK) CHECK_CONTAINS(st.detail, "URL");
        smtp_settings_free(&st);
    }
}

static unsigned long long progress_seen;
static int progress_calls;
static int on_progress(void *user, unsigned long long sent)
{
    progress_calls++;
    progress_seen = sent;
    return sent >= *(unsigned long long *)user;
}

TEST(progress_and_cancel)
{
    smtp_config cfg;
    static char body[100000];
    unsigned long long limit = ~0ull;
    memset(body, 'x', sizeof body);
    fake_reset();
    memset(&cfg, 0, sizeof cfg);
    cfg.progress = on_progress; cfg.progress_user = &limit;
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(smtp_mail_from(&S, "a@b.c"), SMTP_OK);
    CHECK_EQ_INT(smtp_rcpt_to(&S, "d@e.f"), SMTP_OK);
    CHECK_EQ_INT(smtp_data_begin(&S), SMTP_OK);
    progress_calls = 0;
    CHECK_EQ_INT(smtp_data_write(&S, body, sizeof body), SMTP_OK);
    CHECK_EQ_INT(smtp_data_end(&S), SMTP_OK);
    CHECK_EQ_INT(progress_seen, sizeof body + 5);      /* every byte, the end of data too */
    CHECK(progress_calls >= 6);
    CHECK_EQ_INT(F.messages, 1);
    /* cancelled at 32 KB: no end of data, the session is over, nothing counted as sent */
    limit = 32768;
    CHECK_EQ_INT(smtp_mail_from(&S, "a@b.c"), SMTP_OK);
    CHECK_EQ_INT(smtp_rcpt_to(&S, "d@e.f"), SMTP_OK);
    CHECK_EQ_INT(smtp_data_begin(&S), SMTP_OK);
    CHECK_EQ_INT(smtp_data_write(&S, body, sizeof body), SMTP_ERR_ABORTED);
    CHECK_EQ_INT(smtp_data_end(&S), SMTP_ERR_ABORTED);
    CHECK_CONTAINS(smtp_error_detail(&S), "cancelled");
    CHECK_EQ_INT(F.messages, 1);
    CHECK_EQ_INT(smtp_close(&S), SMTP_ERR_ABORTED);
}

TEST(settings_set_for_command_lines)
{
    smtp_settings st;
    memset(&st, 0, sizeof st);
    CHECK_EQ_INT(smtp_settings_set(&st, "host", "mail.example.com"), SMTP_OK);
    CHECK_EQ_INT(smtp_settings_set(&st, "port", "465"), SMTP_OK);
    CHECK_EQ_INT(smtp_settings_set(&st, "tls", "on"), SMTP_OK);
    CHECK_EQ_INT(smtp_settings_set(&st, "tls_starttls", "off"), SMTP_OK);
    CHECK_EQ_INT(smtp_settings_set(&st, "proxy_host", "127.0.0.1"), SMTP_OK);
    CHECK_EQ_STR(st.cfg.host, "mail.example.com");
    CHECK_EQ_INT(st.cfg.port, 465);
    CHECK_EQ_INT(st.cfg.security, SMTP_SECURITY_IMPLICIT);
    CHECK_EQ_INT(st.cfg.proxy.type, SMTP_PROXY_SOCKS5);
    CHECK_EQ_INT(st.cfg.proxy.port, 1080);
    CHECK_EQ_INT(smtp_settings_set(&st, "port", "0"), SMTP_ERR_CONFIG);
    CHECK_CONTAINS(st.detail, "port");
    CHECK_EQ_INT(smtp_settings_set(&st, "nosuchkey", "1"), SMTP_ERR_CONFIG);
    smtp_settings_free(&st);
}

/* ---- messages and extensions (issue 9) ------------------------------------ */

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

static smtp_result send_to(const char *ehlo, const char *rcpt, const char *text, smtp_message *mm)
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

TEST(smtputf8_or_a_labels)
{
    CHECK_EQ_INT(send_to("250-fake\r\n250-PIPELINING\r\n250 SMTPUTF8\r\n", "jörg@bücher.example", "hi", NULL), SMTP_OK);
    CHECK_EQ_INT(fake_count("MAIL FROM:<alice@example.com> SMTPUTF8\r\n"), 1);
    CHECK_EQ_INT(fake_count("RCPT TO:<jörg@bücher.example>\r\n"), 1);
    CHECK(memmem(F.msg, F.msglen, "To: jörg@bücher.example", 24) != NULL);
    smtp_close(&S);
    CHECK_EQ_INT(send_to("250-fake\r\n250 PIPELINING\r\n", "info@bücher.example", "hi", NULL), SMTP_OK);
    CHECK_EQ_INT(fake_count("RCPT TO:<info@xn--bcher-kva.example>\r\n"), 1);
    CHECK(memmem(F.msg, F.msglen, "To: info@xn--bcher-kva.example", 30) != NULL);
    CHECK_EQ_INT(fake_count("SMTPUTF8"), 0);
    smtp_close(&S);
    CHECK_EQ_INT(send_to("250-fake\r\n250 PIPELINING\r\n", "jörg@x.example", "hi", NULL), SMTP_ERR_UNSUPPORTED);
    CHECK_CONTAINS(smtp_error_detail(&S), "jörg@x.example");
    CHECK_CONTAINS(smtp_error_detail(&S), "local part");
    CHECK_EQ_INT(fake_count("MAIL"), 0);
    smtp_close(&S);
    CHECK_EQ_INT(send_to("250-fake\r\n250 PIPELINING\r\n", "a@Straße.example", "hi", NULL), SMTP_ERR_UNSUPPORTED);
    CHECK_CONTAINS(smtp_error_detail(&S), "Straße");
    CHECK_EQ_INT(fake_count("MAIL"), 0);
    smtp_close(&S);
}

TEST(eightbit_declared_or_encoded)
{
    smtp_config cfg;
    CHECK_EQ_INT(send_to("250-fake\r\n250-PIPELINING\r\n250 8BITMIME\r\n", "b@x.org", "grüß dich\n", NULL), SMTP_OK);
    CHECK_EQ_INT(fake_count("MAIL FROM:<alice@example.com> BODY=8BITMIME\r\n"), 1);
    CHECK(memmem(F.msg, F.msglen, "Content-Transfer-Encoding: 8bit", 31) != NULL);
    CHECK(memmem(F.msg, F.msglen, "grüß dich", 11) != NULL);
    smtp_close(&S);
    CHECK_EQ_INT(send_to("250-fake\r\n250 PIPELINING\r\n", "b@x.org", "grüß dich\n", NULL), SMTP_OK);
    CHECK_EQ_INT(fake_count("BODY="), 0);
    CHECK(memmem(F.msg, F.msglen, "quoted-printable", 16) != NULL);
    for (size_t i = 0; i < F.msglen; i++) if ((unsigned char)F.msg[i] >= 0x80) { CHECK(0); break; }
    smtp_close(&S);
    /* raw 8-bit bytes through smtp_data_write: refused unless declared, never sent damaged */
    fake_reset();
    F.ehlo_reply = "250-fake\r\n250 PIPELINING\r\n";
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(smtp_mail_from(&S, "a@b.c"), SMTP_OK);
    CHECK_EQ_INT(smtp_rcpt_to(&S, "d@e.f"), SMTP_OK);
    CHECK_EQ_INT(smtp_data_begin(&S), SMTP_OK);
    CHECK_EQ_INT(smtp_data_write(&S, "plain\n", 6), SMTP_OK);
    CHECK_EQ_INT(smtp_data_write(&S, "gr\xc3\xbc\xc3\x9f\n", 7), SMTP_ERR_UNSUPPORTED);
    CHECK_CONTAINS(smtp_error_detail(&S), "does not offer 8BITMIME");
    CHECK(memmem(F.out, F.outlen, "gr\xc3\xbc", 4) == NULL);
    CHECK_EQ_INT(F.messages, 0);
    smtp_close(&S);
    fake_reset();
    F.ehlo_reply = "250-fake\r\n250 8BITMIME\r\n";
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(smtp_mail_from_opts(&S, "a@b.c", "BODY=8BITMIME"), SMTP_OK);
    CHECK_EQ_INT(fake_count("MAIL FROM:<a@b.c> BODY=8BITMIME\r\n"), 1);
    CHECK_EQ_INT(smtp_rcpt_to(&S, "d@e.f"), SMTP_OK);
    CHECK_EQ_INT(smtp_data_begin(&S), SMTP_OK);
    CHECK_EQ_INT(smtp_data_write(&S, "gr\xc3\xbc\xc3\x9f\n", 7), SMTP_OK);
    CHECK_EQ_INT(smtp_data_end(&S), SMTP_OK);
    CHECK_EQ_INT(smtp_mail_from_opts(&S, "a@b.c", "BODY=8BITMIME\r\nRSET"), SMTP_ERR_PARAM);
    smtp_close(&S);
}

TEST(size_declared_and_enforced)
{
    static char big[5000];
    long declared;
    const char *p;
    memset(big, 'x', sizeof big - 1);
    CHECK_EQ_INT(send_to("250-fake\r\n250-PIPELINING\r\n250 SIZE 100000\r\n", "b@x.org", "short\n", NULL), SMTP_OK);
    p = memmem(F.out, F.outlen, " SIZE=", 6);
    CHECK(p != NULL);
    declared = p ? strtol(p + 6, NULL, 10) : 0;
    CHECK(declared >= (long)F.msglen && declared <= (long)F.msglen + 40);   /* the real size, a little over */
    smtp_close(&S);
    CHECK_EQ_INT(send_to("250-fake\r\n250-PIPELINING\r\n250 SIZE 1000\r\n", "b@x.org", big, NULL), SMTP_ERR_TOO_LONG);
    CHECK_CONTAINS(smtp_error_detail(&S), "at most 1000");
    CHECK_EQ_INT(fake_count("MAIL"), 0);                   /* refused before anything was sent */
    smtp_close(&S);
}

TEST(dsn_parameters)
{
    smtp_message m;
    memset(&m, 0, sizeof m);
    m.dsn_notify = "SUCCESS,FAILURE"; m.dsn_ret = "HDRS"; m.dsn_envid = "id+1=2"; m.dsn_orcpt = 1;
    CHECK_EQ_INT(send_to("250-fake\r\n250-PIPELINING\r\n250 DSN\r\n", "b@x.org", "dsn", &m), SMTP_OK);
    CHECK_EQ_INT(fake_count("MAIL FROM:<alice@example.com> RET=HDRS ENVID=id+2B1+3D2\r\n"), 1);
    CHECK_EQ_INT(fake_count("RCPT TO:<b@x.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@x.org\r\n"), 1);
    smtp_close(&S);
    CHECK_EQ_INT(send_to("250-fake\r\n250 PIPELINING\r\n", "b@x.org", "dsn", &m), SMTP_OK);
    CHECK_EQ_INT(fake_count("NOTIFY"), 0);             /* not offered: sent without, a note in the trace */
    smtp_close(&S);
    m.dsn_notify = "SOMETIMES";
    CHECK_EQ_INT(send_to("250-fake\r\n250-PIPELINING\r\n250 DSN\r\n", "b@x.org", "dsn", &m), SMTP_ERR_PARAM);
    smtp_close(&S);
}

TEST(mime_parts_and_headers)
{
    smtp_message m;
    smtp_attachment at[3];
    smtp_header hd[2];
    static char blob[1000];
    size_t i;
    for (i = 0; i < sizeof blob; i++) blob[i] = (char)i;
    memset(&m, 0, sizeof m); memset(at, 0, sizeof at);
    at[0].filename = "Übersicht €.pdf"; at[0].data = blob; at[0].size = sizeof blob;
    at[1].filename = "logo.png"; at[1].data = blob; at[1].size = 10; at[1].content_id = "logo@x";
    at[2].filename = "notes.TXT"; at[2].data = "hello"; at[2].size = 5;
    hd[0].name = "Reply-To"; hd[0].value = "\"Smith, John\" <john@example.com>";   /* a list: commas split */
    hd[1].name = "X-Mailer"; hd[1].value = "smtp.h";
    m.html = "<p>Hi <img src=\"cid:logo@x\"></p>"; m.attachments = at; m.attachment_count = 3;
    m.headers = hd; m.header_count = 2;
    m.from = "Smith, John <john@example.com>";
    CHECK_EQ_INT(send_to("250-fake\r\n250 PIPELINING\r\n", "b@x.org", "text part", &m), SMTP_OK);
    memcpy(body_buf, F.msg, F.msglen); body_buf[F.msglen] = 0;
    CHECK_CONTAINS(body_buf, "From: \"Smith, John\" <john@example.com>\r\n");
    CHECK_CONTAINS(body_buf, "Reply-To: \"Smith, John\" <john@example.com>\r\n");
    CHECK_CONTAINS(body_buf, "X-Mailer: smtp.h\r\n");
    CHECK_CONTAINS(body_buf, "Content-Type: multipart/mixed; boundary=\"=_smtph_");
    CHECK_CONTAINS(body_buf, "Content-Type: multipart/related; boundary=");
    CHECK_CONTAINS(body_buf, "Content-Type: multipart/alternative; boundary=");
    CHECK_CONTAINS(body_buf, "Content-Type: text/html; charset=utf-8");
    CHECK_CONTAINS(body_buf, "Content-Type: application/pdf; name*=UTF-8''%C3%9Cbersicht%20%E2%82%AC.pdf");
    CHECK_CONTAINS(body_buf, "Content-Disposition: attachment;\r\n filename*=UTF-8''%C3%9Cbersicht%20%E2%82%AC.pdf");   /* folded */
    CHECK_CONTAINS(body_buf, "Content-Type: image/png; name=\"logo.png\"");
    CHECK_CONTAINS(body_buf, "Content-Disposition: inline; filename=\"logo.png\"\r\nContent-ID: <logo@x>");
    CHECK_CONTAINS(body_buf, "Content-Type: text/plain; name=\"notes.TXT\"");
    CHECK_CONTAINS(body_buf, "aGVsbG8=\r\n");                 /* "hello" */
    CHECK(longest_line(F.msg, F.msglen) <= 78);
    smtp_close(&S);
    /* bad extra headers and attachments: PARAM before a byte */
    hd[0].name = "Content-Type";
    CHECK_EQ_INT(send_to("250-fake\r\n250 PIPELINING\r\n", "b@x.org", "x", &m), SMTP_ERR_PARAM);
    CHECK_EQ_INT(fake_count("MAIL"), 0);
    smtp_close(&S);
    hd[0].name = "X-Bad:Name";
    CHECK_EQ_INT(send_to("250-fake\r\n250 PIPELINING\r\n", "b@x.org", "x", &m), SMTP_ERR_PARAM);
    smtp_close(&S);
    hd[0].name = "X-Ok"; hd[0].value = "a\r\nBcc: evil@x.org";
    CHECK_EQ_INT(send_to("250-fake\r\n250 PIPELINING\r\n", "b@x.org", "x", &m), SMTP_ERR_PARAM);
    smtp_close(&S);
    hd[0].value = "fine"; at[2].path = "/nonexistent/file"; at[2].data = NULL;
    CHECK_EQ_INT(send_to("250-fake\r\n250 PIPELINING\r\n", "b@x.org", "x", &m), SMTP_ERR_PARAM);
    CHECK_CONTAINS(smtp_error_detail(&S), "/nonexistent/file");
    smtp_close(&S);
}

int main(void)
{
    RUN(reply_single_and_multi);
    RUN(reply_malformed);
    RUN(reply_split_everywhere);
    RUN(enhanced_status);
    RUN(ehlo_capabilities);
    RUN(writer_every_case_every_split);
    RUN(writer_long_and_random);
    RUN(addresses);
    RUN(base64_and_utf8_cut);
    RUN(tls_version_setters);
    RUN(result_strings);
    RUN(compose_headers_and_encodings);
    RUN(compose_7bit_and_folded_ascii_subject);
    RUN(refused_recipient_partial);
    RUN(too_many_recipients_452_continues);
    RUN(all_refused_sends_nothing);
    RUN(pipelined_group_all_refused);
    RUN(batch_pipelines_across_messages);
    RUN(bdat_chunks_and_a_refused_chunk);
    RUN(refused_data_then_rset);
    RUN(final_reply_refused_counts_nothing);
    RUN(injection_is_param_before_any_byte);
    RUN(null_sender_and_envelope);
    RUN(code_421_ends_the_session);
    RUN(unsolicited_bytes_are_protocol_error);
    RUN(helo_fallback);
    RUN(ehlo_learned_and_last_reply);
    RUN(state_errors);
    RUN(unsupported_and_bad_config);
    RUN(trace_sees_both_directions);
    RUN(date_format);
    RUN(proxy_reply_parsers);
    RUN(config_file_accounts);
    RUN(config_file_errors);
    RUN(url_table);
    RUN(progress_and_cancel);
    RUN(punycode_and_idna);
    RUN(smtputf8_or_a_labels);
    RUN(eightbit_declared_or_encoded);
    RUN(size_declared_and_enforced);
    RUN(dsn_parameters);
    RUN(mime_parts_and_headers);
    RUN(settings_set_for_command_lines);
    RUN(md5_rfc1321_suite_and_padding);
    RUN(hmac_md5_rfc2202);
    RUN(cram_md5_rfc2195);
    RUN(base64_decoding_is_strict);
    RUN(auth_plain_login_cram_payloads);
    RUN(auth_order_504_and_535);
    RUN(auth_tokens_and_their_errors);
    RUN(auth_challenge_of_12288_octets);
    RUN(auth_refused_locally);
#ifndef SMTP_NO_TLS
    RUN(pem_reader);
#endif
    return TEST_END();
}
