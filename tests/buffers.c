/* buffers.c - caller input that overflowed fixed buffers in smtp.h v0.6.0
   (issue 12, the buffer audit), against the scripted peer of fake.h: a long
   Reply-To or Sender in message.headers (tok[960] in smtp__hw_addr, then
   line[1000] in smtp__hw_add), an internationalised address whose A-label
   form reaches 600 bytes while it passes every check (smtp__punycode writes
   "xn--" before it looks for room: a[600] in smtp__rcpt_line, conv[600] in
   smtp__hw_addr), and an OAUTHBEARER user name full of ',' (each "=2C", the
   length check counted 1: raw[9616] in smtp__auth_mech).
   Each test accepts either correct outcome: refused before a byte of it went
   out, or sent exactly right (read back from what the peer received).
   Build and run under ASan + UBSan (not in make test until the fixes land):
     cc -std=c99 -D_GNU_SOURCE -g -O1 -fsanitize=address,undefined \
        -fno-sanitize-recover=undefined -o tests/.build/buffers tests/buffers.c -lbearssl
     tests/.build/buffers [part of a test name]
   On v0.6.0 (529c4b3) every test but the last aborts with a stack-buffer-overflow. */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include "test.h"
#include "fake.h"

static smtp_session S;

static smtp_result open_fake(smtp_config *cfg)
{
    fake_reset();
    return fake_open(&S, cfg);
}

/* "abcdefg@" and 75 one-letter labels "é": 232 octets, under the 254 limit;
   as A-labels (without SMTPUTF8) "xn--9ca" each: 607 bytes, and the 75th
   label starts at byte 600. */
static void idna_address(char *utf8, char *alabel)
{
    size_t o = 0, a = 0;
    int i;
    o += (size_t)sprintf(utf8, "abcdefg@");
    a += (size_t)sprintf(alabel, "abcdefg@");
    for (i = 0; i < 75; i++) {
        o += (size_t)sprintf(utf8 + o, "%s\xc3\xa9", i ? "." : "");
        a += (size_t)sprintf(alabel + a, "%sxn--9ca", i ? "." : "");
    }
}

/* Base64 (RFC 4648) decoding, for reading back AUTH payloads; -1 when malformed. */
static long unb64(const char *t, size_t n, unsigned char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i, o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (i = 0; i < n && t[i] != '='; i++) {
        const char *p = strchr(tab, t[i]);
        if (!p || !t[i]) return -1;
        acc = (acc << 6 | (unsigned)(p - tab)) & 0xFFFFFF;
        bits += 6;
        if (bits >= 8) { bits -= 8; out[o++] = (unsigned char)(acc >> bits); }
    }
    return (long)o;
}

/* A 2012-byte address as Reply-To (values up to 4000 bytes are accepted):
   an address header, so validated like a recipient: over 254 octets. */
TEST(reply_to_longer_than_an_address)
{
    static char v[2100];
    const char *to[] = { "bob@example.com", NULL };
    smtp_header hd[1];
    smtp_message m;
    smtp_config cfg;
    smtp_result r;
    memset(v, 'a', 2000); strcpy(v + 2000, "@example.com");
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(open_fake(&cfg), SMTP_OK);
    hd[0].name = "Reply-To"; hd[0].value = v;
    memset(&m, 0, sizeof m);
    m.from = "alice@example.com"; m.to = to; m.text = "x"; m.headers = hd; m.header_count = 1;
    r = smtp_send(&S, &m);
    CHECK_EQ_INT(r, SMTP_ERR_PARAM);
    CHECK_EQ_INT(fake_count("MAIL FROM"), 0);          /* refused before a byte went out */
    CHECK_CONTAINS(smtp_error_detail(&S), "Reply-To");
    smtp_close(&S);
}

