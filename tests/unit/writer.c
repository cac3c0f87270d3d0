/* writer.c - unit tests of smtp.h's >>writer: CRLF normalisation and dot-
   stuffing against a plain byte-at-a-time reference, and the composer
   (headers, encoded words, quoted-printable, MIME parts, Date) read back
   from what the scripted peer received. */
#include "unit.h"

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
            in[i] = (unsigned char)"ab.\r\n.x"[(x >> 16) % 7];
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
            o += b64dec(p + 10, (size_t)(q - p - 10), (unsigned char *)out + o);
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

TEST(date_format)
{
    char d[64];
    smtp__date(d, sizeof d, (time_t)1700000000);   /* 2023-11-14 22:13:20 UTC, a Tuesday */
    CHECK_EQ_STR(d, "Tue, 14 Nov 2023 22:13:20 +0000");
    smtp__date(d, sizeof d, (time_t)0);
    CHECK_EQ_STR(d, "Thu, 01 Jan 1970 00:00:00 +0000");
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

void unit_writer(void)
{
    RUN(writer_every_case_every_split);
    RUN(writer_long_and_random);
    RUN(compose_headers_and_encodings);
    RUN(compose_7bit_and_folded_ascii_subject);
    RUN(date_format);
    RUN(mime_parts_and_headers);
}