/* The same through "Name <address>" in Sender: '<' + 1512 bytes + '>'. */
TEST(sender_with_a_long_address_in_angle_brackets)
{
    static char v[2100];
    const char *to[] = { "bob@example.com", NULL };
    smtp_header hd[1];
    smtp_message m;
    smtp_config cfg;
    strcpy(v, "Boss <");
    memset(v + 6, 'b', 1500); strcpy(v + 1506, "@example.com>");
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(open_fake(&cfg), SMTP_OK);
    hd[0].name = "Sender"; hd[0].value = v;
    memset(&m, 0, sizeof m);
    m.from = "alice@example.com"; m.to = to; m.text = "x"; m.headers = hd; m.header_count = 1;
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_ERR_PARAM);
    CHECK_EQ_INT(fake_count("MAIL FROM"), 0);
    smtp_close(&S);
}

/* A recipient that passes every check, to a server without SMTPUTF8 (the
   fake offers PIPELINING and 8BITMIME only): refused as too long once in
   A-labels (RFC 5321 4.5.3.1.3), or sent exactly as A-labels. */
TEST(idna_recipient_whose_a_labels_reach_600_bytes)
{
    static char utf8[400], alabel[800], want[900];
    const char *to[2];
    smtp_message m;
    smtp_config cfg;
    smtp_result r;
    idna_address(utf8, alabel);
    CHECK_EQ_INT(strlen(utf8), 232);
    CHECK_EQ_INT(strlen(alabel), 607);
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(open_fake(&cfg), SMTP_OK);
    to[0] = utf8; to[1] = NULL;
    memset(&m, 0, sizeof m);
    m.from = "alice@example.com"; m.to = to; m.text = "x";
    r = smtp_send(&S, &m);
    snprintf(want, sizeof want, "RCPT TO:<%s>\r\n", alabel);
    if (r == SMTP_OK) CHECK_EQ_INT(fake_count(want), 1);
    else {
        CHECK(r == SMTP_ERR_PARAM || r == SMTP_ERR_UNSUPPORTED);
        CHECK_EQ_INT(fake_count("RCPT TO"), 0);
    }
    printf("  a 232-octet recipient, 607 bytes as A-labels: %s%s%s\n", smtp_result_str(r), r ? ": " : "",
           r ? smtp_error_detail(&S) : "");
    smtp_close(&S);
}

/* The same address as Reply-To: converted for the header by smtp__hw_addr
   (conv[600]); the header holds exactly the A-label form, or the message is
   refused before MAIL. */
TEST(idna_reply_to_whose_a_labels_reach_600_bytes)
{
    static char utf8[400], alabel[800], want[900];
    const char *to[] = { "bob@example.com", NULL };
    smtp_header hd[1];
    smtp_message m;
    smtp_config cfg;
    smtp_result r;
    idna_address(utf8, alabel);
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(open_fake(&cfg), SMTP_OK);
    hd[0].name = "Reply-To"; hd[0].value = utf8;
    memset(&m, 0, sizeof m);
    m.from = "alice@example.com"; m.to = to; m.text = "x"; m.headers = hd; m.header_count = 1;
    r = smtp_send(&S, &m);
    snprintf(want, sizeof want, "Reply-To: %s\r\n", alabel);
    if (r == SMTP_OK) CHECK(memmem(F.msg, F.msglen, want, strlen(want)) != NULL);
    else {
        CHECK(r == SMTP_ERR_PARAM || r == SMTP_ERR_UNSUPPORTED);
        CHECK_EQ_INT(fake_count("MAIL FROM"), 0);
    }
    smtp_close(&S);
}

/* The same address as From with an ASCII envelope sender: the envelope
   needs no A-labels, the From header does (conv[600] in smtp__hw_addr). */
TEST(idna_from_whose_a_labels_reach_600_bytes)
{
    static char utf8[400], alabel[800], want[900];
    const char *to[] = { "bob@example.com", NULL };
    smtp_message m;
    smtp_config cfg;
    smtp_result r;
    idna_address(utf8, alabel);
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(open_fake(&cfg), SMTP_OK);
    memset(&m, 0, sizeof m);
    m.from = utf8; m.envelope_from = "alice@example.com"; m.to = to; m.text = "x";
    r = smtp_send(&S, &m);
    snprintf(want, sizeof want, "From: %s\r\n", alabel);
    if (r == SMTP_OK) CHECK(memmem(F.msg, F.msglen, want, strlen(want)) != NULL);
    else {
        CHECK(r == SMTP_ERR_PARAM || r == SMTP_ERR_UNSUPPORTED);
        CHECK_EQ_INT(fake_count("MAIL FROM"), 0);
    }
    smtp_close(&S);
}

/* RFC 7628 3.1 / RFC 5801: ',' and '=' in the user name travel as =2C and
   =3D. 1024 commas (the longest user name accepted) and a token within the
   documented limit: the payload as sent decodes to exactly what RFC 7628
   asks, or the credentials are refused before AUTH. */
static void oauthbearer_case(const char *user, const char *token)
{
    static const char *script[] = { "235 2.7.0 ok\r\n", NULL };
    static unsigned char got[20000];
    static char want[20000];
    smtp_config cfg;
    smtp_result r;
    const char *p, *e;
    size_t o = 0;
    long n;
    memset(&cfg, 0, sizeof cfg);
    cfg.username = user; cfg.password = token;
    cfg.allowed_auth = SMTP_AUTH_OAUTHBEARER; cfg.allow_cleartext_auth = 1;
    fake_reset();
    F.ehlo_reply = "250-fake.test\r\n250-AUTH OAUTHBEARER\r\n250 8BITMIME\r\n";
    F.auth_script = script;
    r = fake_open(&S, &cfg);
    o += (size_t)sprintf(want, "n,a=");
    for (p = user; *p; p++) o += (size_t)sprintf(want + o, "%s", *p == ',' ? "=2C" : *p == '=' ? "=3D" : (char[2]){ *p, 0 });
    o += (size_t)sprintf(want + o, ",\001host=fake.test\001port=25\001auth=Bearer %s\001\001", token);
    if (r == SMTP_OK) {
        p = memmem(F.out, F.outlen, "AUTH OAUTHBEARER ", 17);
        CHECK(p != NULL);
        if (p) {
            p += 17;
            e = memchr(p, '\r', F.outlen - (size_t)(p - F.out));
            n = e ? unb64(p, (size_t)(e - p), got) : -1;
            CHECK_EQ_MEM(got, n < 0 ? 0 : n, want, o);
        }
    } else {
        CHECK_EQ_INT(r, SMTP_ERR_PARAM);
        CHECK_EQ_INT(F.auths, 0);
    }
    smtp_close(&S);
}

TEST(oauthbearer_user_of_1024_commas)
{
    static char user[1100], token[8000];
    memset(user, ',', 1024); user[1024] = 0;
    memset(token, 't', 7860); token[7860] = 0;       /* 1024 + 7860 + 9 + 100 <= 9000: accepted by v0.6.0 */
    oauthbearer_case(user, token);
}

TEST(oauthbearer_user_with_comma_and_equals)
{
    oauthbearer_case("a,b=c", "good-token");
}

/* An argument runs only the tests whose names hold it (each overflow aborts the run). */
#define RUN_IF(t) do { if (argc < 2 || strstr(#t, argv[1])) RUN(t); } while (0)

int main(int argc, char **argv)
{
    RUN_IF(reply_to_longer_than_an_address);
    RUN_IF(sender_with_a_long_address_in_angle_brackets);
    RUN_IF(idna_recipient_whose_a_labels_reach_600_bytes);
    RUN_IF(idna_reply_to_whose_a_labels_reach_600_bytes);
    RUN_IF(idna_from_whose_a_labels_reach_600_bytes);
    RUN_IF(oauthbearer_user_of_1024_commas);
    RUN_IF(oauthbearer_user_with_comma_and_equals);
    return TEST_END();
}
