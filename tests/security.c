/* security.c - regression tests for issue 12 ("Security"): one test per
   finding of the audit of smtp.h v0.6.0, each failing (or aborting under
   ASan) on v0.6.0 and passing on the fixed header. Built with ASan + UBSan
   (make tests/.build/security); every test runs in its own child process,
   so one that crashes is reported as CRASH and the others still run.

   The session tests use the scripted peer of tests/fake.h and read back
   what it received; address headers and MIME structure are judged by a
   real RFC 5322 reader, Python's email package (tests/security_parse.py).
   The TLS cache test, the HTTP proxy test and the config loader's timing
   use child processes: a BearSSL server with a session cache and a proxy
   on 127.0.0.1, ports 24750-24799 (the first free ones).

   Against another smtp.h (e.g. v0.6.0, for the before/after table):
     git show 9d19ad9:smtp.h > /tmp/old/smtp.h
     cc -std=c99 -D_GNU_SOURCE -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined \
        -I/tmp/old -o /tmp/old/security tests/security.c -lbearssl && /tmp/old/security
   An argument runs only the tests whose names hold it; TEST_VERBOSE=1
   prints each passing test too. */
#define SMTP_IMPLEMENTATION
#include "smtp.h"        /* -I. : the header under test, not a copy in tests/ */
#include "test.h"
#include "fake.h"
#include <errno.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#ifndef SECURITY_PY
#define SECURITY_PY "/usr/bin/python3"
#endif

static smtp_session S;

/* ---- helpers ----------------------------------------------------------- */

/* (now_ms, write_conf: tests/test.h; b64dec, unstuff: tests/fake.h) */

static size_t b64enc(const unsigned char *p, size_t n, char *out)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i, o = 0;
    for (i = 0; i + 2 < n; i += 3) {
        out[o++] = t[p[i] >> 2]; out[o++] = t[(p[i] & 3) << 4 | p[i + 1] >> 4];
        out[o++] = t[(p[i + 1] & 15) << 2 | p[i + 2] >> 6]; out[o++] = t[p[i + 2] & 63];
    }
    if (n - i == 1) { out[o++] = t[p[i] >> 2]; out[o++] = t[(p[i] & 3) << 4]; out[o++] = '='; out[o++] = '='; }
    if (n - i == 2) { out[o++] = t[p[i] >> 2]; out[o++] = t[(p[i] & 3) << 4 | p[i + 1] >> 4];
                      out[o++] = t[(p[i + 1] & 15) << 2]; out[o++] = '='; }
    out[o] = 0;
    return o;
}

static size_t unhex(const char *h, char *out, size_t cap)
{
    size_t o = 0;
    if (!strcmp(h, "-")) { out[0] = 0; return 0; }
    while (h[0] && h[1] && o + 1 < cap) {
        unsigned v;
        if (sscanf(h, "%2x", &v) != 1) break;
        out[o++] = (char)v;
        h += 2;
    }
    out[o] = 0;
    return o;
}

/* The message the fake peer received after DATA, dot-unstuffed, NUL-terminated. */
static char wire[1 << 21];
static size_t wire_len;
static void wire_take(void) { wire_len = unstuff(F.msg, F.msglen, wire); }

/* Every line of the message ends in CRLF and has at most 998 octets
   (RFC 5322 2.1.1); the header block is ASCII; no header line is only
   white space. Returns 0 or prints why not. */
static int lines_ok(const char *m, size_t n)
{
    size_t i = 0, ln = 0;
    int in_head = 1;
    while (i < n) {
        size_t b = i, k;
        while (i < n && m[i] != '\n') i++;
        ln++;
        if (i >= n || i == b || m[i - 1] != '\r') { printf("    line %lu does not end in CRLF\n", (unsigned long)ln); return -1; }
        k = i - 1 - b;
        if (k > 998) { printf("    line %lu has %lu octets\n", (unsigned long)ln, (unsigned long)k); return -1; }
        if (in_head) {
            size_t j, blank = 1;
            if (k == 0) in_head = 0;
            for (j = b; j < b + k; j++) {
                if ((unsigned char)m[j] >= 0x80) { printf("    header line %lu is not ASCII\n", (unsigned long)ln); return -1; }
                if (m[j] != ' ' && m[j] != '\t') blank = 0;
            }
            if (k && blank) { printf("    header line %lu is only white space\n", (unsigned long)ln); return -1; }
        }
        i++;
    }
    return 0;
}

/* Runs msg through tests/security_parse.py (MODE "addrs" or "mime"): one
   Python per test process ("serve" mode), its answer into parse_out. */
static char parse_out[1 << 22];
static FILE *py_to, *py_from;
static int py_start(void)
{
    const char *file = __FILE__, *slash = strrchr(file, '/'), *dir = getenv("SECURITY_TESTS_DIR");
    char script[600];
    int in[2], out[2];
    pid_t pid;
    if (dir) snprintf(script, sizeof script, "%s/security_parse.py", dir);
    else snprintf(script, sizeof script, "%.*s/security_parse.py", slash ? (int)(slash - file) : 1, slash ? file : ".");
    if (pipe(in) || pipe(out)) return -1;
    fflush(stdout);
    if ((pid = fork()) < 0) return -1;
    if (pid == 0) {
        dup2(in[0], 0); dup2(out[1], 1);
        close(in[0]); close(in[1]); close(out[0]); close(out[1]);
        execl(SECURITY_PY, SECURITY_PY, script, "serve", (char *)NULL);
        fprintf(stderr, "security: cannot run %s %s: %s\n", SECURITY_PY, script, strerror(errno));
        _exit(127);
    }
    close(in[0]); close(out[1]);
    py_to = fdopen(in[1], "w");
    py_from = fdopen(out[0], "r");
    return py_to && py_from ? 0 : -1;   /* it ends with this process: EOF on its input */
}

static int py_parse(const char *mode, const char *msg, size_t n)
{
    size_t got = 0;
    if (!py_to && py_start() != 0) { printf("    cannot start the reader\n"); return -1; }
    fprintf(py_to, "%s %lu\n", mode, (unsigned long)n);
    fwrite(msg, 1, n, py_to);
    fflush(py_to);
    parse_out[0] = 0;
    while (got < sizeof parse_out - 1 && fgets(parse_out + got, (int)(sizeof parse_out - got), py_from)) {
        if (!strcmp(parse_out + got, "END\n")) {
            if (strncmp(parse_out, "ERROR ", 6)) return 0;
            printf("    the reader failed: %.300s", parse_out);
            return -1;
        }
        got += strlen(parse_out + got);
    }
    printf("    the reader (%s tests/security_parse.py serve) gave no answer: %.300s\n", SECURITY_PY, parse_out);
    return -1;
}

/* The addresses the reader found in header hname: up to max (addr, name) pairs. */
typedef struct { char addr[1200], name[4200]; } parsed_addr;
static parsed_addr pa[700];
static int parsed_addrs(const char *hname, int *defects)
{
    const char *p = parse_out;
    int n = 0;
    *defects = 0;
    while (*p) {
        char h[64], a[2500], d[9000];
        const char *e = strchr(p, '\n');
        if (sscanf(p, "ADDR %63s %2499s %8999s", h, a, d) == 3 && !strcmp(h, hname) && n < 700) {
            unhex(a, pa[n].addr, sizeof pa[n].addr);
            unhex(d, pa[n].name, sizeof pa[n].name);
            n++;
        }
        if (!strncmp(p, "DEFECT", 6)) { (*defects)++; printf("    reader: %.*s\n", (int)(e ? e - p : 60), p); }
        p = e ? e + 1 : p + strlen(p);
    }
    return n;
}

/* Escaped for printing (the failures show what a terminal would not). */
static const char *shown(const char *s)
{
    static char b[4][700];
    static int k;
    char *o = b[k++ & 3];
    size_t i = 0;
    if (!s) return "(null)";
    for (; *s && i < sizeof b[0] - 5; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c >= 0x7F) i += (size_t)sprintf(o + i, "<%02x>", c);
        else o[i++] = (char)c;
    }
    o[i] = 0;
    return o;
}

/* A sentence safe to print: no C0 control, no DEL, valid UTF-8 without C1
   controls (U+0080..U+009F: 0x9B alone is CSI on many terminals). */
static int visible_only(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p, cp, k, j;
        if (c < 0x20 || c == 0x7F) return 0;
        if (c < 0x80) { p++; continue; }
        k = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        if (!k) return 0;
        cp = k == 2 ? c & 0x1F : k == 3 ? c & 0x0F : c & 0x07;
        for (j = 1; j < k; j++) {
            if ((p[j] & 0xC0) != 0x80) return 0;
            cp = cp << 6 | (p[j] & 0x3Fu);
        }
        if (cp < 0xA0 || (k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000) || cp > 0x10FFFF ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        p += k;
    }
    return 1;
}

/* ---- the scripted peer, with hooks ---------------------------------------
   hook_write wraps fake_write: after the peer has answered what the client
   wrote, a hook may add to or change its answers (a reply sent early, a
   reply text with control bytes). */
enum { H_NONE, H_AFTER_354, H_DURING_BODY, H_421_AFTER_354, H_EXTRA_CHUNK_REPLY, H_SWAP };
static int hook, hook_done;
static const char *swap_from, *swap_to;

/* Replaces the first unread occurrence of a queued reply. */
static void fake_swap(const char *from, const char *to)
{
    char *p = memmem(F.in + F.inpos, F.inlen - F.inpos, from, strlen(from));
    size_t fl = strlen(from), tl = strlen(to), tail;
    if (!p) return;
    tail = F.inlen - (size_t)(p - F.in) - fl;
    memmove(p + tl, p + fl, tail);
    memcpy(p, to, tl);
    F.inlen = F.inlen - fl + tl;
}

static int hook_armed;

static int hook_write(void *user, const void *buf, size_t len, int timeout_ms)
{
    int was_data = F.in_data, chunks = F.chunks;
    int r = fake_write(user, buf, len, timeout_ms);
    if (r != (int)len || hook_done || !hook_armed) return r;
    switch (hook) {
    case H_AFTER_354:            /* "354 ...\r\n250 ok\r\n" in one go */
        if (!was_data && F.in_data) { fake_queue("250 2.0.0 Ok: queued as EARLY\r\n"); hook_done = 1; }
        break;
    case H_DURING_BODY:          /* a later read, while the body still goes out */
        if (was_data && F.in_data) { fake_queue("250 2.0.0 Ok: queued as EARLY\r\n"); hook_done = 1; }
        break;
    case H_421_AFTER_354:
        if (!was_data && F.in_data) { fake_queue("421 4.3.2 Service shutting down\r\n"); hook_done = 1; }
        break;
    case H_EXTRA_CHUNK_REPLY:    /* one 250 more than the chunks sent */
        if (chunks == 0 && F.chunks == 1) { fake_queue("250 2.0.0 Ok: extra\r\n"); hook_done = 1; }
        break;
    case H_SWAP:
        if (memmem(F.in + F.inpos, F.inlen - F.inpos, swap_from, strlen(swap_from))) {
            fake_swap(swap_from, swap_to);
            hook_done = 1;
        }
        break;
    }
    return r;
}

/* Opens S over the fake peer (EHLO reply ehlo, NULL: the fake's own), with the hook. */
static smtp_result open_fake(const char *ehlo, smtp_config *cfg, int h)
{
    smtp_config c;
    smtp_result r;
    fake_reset();
    F.ehlo_reply = ehlo;
    hook = h; hook_done = 0;
    static const smtp_transport hooked = { fake_read, hook_write, fake_close, NULL };
    if (!cfg) { memset(&c, 0, sizeof c); cfg = &c; }
    cfg->transport = &hooked;   /* the fake peer, its writes hooked once the session is open */
    hook_armed = 0;
    r = fake_open(&S, cfg);
    hook_armed = 1;
    return r;
}

static const char *EHLO_PLAIN = "250-fake.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n";

static void outcome(const char *what, smtp_result r)
{
    if (test_verbose())
        printf("    %s: %s%s%s\n", what, smtp_result_str(r), r ? ": " : "", r ? shown(smtp_error_detail(&S)) : "");
}

/* ---- 1. long address headers in message.headers --------------------------
   v0.6.0: tok[960] in smtp__header_addr and line[1000] in smtp__header_add
   overflowed on a Reply-To or Sender of 1000-4000 bytes (values up to 4000
   are accepted). Now: refused before MAIL with a detail naming the header,
   or written folded (every line <= 998) so that a reader gets back exactly
   the addresses given. must_send: 1, a list of ordinary addresses must go;
   0, either outcome; -1, only the refusal is right (an address over 254
   octets, RFC 5321 4.5.3.1.3, is validated in a header as on the envelope). */
typedef struct { const char *addr, *name; } want_addr;

static void addr_header_case(const char *what, const char *hname, const char *value, const want_addr *want,
                             int nwant, int must_send)
{
    const char *to[] = { "bob@example.com", NULL };
    smtp_header hd[1];
    smtp_message m;
    smtp_result r;
    int n, i, defects;
    CHECK_EQ_INT(open_fake(EHLO_PLAIN, NULL, H_NONE), SMTP_OK);
    hd[0].name = hname; hd[0].value = value;
    memset(&m, 0, sizeof m);
    m.from = "alice@example.com"; m.to = to; m.text = "x"; m.headers = hd; m.header_count = 1;
    r = smtp_send(&S, &m);
    outcome(what, r);
    if (r == SMTP_ERR_PARAM && must_send <= 0) {
        CHECK_EQ_INT(fake_count("MAIL FROM"), 0);
        CHECK_CONTAINS(smtp_error_detail(&S), hname);
    } else if (must_send < 0) {
        TEST_FAILMSG("%s: %s, expected PARAM before MAIL", what, smtp_result_str(r));
    } else {
        if (r != SMTP_OK) TEST_FAILMSG("%s: %s: %s", what, smtp_result_str(r), shown(smtp_error_detail(&S)));
        else {
            wire_take();
            CHECK(lines_ok(wire, wire_len) == 0);
            if (py_parse("addrs", wire, wire_len) == 0) {
                n = parsed_addrs(hname, &defects);
                CHECK_EQ_INT(defects, 0);
                if (n != nwant) TEST_FAILMSG("%s: the reader found %d addresses in %s, %d were given", what, n, hname, nwant);
                for (i = 0; i < n && i < nwant; i++) {
                    CHECK_EQ_STR(pa[i].addr, want[i].addr);
                    CHECK_EQ_STR(pa[i].name, want[i].name);
                }
            } else TEST_FAILMSG("%s: the reader failed", what);
        }
    }
    smtp_close(&S);
}

static char big_value[4100], big_addr[4][4100], big_names[330][64];
static want_addr wants[330];

TEST(f01_long_reply_to_and_sender)
{
    size_t o = 0;
    int i;
    /* 90 "Person NN <person.NN@example.com>": 3128 bytes, a list a reader must get back whole */
    for (i = 0; i < 90; i++) {
        snprintf(big_names[i], sizeof big_names[i], "Person %d", i);
        snprintf(big_addr[0] + 40 * i, 40, "person.%d@example.com", i);
        wants[i].name = big_names[i]; wants[i].addr = big_addr[0] + 40 * i;
        o += (size_t)sprintf(big_value + o, "%sPerson %d <person.%d@example.com>", i ? ", " : "", i, i);
    }
    addr_header_case("Reply-To: 90 named addresses", "Reply-To", big_value, wants, 90, 1);
    /* 320 short addresses, 3838 bytes */
    for (i = 0, o = 0; i < 320; i++) {
        snprintf(big_addr[1] + 12 * i, 12, "u%03d@x.org", i);
        wants[i].name = ""; wants[i].addr = big_addr[1] + 12 * i;
        o += (size_t)sprintf(big_value + o, "%su%03d@x.org", i ? ", " : "", i);
    }
    addr_header_case("Reply-To: 320 short addresses", "Reply-To", big_value, wants, 320, 1);
    /* one address of 3012 bytes in angle brackets */
    strcpy(big_value, "Boss <");
    memset(big_value + 6, 'b', 3000); strcpy(big_value + 3006, "@example.com>");
    memcpy(big_addr[2], big_value + 6, 3012); big_addr[2][3012] = 0;
    wants[0].name = "Boss"; wants[0].addr = big_addr[2];
    addr_header_case("Sender: Boss <3012 bytes>", "Sender", big_value, wants, 1, 0);
    /* one bare address of 3512 bytes */
    memset(big_value, 'r', 3500); strcpy(big_value + 3500, "@example.com");
    wants[0].name = ""; wants[0].addr = big_value;
    addr_header_case("Reply-To: a bare 3512-byte address", "Reply-To", big_value, wants, 1, 0);
    /* a quoted display name of 3400 bytes */
    big_value[0] = '"'; memset(big_value + 1, 'x', 3400); strcpy(big_value + 3401, "\" <s@x.org>");
    memset(big_addr[3], 'x', 3400); big_addr[3][3400] = 0;
    wants[0].name = big_addr[3]; wants[0].addr = "s@x.org";
    addr_header_case("Sender: a 3400-byte quoted name", "Sender", big_value, wants, 1, 0);
    /* a display name of 3000 bytes in words, unquoted */
    for (i = 0, o = 0; o < 3000; i++) o += (size_t)sprintf(big_value + o, "%sWord%d", i ? " " : "", i);
    memcpy(big_addr[3], big_value, o); big_addr[3][o] = 0;
    strcpy(big_value + o, " <w@x.org>");
    wants[0].name = big_addr[3]; wants[0].addr = "w@x.org";
    addr_header_case("Reply-To: a 3000-byte name in words", "Reply-To", big_value, wants, 1, 0);
    /* a name of 440 escaped quotes: 880 bytes once escaped again */
    big_value[0] = '"';
    for (i = 0; i < 440; i++) { big_value[1 + 2 * i] = '\\'; big_value[2 + 2 * i] = '"'; }
    strcpy(big_value + 881, "\" <q@x.org>");
    memset(big_addr[3], '"', 440); big_addr[3][440] = 0;
    wants[0].name = big_addr[3]; wants[0].addr = "q@x.org";
    addr_header_case("Reply-To: a name of 440 quotes", "Reply-To", big_value, wants, 1, 1);
    /* over 254 octets, past tok[960] and line[1000] of v0.6.0: only a refusal */
    memset(big_value, 'a', 2000); strcpy(big_value + 2000, "@example.com");
    addr_header_case("Reply-To: a bare 2012-byte address", "Reply-To", big_value, NULL, 0, -1);
    strcpy(big_value, "Boss <");
    memset(big_value + 6, 'b', 1500); strcpy(big_value + 1506, "@example.com>");
    addr_header_case("Sender: Boss <1512 bytes>", "Sender", big_value, NULL, 0, -1);
}

/* ---- 2. a ~600-byte internationalised address ----------------------------
   v0.6.0: smtp__punycode wrote "xn--" before it checked for room (a[600]
   in smtp__rcpt_line, conv[600] in smtp__header_addr). "abcdefg@" and 75
   one-letter labels "é": 232 octets, under the 254 limit; as A-labels
   ("xn--9ca" each) 607 bytes; with 50 labels 158 octets, 407 as A-labels.
   A server without SMTPUTF8: over 255 octets once converted the domain is
   no domain (RFC 5321 4.5.3.1.2): the address is refused with a detail
   naming it before MAIL, as recipient, as sender and in Reply-To, with
   and without PIPELINING (nothing of the message reaches the server).
   In From with an ASCII envelope sender only the header needs A-labels
   (conv[600] in smtp__header_addr): written exactly, or refused before MAIL. */
static void idna_address(char *utf8, int labels)
{
    size_t o = 0;
    int i;
    o += (size_t)sprintf(utf8, "abcdefg@");
    for (i = 0; i < labels; i++) o += (size_t)sprintf(utf8 + o, "%s\xc3\xa9", i ? "." : "");
}

static void idna_case(const char *what, const char *ehlo, const char *from, const char *rcpt, const char *reply_to)
{
    const char *to[2];
    smtp_header hd[1];
    smtp_message m;
    smtp_result r;
    CHECK_EQ_INT(open_fake(ehlo, NULL, H_NONE), SMTP_OK);
    to[0] = rcpt; to[1] = NULL;
    hd[0].name = "Reply-To"; hd[0].value = reply_to;
    memset(&m, 0, sizeof m);
    m.from = from; m.to = to; m.text = "x";
    if (reply_to) { m.headers = hd; m.header_count = 1; }
    r = smtp_send(&S, &m);
    outcome(what, r);
    if (r != SMTP_ERR_UNSUPPORTED && r != SMTP_ERR_PARAM)
        TEST_FAILMSG("%s: %s, expected UNSUPPORTED or PARAM", what, smtp_result_str(r));
    if (fake_count("MAIL FROM")) TEST_FAILMSG("%s: MAIL FROM was sent (%d RCPT, DATA %d)", what, fake_count("RCPT TO"),
                                              fake_count("\r\nDATA\r\n"));
    if (!strstr(smtp_error_detail(&S), "abcdefg@\xc3\xa9.\xc3\xa9.\xc3\xa9"))
        TEST_FAILMSG("%s: the detail does not name the address: \"%s\"", what, shown(smtp_error_detail(&S)));
    smtp_close(&S);
}

TEST(f02_idna_address_of_600_bytes)
{
    static const char *ehlos[] = { "250-fake.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n", "250-fake.test\r\n250 8BITMIME\r\n" };
    static char utf8[400], label[200], line[300], what[100], alabel[800], want[900];
    const char *to[2];
    smtp_message m;
    smtp_result r;
    int i, k, labels;
    idna_address(utf8, 75);
    CHECK_EQ_INT(strlen(utf8), 232);
    for (labels = 75; labels >= 50; labels -= 25)
        for (k = 0; k < 2; k++) {
            const char *how = k ? "no pipelining" : "pipelining";
            idna_address(utf8, labels);
            snprintf(what, sizeof what, "recipient, %d labels, %s", labels, how);
            idna_case(what, ehlos[k], "alice@example.com", utf8, NULL);
            snprintf(what, sizeof what, "sender, %d labels, %s", labels, how);
            idna_case(what, ehlos[k], utf8, "bob@example.com", NULL);
            snprintf(what, sizeof what, "Reply-To, %d labels, %s", labels, how);
            idna_case(what, ehlos[k], "alice@example.com", "bob@example.com", utf8);
        }
    /* one label of 60 "é": its A-label is over 63 octets (RFC 5890): refused, or sent within 63 */
    strcpy(label, "a@");
    for (i = 0; i < 60; i++) strcat(label, "\xc3\xa9");
    strcat(label, ".example");
    CHECK_EQ_INT(open_fake(EHLO_PLAIN, NULL, H_NONE), SMTP_OK);
    to[0] = label; to[1] = NULL;
    memset(&m, 0, sizeof m);
    m.from = "alice@example.com"; m.to = to; m.text = "x";
    r = smtp_send(&S, &m);
    outcome("a 60-letter label", r);
    if (r == SMTP_OK) {
        const char *p = memmem(F.out, F.outlen, "RCPT TO:<a@", 11), *e;
        CHECK(p != NULL);
        if (p) {
            p += 11;
            e = memchr(p, '.', F.outlen - (size_t)(p - F.out));
            snprintf(line, sizeof line, "%.*s", (int)(e ? e - p : 0), p);
            if (!e || e - p > 63) TEST_FAILMSG("the A-label \"%s\" has %d octets (at most 63)", line, (int)(e ? e - p : -1));
        }
    } else {
        if (r != SMTP_ERR_UNSUPPORTED && r != SMTP_ERR_PARAM)
            TEST_FAILMSG("a 60-letter label: %s", smtp_result_str(r));
        CHECK_EQ_INT(fake_count("MAIL FROM"), 0);
    }
    smtp_close(&S);
    /* 75 labels in From, the envelope sender ASCII */
    for (i = 0, k = sprintf(alabel, "abcdefg@"); i < 75; i++) k += sprintf(alabel + k, "%sxn--9ca", i ? "." : "");
    CHECK_EQ_INT(strlen(alabel), 607);
    idna_address(utf8, 75);
    CHECK_EQ_INT(open_fake(EHLO_PLAIN, NULL, H_NONE), SMTP_OK);
    to[0] = "bob@example.com"; to[1] = NULL;
    memset(&m, 0, sizeof m);
    m.from = utf8; m.envelope_from = "alice@example.com"; m.to = to; m.text = "x";
    r = smtp_send(&S, &m);
    outcome("From, 75 labels, ASCII envelope sender", r);
    snprintf(want, sizeof want, "From: %s\r\n", alabel);
    if (r == SMTP_OK) CHECK(memmem(F.msg, F.msglen, want, strlen(want)) != NULL);
    else {
        CHECK(r == SMTP_ERR_PARAM || r == SMTP_ERR_UNSUPPORTED);
        CHECK_EQ_INT(fake_count("MAIL FROM"), 0);
    }
    smtp_close(&S);
}

/* ---- 3. OAUTHBEARER with ',' and '=' in the user name ----------------------
   RFC 7628 3.1 / RFC 5801: ',' and '=' travel as =2C and =3D (3 bytes for
   1); v0.6.0 counted 1 and overflowed raw[9616] in smtp__auth_mech. Either
   AUTH carries exactly the escaped payload (decoded at the peer) or the
   credentials are refused (PARAM) before AUTH. must_send: it fits. */
static void oauthbearer_case(const char *what, const char *user, const char *token, int must_send)
{
    static const char *script[] = { "235 2.7.0 ok\r\n", NULL };
    static unsigned char got[40000];
    static char want[40000];
    smtp_config cfg;
    smtp_result r;
    const char *p, *e;
    size_t o = 0, n;
    memset(&cfg, 0, sizeof cfg);
    cfg.username = user; cfg.password = token;
    cfg.allowed_auth = SMTP_AUTH_OAUTHBEARER; cfg.allow_cleartext_auth = 1;
    fake_reset();
    F.ehlo_reply = "250-fake.test\r\n250-AUTH OAUTHBEARER\r\n250 8BITMIME\r\n";
    F.auth_script = script;
    r = fake_open(&S, &cfg);
    outcome(what, r);
    o += (size_t)sprintf(want, "n,a=");
    for (p = user; *p; p++) {
        if (*p == ',') o += (size_t)sprintf(want + o, "=2C");
        else if (*p == '=') o += (size_t)sprintf(want + o, "=3D");
        else want[o++] = *p;
    }
    o += (size_t)sprintf(want + o, ",\001host=fake.test\001port=25\001auth=Bearer %s\001\001", token);
    if (r == SMTP_OK) {
        p = memmem(F.out, F.outlen, "AUTH OAUTHBEARER ", 17);
        CHECK(p != NULL);
        if (p) {
            p += 17;
            e = memchr(p, '\r', F.outlen - (size_t)(p - F.out));
            n = e ? b64dec(p, (size_t)(e - p), got) : 0;
            CHECK_EQ_MEM(got, n, want, o);
        }
    } else {
        if (must_send || r != SMTP_ERR_PARAM)
            TEST_FAILMSG("%s: %s: %s", what, smtp_result_str(r), shown(smtp_error_detail(&S)));
        CHECK_EQ_INT(F.auths, 0);
    }
    smtp_close(&S);
}

TEST(f03_oauthbearer_escaped_user_name)
{
    static char user[1100], token[8000];
    int i;
    oauthbearer_case("a,b=c", "a,b=c", "good-token", 1);
    memset(user, ',', 1024); user[1024] = 0;
    memset(token, 't', 5500); token[5500] = 0;       /* escaped: 3072 + 5500 + 43, fits the payload */
    oauthbearer_case("1024 commas, 5500-byte token", user, token, 1);
    memset(token, 't', 7860); token[7860] = 0;       /* 1024 + 7860 + 9 + 100 <= 9000: accepted by v0.6.0 */
    oauthbearer_case("1024 commas, 7860-byte token", user, token, 0);
    memset(user, '=', 1024);
    oauthbearer_case("1024 '=', 7860-byte token", user, token, 0);
    for (i = 0; i < 1024; i++) user[i] = i % 3 == 2 ? 'u' : i % 3 ? '=' : ',';
    memset(token, 't', 7000); token[7000] = 0;
    oauthbearer_case("1024 of \",=u\", 7000-byte token", user, token, 0);
}

/* ---- 4. an inline part (content_id) without HTML ----------------------------
   v0.6.0 put it in a multipart/related whose boundary was never set: stack
   bytes on the "--" line. Now: multipart/mixed. Every "--" line at the top
   of a line must be a boundary some Content-Type declared, and the reader
   must find the parts with their bytes. */
static int boundary_lines_declared(const char *m, size_t n)
{
    char declared[8][200];
    int nd = 0, bad = 0;
    const char *p = parse_out;
    size_t i;
    while ((p = strstr(p, "PART ")) != NULL) {
        char ct[100], b[400];
        int depth;
        if (sscanf(p, "PART %d %99s %399s", &depth, ct, b) == 3 && strcmp(b, "-") && nd < 8)
            unhex(b, declared[nd++], sizeof declared[0]);
        p += 5;
    }
    for (i = 0; i < n; i++) {
        if ((i == 0 || m[i - 1] == '\n') && i + 1 < n && m[i] == '-' && m[i + 1] == '-') {
            const char *e = memchr(m + i, '\r', n - i);
            size_t len = e ? (size_t)(e - (m + i)) : n - i;
            int k, ok = 0;
            for (k = 0; k < nd; k++) {
                size_t bl = strlen(declared[k]);
                if ((len == bl + 2 || (len == bl + 4 && !memcmp(m + i + 2 + bl, "--", 2))) && !memcmp(m + i + 2, declared[k], bl))
                    ok = 1;
            }
            if (!ok) {
                char l[210];
                snprintf(l, sizeof l, "%.*s", (int)(len < 200 ? len : 200), m + i);
                printf("    a \"--\" line that no Content-Type declared: \"%s\"\n", shown(l));
                bad++;
            }
        }
    }
    return nd > 0 && !bad;
}

/* The first part of content type ct the reader found: its Content-ID and
   decoded payload. 0 when found. */
static int find_part(const char *ct, char *cid, size_t cid_cap, char *payload, size_t cap, size_t *plen)
{
    const char *p = parse_out;
    while ((p = strstr(p, "PART ")) != NULL) {
        static char c[100], b[400], id[800], pl[1 << 16];
        int depth;
        if (sscanf(p, "PART %d %99s %399s %799s %65535s", &depth, c, b, id, pl) == 5 && !strcmp(c, ct)) {
            unhex(id, cid, cid_cap);
            *plen = unhex(pl, payload, cap);
            return 0;
        }
        p += 5;
    }
    return -1;
}

static int defect_lines(void)
{
    const char *p = parse_out;
    int n = 0;
    while ((p = strstr(p, "DEFECT")) != NULL) { printf("    reader: %.80s\n", p); n++; p += 6; }
    return n;
}

TEST(f04_inline_part_without_html)
{
    static unsigned char blob[300];
    static char cid[300], payload[1000];
    const char *to[] = { "bob@example.com", NULL };
    smtp_attachment at[2];
    smtp_message m;
    smtp_result r;
    size_t i, plen;
    int v;
    for (i = 0; i < sizeof blob; i++) blob[i] = (unsigned char)(i * 7 + 3);
    for (v = 0; v < 2; v++) {
        memset(at, 0, sizeof at);
        at[0].filename = "logo.png"; at[0].data = blob; at[0].size = sizeof blob; at[0].content_id = "logo@x";
        at[1].filename = "notes.txt"; at[1].data = "hello"; at[1].size = 5;
        CHECK_EQ_INT(open_fake(EHLO_PLAIN, NULL, H_NONE), SMTP_OK);
        memset(&m, 0, sizeof m);
        m.from = "alice@example.com"; m.to = to; m.text = "see the picture\n";
        m.attachments = at; m.attachment_count = v ? 2 : 1;
        r = smtp_send(&S, &m);
        outcome(v ? "inline part and an attachment" : "one inline part", r);
        CHECK_EQ_INT(r, SMTP_OK);
        wire_take();
        CHECK(lines_ok(wire, wire_len) == 0);
        if (py_parse("mime", wire, wire_len) != 0) { TEST_FAILMSG("the reader failed"); smtp_close(&S); continue; }
        CHECK(strncmp(parse_out, "PART 0 multipart/mixed ", 23) == 0);
        CHECK(boundary_lines_declared(wire, wire_len));
        CHECK_EQ_INT(defect_lines(), 0);
        if (find_part("image/png", cid, sizeof cid, payload, sizeof payload, &plen) == 0) {
            CHECK_EQ_STR(cid, "<logo@x>");
            CHECK_EQ_MEM(payload, plen, blob, sizeof blob);
        } else TEST_FAILMSG("the reader found no image/png part");
        if (find_part("text/plain", cid, sizeof cid, payload, sizeof payload, &plen) == 0)
            CHECK_EQ_MEM(payload, plen, "see the picture\r\n", 17);
        else TEST_FAILMSG("the reader found no text/plain part");
        smtp_close(&S);
    }
}

/* ---- 5. display names that try to leave their quotes ------------------------
   v0.6.0 re-quoted names without escaping, so "a\" <ceo@bank.example>, \"x"
   gave a From that a reader takes as two addresses. Each case: refused
   (PARAM) before MAIL, or the header read back by a real RFC 5322 parser
   holds exactly ONE address, the real one (and the name, where the input
   is a valid name). Address headers in message.headers are lists. */
#define REAL "real@x.org"
typedef struct { const char *input, *name; int may_refuse; } name_case;
static const name_case NAME_CASES[] = {
    /* "a\" <ceo@bank.example>, \"x" <real@x.org>: a valid quoted string */
    { "\"a\\\" <ceo@bank.example>, \\\"x\" <" REAL ">", "a\" <ceo@bank.example>, \"x", 0 },
    /* x\\" <evil@x>, y <real@x.org>: an unescaped quote in an unquoted name */
    { "x\\\\\" <evil@x>, y <" REAL ">", NULL, 1 },
    /* "x\\" <evil@x>, \"y" <real@x.org>: the quoted string ends after x\ */
    { "\"x\\\\\" <evil@x>, \\\"y\" <" REAL ">", NULL, 1 },
    /* a\" <ceo@bank.example>, \"x <real@x.org>: backslashes outside quotes escape nothing */
    { "a\\\" <ceo@bank.example>, \\\"x <" REAL ">", NULL, 1 },
    /* "a\\\" <ceo@bank.example>, \\\"x" <real@x.org>: valid, the name holds a\" ... \"x */
    { "\"a\\\\\\\" <ceo@bank.example>, \\\\\\\"x\" <" REAL ">", "a\\\" <ceo@bank.example>, \\\"x", 0 },
    /* x\ <real@x.org>: a name ending in a backslash must not escape the closing quote */
    { "x\\ <" REAL ">", "x\\", 0 },
    /* "x\\" <real@x.org>: the same, quoted (RFC 5322: the name is x\) */
    { "\"x\\\\\" <" REAL ">", "x\\", 1 },
    /* evil@x (c), "d" <real@x.org>: specials in an unquoted name */
    { "evil@x (c), \"d\" <" REAL ">", NULL, 1 },
    /* ceo@bank.example <real@x.org> */
    { "ceo@bank.example <" REAL ">", "ceo@bank.example", 0 },
    /* "Jörg \"the boss\" Müller" <real@x.org>: quotes inside a name that needs RFC 2047 */
    { "\"J\xc3\xb6rg \\\"the boss\\\" M\xc3\xbcller\" <" REAL ">", "J\xc3\xb6rg \"the boss\" M\xc3\xbcller", 0 },
    /* a name that is an encoded word hiding another address: it stays text */
    { "\"=?UTF-8?B?PGV2aWxAeD4=?= <evil@x>, x\" <" REAL ">", "=?UTF-8?B?PGV2aWxAeD4=?= <evil@x>, x", 1 },
    /* "a (b" <real@x.org>: an open comment inside quotes */
    { "\"a (b\" <" REAL ">", "a (b", 0 },
};

static void name_case_in(const name_case *c, const char *where)
{
    const char *to[2] = { "bob@example.com", NULL }, *cc[2] = { NULL, NULL };
    smtp_message m;
    smtp_result r;
    char what[200];
    int n, defects;
    snprintf(what, sizeof what, "%s = %s", where, c->input);
    CHECK_EQ_INT(open_fake(EHLO_PLAIN, NULL, H_NONE), SMTP_OK);
    memset(&m, 0, sizeof m);
    m.from = "alice@example.com"; m.to = to; m.text = "x";
    if (!strcmp(where, "From")) m.from = c->input;
    else if (!strcmp(where, "To")) to[0] = c->input;
    else { m.cc = cc; cc[0] = c->input; }
    r = smtp_send(&S, &m);
    outcome(what, r);
    if (r == SMTP_ERR_PARAM && c->may_refuse) {
        CHECK_EQ_INT(fake_count("MAIL FROM"), 0);
    } else if (r != SMTP_OK) {
        TEST_FAILMSG("%s: %s: %s", shown(what), smtp_result_str(r), shown(smtp_error_detail(&S)));
    } else {
        wire_take();
        CHECK(lines_ok(wire, wire_len) == 0);
        if (py_parse("addrs", wire, wire_len) == 0) {
            n = parsed_addrs(where, &defects);
            if (n != 1 || strcmp(pa[0].addr, REAL)) {
                char hv[600];
                const char *h = strstr(wire, where), *e = h ? strstr(h, "\r\n") : NULL;
                snprintf(hv, sizeof hv, "%.*s", h && e ? (int)(e - h) : 0, h ? h : "");
                TEST_FAILMSG("%s: the reader found %d address(es) in \"%s\"%s%s", shown(what), n, shown(hv),
                             n ? ", the first " : "", n ? pa[0].addr : "");
            } else if (c->name) CHECK_EQ_STR(pa[0].name, c->name);
            CHECK_EQ_INT(defects, 0);
        } else TEST_FAILMSG("the reader failed");
        if (strcmp(where, "From")) {   /* the envelope: the real address alone */
            CHECK_EQ_INT(fake_count("RCPT TO:<" REAL ">"), 1);
            CHECK_EQ_INT(fake_count("RCPT TO:"), strcmp(where, "Cc") ? 1 : 2);
        } else CHECK_EQ_INT(fake_count("MAIL FROM:<" REAL ">"), 1);
    }
    smtp_close(&S);
}

TEST(f05_display_names_stay_quoted)
{
    size_t i;
    static const want_addr two[] = { { "j@x.org", "Smith, John" }, { "b@y.org", "" } };
    for (i = 0; i < sizeof NAME_CASES / sizeof *NAME_CASES; i++) {
        name_case_in(&NAME_CASES[i], "From");
        name_case_in(&NAME_CASES[i], "To");
        name_case_in(&NAME_CASES[i], "Cc");
    }
    /* Reply-To as a list: the quoted comma stays inside the name */
    addr_header_case("Reply-To: \"Smith, John\" <j@x.org>, b@y.org", "Reply-To",
                     "\"Smith, John\" <j@x.org>, b@y.org", two, 2, 1);
    {   /* unquoted, the comma splits: "Smith" is no address; the detail says to quote */
        const char *to[] = { "bob@example.com", NULL };
        smtp_header hd[1] = { { "Reply-To", "Smith, John <j@x.org>" } };
        smtp_message m;
        smtp_result r;
        CHECK_EQ_INT(open_fake(EHLO_PLAIN, NULL, H_NONE), SMTP_OK);
        memset(&m, 0, sizeof m);
        m.from = "alice@example.com"; m.to = to; m.text = "x"; m.headers = hd; m.header_count = 1;
        r = smtp_send(&S, &m);
        outcome("Reply-To: Smith, John <j@x.org>", r);
        CHECK_EQ_INT(r, SMTP_ERR_PARAM);
        CHECK_CONTAINS(smtp_error_detail(&S), "Reply-To");
        CHECK_CONTAINS(smtp_error_detail(&S), "quot");
        CHECK_EQ_INT(fake_count("MAIL FROM"), 0);
        smtp_close(&S);
    }
}
#define CA_A_PEM \
    "-----BEGIN CERTIFICATE-----\n" \
    "MIIBezCCASKgAwIBAgICEAAwCgYIKoZIzj0EAwIwJDEiMCAGA1UEAwwZc210cC5o\n" \
    "IHNlY3VyaXR5IHRlc3QgQ0EgQTAgFw0yMDAxMDEwMDAwMDBaGA8yMTIwMDEwMTAw\n" \
    "MDAwMFowJDEiMCAGA1UEAwwZc210cC5oIHNlY3VyaXR5IHRlc3QgQ0EgQTBZMBMG\n" \
    "ByqGSM49AgEGCCqGSM49AwEHA0IABF6wHlTFPqF+w0fa2VapTnidPzijlQYv2f2Z\n" \
    "pqY2y2S+mXbf2PRJd8j0UirWDk71doEt0OoaoJ+MXXZy18FRkUqjQjBAMA8GA1Ud\n" \
    "EwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgEGMB0GA1UdDgQWBBSRWxF5rway9+Zn\n" \
    "dVKvJG/pYL2qMzAKBggqhkjOPQQDAgNHADBEAiBaIdelaEKxgbsxGbbtEUIO8re6\n" \
    "eojhm/pwW13mKjoDsAIgE+/X8w36v+qGNx1mT11uh9ipSzXIb1eeRebQSewhi5Y=\n" \
    "-----END CERTIFICATE-----\n"

#define CA_B_PEM \
    "-----BEGIN CERTIFICATE-----\n" \
    "MIIBfDCCASKgAwIBAgICEAEwCgYIKoZIzj0EAwIwJDEiMCAGA1UEAwwZc210cC5o\n" \
    "IHNlY3VyaXR5IHRlc3QgQ0EgQjAgFw0yMDAxMDEwMDAwMDBaGA8yMTIwMDEwMTAw\n" \
    "MDAwMFowJDEiMCAGA1UEAwwZc210cC5oIHNlY3VyaXR5IHRlc3QgQ0EgQjBZMBMG\n" \
    "ByqGSM49AgEGCCqGSM49AwEHA0IABMhkHY4RMZTtx7j/ts4SLiQsA4rWvfN5akmA\n" \
    "kBuAwXn3GtreWS6woLXdSO0d4pkoPG/aU0YLv8rEbDJoBQP1nZCjQjBAMA8GA1Ud\n" \
    "EwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgEGMB0GA1UdDgQWBBTEKtg62x/W3MTf\n" \
    "vGqPP4LnPKZjiTAKBggqhkjOPQQDAgNIADBFAiBE9jkCAyX2iQkYjQAp3+hNEukr\n" \
    "qSe685YmOBqYm6PVPwIhANuaBA+VlejIY2siEvOvx1YZCqRm5iRC3Xwef7aX3TEY\n" \
    "-----END CERTIFICATE-----\n"

#define LEAF1_PEM \
    "-----BEGIN CERTIFICATE-----\n" \
    "MIIBmTCCAT+gAwIBAgICEAIwCgYIKoZIzj0EAwIwJDEiMCAGA1UEAwwZc210cC5o\n" \
    "IHNlY3VyaXR5IHRlc3QgQ0EgQTAgFw0yMDAxMDEwMDAwMDBaGA8yMTIwMDEwMTAw\n" \
    "MDAwMFowEDEOMAwGA1UEAwwFbGVhZjEwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC\n" \
    "AASzVaGZF60oiU1tKrUITA9VQxXpk/kQTbxCbhT8nnBypeWNnT6sq9GnReDcAmzu\n" \
    "5bRl3P/mjr7MjMLg6m9a5Vaqo3MwcTAPBgNVHREECDAGhwR/AAABMBMGA1UdJQQM\n" \
    "MAoGCCsGAQUFBwMBMAkGA1UdEwQCMAAwHQYDVR0OBBYEFO5ibDJgJLUAuDUSHSdA\n" \
    "e7Ki9OYBMB8GA1UdIwQYMBaAFJFbEXmvBrL35md1Uq8kb+lgvaozMAoGCCqGSM49\n" \
    "BAMCA0gAMEUCIQDqCB76QV/7MTDDfMJa289sW2ayWCj2qTFTHU9OPvMGPwIgYWfh\n" \
    "tk/csLCgfck0l6eT/Xv2Kvf3+SNCTJsIdX68czo=\n" \
    "-----END CERTIFICATE-----\n"

#define LEAF1_KEY \
    "-----BEGIN PRIVATE KEY-----\n" \
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgXLPlOjdcNuOyn9mt\n" \
    "cmnru5BysnJcDqC4+xE7cE7bhb+hRANCAASzVaGZF60oiU1tKrUITA9VQxXpk/kQ\n" \
    "TbxCbhT8nnBypeWNnT6sq9GnReDcAmzu5bRl3P/mjr7MjMLg6m9a5Vaq\n" \
    "-----END PRIVATE KEY-----\n"

#define LEAF2_PEM \
    "-----BEGIN CERTIFICATE-----\n" \
    "MIIBojCCAUegAwIBAgICEAMwCgYIKoZIzj0EAwIwJDEiMCAGA1UEAwwZc210cC5o\n" \
    "IHNlY3VyaXR5IHRlc3QgQ0EgQTAgFw0yMDAxMDEwMDAwMDBaGA8yMTIwMDEwMTAw\n" \
    "MDAwMFowEDEOMAwGA1UEAwwFbGVhZjIwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC\n" \
    "AAS7TRcameTyDjzXwWcGg6qp/v4+1iKsD/WOV0Y1k7D6lrrnbLWhFjpBOa3KdoCs\n" \
    "3agx1nrqbQQdZQRcEEhMFOS8o3sweTAXBgNVHREEEDAOggxtYWlsLmV4YW1wbGUw\n" \
    "EwYDVR0lBAwwCgYIKwYBBQUHAwEwCQYDVR0TBAIwADAdBgNVHQ4EFgQUsK3mzVnp\n" \
    "mqmzwIPIWRmsJbpNDFswHwYDVR0jBBgwFoAUkVsRea8GsvfmZ3VSryRv6WC9qjMw\n" \
    "CgYIKoZIzj0EAwIDSQAwRgIhANZXQwYLAF2XUYDgwkKQYRpkuDdsFuL8ARF+oEtI\n" \
    "Oso5AiEAlmABmQKHMCket4fT8yroBgYTN9fAGIqqUOL6eLkI2o4=\n" \
    "-----END CERTIFICATE-----\n"

#define LEAF2_KEY \
    "-----BEGIN PRIVATE KEY-----\n" \
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgIQeYOP+0YYMJlzG8\n" \
    "ZbWKrut2H34hXXpWeCOkX0i9FYKhRANCAAS7TRcameTyDjzXwWcGg6qp/v4+1iKs\n" \
    "D/WOV0Y1k7D6lrrnbLWhFjpBOa3KdoCs3agx1nrqbQQdZQRcEEhMFOS8\n" \
    "-----END PRIVATE KEY-----\n"

/* ---- 6. the TLS session cache key ------------------------------------------
   v0.6.0 keyed resumption on the first 40 bytes of ca_pem (and the trust
   store's address), without tls_verify: a session verified under one set
   of trust settings was resumed under another that would have refused the
   server. A BearSSL server with a session cache (a child process):
   - bundle A = CA B + CA A, bundle B = CA B alone (the same first 40
     bytes, and more): a session verified under A must not be resumed
     under B, whose full handshake refuses the server (SMTP_ERR_CERT);
   - a session made with tls_verify NONE and a pin must not be resumed
     under FULL with the same pin, whose handshake checks the name (the
     certificate names mail.example, we connect to 127.0.0.1).
   Each first connection is repeated once, which must resume: otherwise
   the test could not tell. */
static size_t pem_der(const char *pem, unsigned char *out)
{
    const char *b = strstr(pem, "-----BEGIN"), *e;
    b = b ? strchr(b, '\n') : NULL;
    e = b ? strstr(b, "-----END") : NULL;
    return b && e ? b64dec(b + 1, (size_t)(e - b - 1), out) : 0;
}

/* A listening socket on 127.0.0.1, the first free port of 24750-24799. */
static int listen_port(int *port)
{
    int p;
    for (p = 24750; p < 24800; p++) {
        struct sockaddr_in sa;
        int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
        if (fd < 0) return -1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        memset(&sa, 0, sizeof sa);
        sa.sin_family = AF_INET; sa.sin_port = htons((unsigned short)p); sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(fd, 8) == 0) { *port = p; return fd; }
        close(fd);
    }
    return -1;
}

static int sock_read(void *ctx, unsigned char *buf, size_t len)
{
    for (;;) {
        ssize_t n = read(*(int *)ctx, buf, len);
        if (n > 0) return (int)n;
        if (n < 0 && errno == EINTR) continue;
        return -1;
    }
}

static int sock_write(void *ctx, const unsigned char *buf, size_t len)
{
    for (;;) {
        ssize_t n = write(*(int *)ctx, buf, len);
        if (n > 0) return (int)n;
        if (n < 0 && errno == EINTR) continue;
        return -1;
    }
}

static void calm_socket(int fd)
{
    struct timeval tv = { 120, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/* A child serving implicit TLS on lfd with one certificate, sessions
   cached, until killed: 220, EHLO, QUIT (221 and close_notify), else 250. */
static pid_t tls_server_start(int lfd, const char *cert_pem, const char *key_pem)
{
    static unsigned char der[4096], kder[1024], store[16384], iobuf[BR_SSL_BUFSIZE_BIDI];
    static br_x509_certificate chain[1];
    static br_skey_decoder_context kd;
    static br_ssl_server_context sc;
    static br_ssl_session_cache_lru lru;
    pid_t pid;
    fflush(stdout);
    pid = fork();
    if (pid != 0) { close(lfd); return pid; }
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    chain[0].data = der; chain[0].data_len = pem_der(cert_pem, der);
    br_skey_decoder_init(&kd);
    br_skey_decoder_push(&kd, kder, pem_der(key_pem, kder));
    if (br_skey_decoder_key_type(&kd) != BR_KEYTYPE_EC) _exit(2);
    br_ssl_server_init_full_ec(&sc, chain, 1, BR_KEYTYPE_EC, br_skey_decoder_get_ec(&kd));
    br_ssl_session_cache_lru_init(&lru, store, sizeof store);
    br_ssl_server_set_cache(&sc, &lru.vtable);
    br_ssl_engine_set_buffer(&sc.eng, iobuf, sizeof iobuf, 1);
    for (;;) {
        br_sslio_context io;
        char line[1024];
        size_t ll = 0;
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) { if (errno == EINTR) continue; _exit(1); }
        calm_socket(fd);
        br_ssl_server_reset(&sc);
        br_sslio_init(&io, &sc.eng, sock_read, &fd, sock_write, &fd);
        if (br_sslio_write_all(&io, "220 tls.test ESMTP\r\n", 20) == 0 && br_sslio_flush(&io) == 0) {
            for (;;) {
                unsigned char c;
                const char *rep;
                if (br_sslio_read(&io, &c, 1) != 1) break;
                if (ll < sizeof line - 1) line[ll++] = (char)c;
                if (c != '\n') continue;
                line[ll] = 0;
                ll = 0;
                rep = !strncasecmp(line, "EHLO", 4) ? "250-tls.test\r\n250 8BITMIME\r\n"
                    : !strncasecmp(line, "QUIT", 4) ? "221 2.0.0 Bye\r\n" : "250 2.0.0 Ok\r\n";
                if (br_sslio_write_all(&io, rep, strlen(rep)) != 0 || br_sslio_flush(&io) != 0) break;
                if (!strncasecmp(line, "QUIT", 4)) { br_sslio_close(&io); break; }
            }
        }
        close(fd);
    }
}

static void child_stop(pid_t pid)
{
    int st;
    if (pid <= 0) return;
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
}

static smtp_result tls_conn(const char *what, int port, const char *ca, int verify, const char *pin,
                            smtp_tls_cache *cache, int *resumed)
{
    smtp_config cfg;
    smtp_result r;
    memset(&cfg, 0, sizeof cfg);
    cfg.host = "127.0.0.1"; cfg.port = port; cfg.security = SMTP_SECURITY_IMPLICIT; cfg.helo_name = "client.test";
    cfg.ca_pem = ca; cfg.ca_pem_len = ca ? strlen(ca) : 0;
    cfg.tls_verify = verify; cfg.tls_fingerprint = pin; cfg.tls_cache = cache;
    cfg.connect_timeout_ms = cfg.greeting_timeout_ms = cfg.timeout_ms = 120000;
    r = smtp_open(&S, &cfg);
    *resumed = r == SMTP_OK && smtp_tls_resumed(&S);
    if (test_verbose())
        printf("    %s: %s%s%s%s\n", what, smtp_result_str(r), *resumed ? " (resumed)" : "", r ? ": " : "",
               r ? shown(smtp_error_detail(&S)) : "");
    smtp_close(&S);
    return r;
}

TEST(f06_tls_cache_key_covers_trust_and_mode)
{
    static const char bundle_a[] = CA_B_PEM CA_A_PEM, bundle_b[] = CA_B_PEM;
    static const char hex[] = "0123456789abcdef";
    unsigned char der[4096], h[32];
    char pin[65];
    br_sha256_context c;
    smtp_tls_cache *cache = smtp_tls_cache_new(), *fresh = smtp_tls_cache_new();
    int p1 = 0, p2 = 0, l1 = listen_port(&p1), l2 = listen_port(&p2), res, i;
    pid_t s1, s2;
    size_t n;
    CHECK(!memcmp(bundle_a, bundle_b, 40));
    if (l1 < 0 || l2 < 0 || !cache || !fresh) { TEST_FAILMSG("no free port in 24750-24799, or no cache"); return; }
    s1 = tls_server_start(l1, LEAF1_PEM, LEAF1_KEY);
    s2 = tls_server_start(l2, LEAF2_PEM, LEAF2_KEY);
    n = pem_der(LEAF2_PEM, der);
    br_sha256_init(&c); br_sha256_update(&c, der, n); br_sha256_out(&c, h);
    for (i = 0; i < 32; i++) { pin[2 * i] = hex[h[i] >> 4]; pin[2 * i + 1] = hex[h[i] & 15]; }
    pin[64] = 0;

    /* the trust: bundle A verifies the server, bundle B does not */
    CHECK_EQ_INT(tls_conn("bundle B, no cache", p1, bundle_b, SMTP_VERIFY_FULL, NULL, fresh, &res), SMTP_ERR_CERT);
    CHECK_EQ_INT(tls_conn("bundle A", p1, bundle_a, SMTP_VERIFY_FULL, NULL, cache, &res), SMTP_OK);
    CHECK_EQ_INT(res, 0);
    CHECK_EQ_INT(tls_conn("bundle A again", p1, bundle_a, SMTP_VERIFY_FULL, NULL, cache, &res), SMTP_OK);
    if (!res) TEST_FAILMSG("the second connection under bundle A was not resumed: this test cannot tell");
    CHECK_EQ_INT(tls_conn("bundle B after A", p1, bundle_b, SMTP_VERIFY_FULL, NULL, cache, &res), SMTP_ERR_CERT);
    CHECK_EQ_INT(res, 0);

    /* the mode: NONE + pin, then FULL + the same pin (the name does not match) */
    CHECK_EQ_INT(tls_conn("FULL + pin, no cache", p2, bundle_a, SMTP_VERIFY_FULL, pin, fresh, &res), SMTP_ERR_CERT);
    CHECK_EQ_INT(tls_conn("NONE + pin", p2, bundle_a, SMTP_VERIFY_NONE, pin, cache, &res), SMTP_OK);
    CHECK_EQ_INT(tls_conn("NONE + pin again", p2, bundle_a, SMTP_VERIFY_NONE, pin, cache, &res), SMTP_OK);
    if (!res) TEST_FAILMSG("the second connection with NONE + pin was not resumed: this test cannot tell");
    CHECK_EQ_INT(tls_conn("FULL + pin after NONE + pin", p2, bundle_a, SMTP_VERIFY_FULL, pin, cache, &res), SMTP_ERR_CERT);
    CHECK_EQ_INT(res, 0);

    child_stop(s1);
    child_stop(s2);
    smtp_tls_cache_free(cache);
    smtp_tls_cache_free(fresh);
}

/* ---- 7. false success: replies before the end of the message ----------------
   v0.6.0 took a 250 that came right after 354 (before any body byte was
   sent) as the reply to the end of data: SMTP_OK for a message the server
   never received. Any reply before what it answers is a protocol
   violation: SMTP_ERR_PROTOCOL (a 421: SMTP_ERR_CLOSED), every recipient
   reported not delivered, and the end of data never sent (the peer never
   completes the message). */
static char big_body[1 << 17];
static smtp_rcpt_result results[4];

static void false_success_case(const char *what, const char *ehlo, int h, const char *body, smtp_result want)
{
    const char *to[] = { "bob@example.com", "carol@example.com", NULL };
    smtp_message m;
    smtp_result r;
    int i;
    memset(results, 0, sizeof results);
    for (i = 0; i < 4; i++) results[i].accepted = -1;
    CHECK_EQ_INT(open_fake(ehlo, NULL, h), SMTP_OK);
    memset(&m, 0, sizeof m);
    m.from = "alice@example.com"; m.to = to; m.text = body;
    m.results = results; m.results_cap = 4;
    r = smtp_send(&S, &m);
    outcome(what, r);
    if (!hook_done) TEST_FAILMSG("%s: the early reply was never sent: this case cannot tell", what);
    if (r != want) TEST_FAILMSG("%s: %s (%s), expected %s", what, smtp_result_str(r), shown(smtp_error_detail(&S)),
                                smtp_result_str(want));
    for (i = 0; i < 2; i++)
        if (results[i].accepted != 0)
            TEST_FAILMSG("%s: results[%d] (%s) says accepted = %d", what, i, results[i].address ? results[i].address : "(null)",
                         results[i].accepted);
    if (F.messages != 0) TEST_FAILMSG("%s: the end of the message was sent (the peer completed it)", what);
    smtp_close(&S);
}

TEST(f07_reply_before_end_of_data_is_no_success)
{
    size_t i;
    for (i = 0; i + 64 < 65536; i += 64) memcpy(big_body + i, "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopq\n", 64);
    big_body[i] = 0;
    false_success_case("354 and 250 in one read, pipelined", EHLO_PLAIN, H_AFTER_354, "short\n", SMTP_ERR_PROTOCOL);
    false_success_case("354 and 250 in one read, no pipelining", "250-fake.test\r\n250 8BITMIME\r\n", H_AFTER_354,
                       "short\n", SMTP_ERR_PROTOCOL);
    false_success_case("250 in a later read, during a 64 KB body", EHLO_PLAIN, H_DURING_BODY, big_body, SMTP_ERR_PROTOCOL);
    false_success_case("BDAT: one 250 more than the chunks", "250-fake.test\r\n250-PIPELINING\r\n250-CHUNKING\r\n250 8BITMIME\r\n",
                       H_EXTRA_CHUNK_REPLY, big_body, SMTP_ERR_PROTOCOL);
    false_success_case("421 right after 354", EHLO_PLAIN, H_421_AFTER_354, "short\n", SMTP_ERR_CLOSED);
}

/* ---- 8. control bytes from the server ---------------------------------------
   v0.6.0 copied reply texts into smtp_error_detail() and the per-recipient
   texts as they came: ESC sequences, BEL, CR, C1 controls (0x9B is CSI on
   many terminals) reached whoever prints them. Now each such byte shows as
   \xHH; valid UTF-8 stays. */
static void control_checks(const char *what, const char *text, const char *must_hold)
{
    if (!visible_only(text)) TEST_FAILMSG("%s: \"%s\" holds a control byte, C1 or invalid UTF-8", what, shown(text));
    if (must_hold && !strstr(text, must_hold)) TEST_FAILMSG("%s: \"%s\" lacks \"%s\"", what, shown(text), must_hold);
}

#define NASTY "\x1b[31mred\x1b[0m bell\x07 del\x7f csi\x9b" "1m c1\xc2\x9b bad\xff\xfe\xc3 ok\xc3\xa9"

TEST(f08_control_bytes_made_visible)
{
    const char *to[] = { "refuse@x.org", NULL };
    smtp_message m;
    smtp_config cfg;
    smtp_result r;
    char b64[400];
    static const char json[] = "{\"status\":\"401\",\"schemes\":\"bearer \x1b[31mx\x07\",\"scope\":\"\x9b\xc2\x9bq\"}";
    static char chal[500];
    static const char *script[] = { chal, "535 5.7.8 Username and Password not accepted \x1b[0m\x07\r\n", NULL };
    int k;
    static const char *refusals[] = { "550 5.1.1 <refuse>: " NASTY "\r\n",
                                      "550-5.1.1 first\rline " NASTY "\r\n550 5.1.1 second \x1b]0;title\x07\r\n" };
    for (k = 0; k < 2; k++) {   /* a refused recipient: the detail and its result */
        CHECK_EQ_INT(open_fake(EHLO_PLAIN, NULL, H_SWAP), SMTP_OK);
        swap_from = "550 5.1.1 <refuse>: Recipient address rejected\r\n";
        swap_to = refusals[k];
        memset(results, 0, sizeof results);
        memset(&m, 0, sizeof m);
        m.from = "alice@example.com"; m.to = to; m.text = "x"; m.results = results; m.results_cap = 4;
        r = smtp_send(&S, &m);
        outcome(k ? "a two-line refusal with a bare CR" : "a refusal", r);
        if (!hook_done) TEST_FAILMSG("the refusal was not replaced: this case cannot tell");
        CHECK(r != SMTP_OK);
        control_checks("smtp_error_detail", smtp_error_detail(&S), "\\x1b");
        control_checks("results[0].text", results[0].text, "\\x1b");
        CHECK_EQ_INT(results[0].accepted, 0);
        smtp_close(&S);
    }
    /* a refusing greeting */
    memset(&cfg, 0, sizeof cfg);
    fake_reset();
    F.inlen = 0;
    fake_queue("554 5.3.2 \x1b[2J\x1b[Hgo away\x9b\x07\r\n");
    r = fake_open(&S, &cfg);
    outcome("a refusing greeting", r);
    CHECK(r != SMTP_OK);
    control_checks("smtp_error_detail", smtp_error_detail(&S), "\\x1b");
    smtp_close(&S);
    /* XOAUTH2: the server's error is base64 JSON (it goes into the detail) */
    b64enc((const unsigned char *)json, strlen(json), b64);
    snprintf(chal, sizeof chal, "334 %s\r\n", b64);
    memset(&cfg, 0, sizeof cfg);
    cfg.username = "u@x.org"; cfg.password = "token";
    cfg.allowed_auth = SMTP_AUTH_XOAUTH2; cfg.allow_cleartext_auth = 1;
    fake_reset();
    F.ehlo_reply = "250-fake.test\r\n250-AUTH XOAUTH2\r\n250 8BITMIME\r\n";
    F.auth_script = script;
    r = fake_open(&S, &cfg);
    outcome("XOAUTH2 error JSON", r);
    CHECK_EQ_INT(r, SMTP_ERR_AUTH);
    control_checks("smtp_error_detail", smtp_error_detail(&S), "\\x1b");
    CHECK_CONTAINS(smtp_error_detail(&S), "\"status\":\"401\"");
    smtp_close(&S);
}

/* ---- 9. the config loader ---------------------------------------------------
   v0.6.0 re-applied every ancestor once per path: an 800-byte file of
   accounts that each inherit the one before four times (4^15 paths) ran
   for hours. Each ancestor now counts once: the load must finish within
   10 s (it takes milliseconds; the deadline is the feature here), in a
   child that is killed at the deadline. The values must follow msmtp's
   order (checked with msmtp 1.8.23 --pretend): the defaults in force
   where the account starts, then each parent's own and inherited keys,
   in the order listed, then the account's own. And an EHLO name with a
   tab (URL path, "domain", cfg.helo_name) is refused (v0.6.0 sent it). */
/* Loads account in a child, killed after limit_ms; 0 when the values are
   host/port/from, else why not. */
static int load_in_child(const char *text, const char *account, const char *host, int port, const char *from,
                         long long limit_ms, long long *took)
{
    const char *path = write_conf(text, 0600);
    long long t0 = now_ms();
    pid_t pid;
    int st = 0;
    if (!path) return -1;
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        smtp_settings s;
        smtp_result r;
        memset(&s, 0, sizeof s);
        r = smtp_config_load(&s, path, account);
        if (r != SMTP_OK) { printf("    smtp_config_load(%s): %s: %s\n", account, smtp_result_str(r), s.detail); _exit(2); }
        if (!s.cfg.host || strcmp(s.cfg.host, host) || s.cfg.port != port || !s.cfg.from || strcmp(s.cfg.from, from)) {
            printf("    %s: host %s port %d from %s; expected %s %d %s\n", account, s.cfg.host ? s.cfg.host : "(null)",
                   s.cfg.port, s.cfg.from ? s.cfg.from : "(null)", host, port, from);
            _exit(3);
        }
        smtp_settings_free(&s);
        _exit(0);
    }
    for (;;) {
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid) break;
        if (now_ms() - t0 > limit_ms) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            *took = now_ms() - t0;
            unlink(path);
            return -2;
        }
        usleep(5000);
    }
    *took = now_ms() - t0;
    unlink(path);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 100 + WTERMSIG(st);
}

static const char DIAMOND[] =
    "defaults\nport 2525\nfrom d@x.org\n"
    "account base\nhost base.example\nuser base-user\n"
    "account left : base\nhost left.example\n"
    "account right : base\nhost right.example\nuser right-user\n"
    "defaults\nport 2626\n"
    "account diamond : left, right\nfrom diamond@x.org\n"
    "account diamond2 : right, left\n"
    "account base2\nhost base2.example\nport 3000\n"
    "account kid : base2\n";

static void diamond_case(const char *account, const char *host, int port, const char *user, const char *from)
{
    smtp_settings s;
    smtp_result r;
    const char *path = write_conf(DIAMOND, 0600);
    memset(&s, 0, sizeof s);
    r = smtp_config_load(&s, path, account);
    if (r != SMTP_OK) TEST_FAILMSG("account %s: %s", account, s.detail);
    else {
        CHECK_EQ_STR(s.cfg.host, host);
        CHECK_EQ_INT(s.cfg.port, port);
        if (user) CHECK_EQ_STR(s.cfg.username, user);
        else if (s.cfg.username) TEST_FAILMSG("account %s: user \"%s\", expected none", account, s.cfg.username);
        CHECK_EQ_STR(s.cfg.from, from);
    }
    smtp_settings_free(&s);
    unlink(path);
}

TEST(f09_config_inheritance_and_ehlo_names)
{
    static char text[4000];
    smtp_settings s;
    smtp_config cfg;
    smtp_result r;
    long long took = 0;
    size_t o;
    int i, rc;
    /* 15 accounts, each inheriting the one before four times: 4^15 paths */
    o = (size_t)sprintf(text, "defaults\nport 1000\naccount a0\nhost h0.example\nfrom a0@x.org\n");
    for (i = 1; i <= 15; i++)
        o += (size_t)sprintf(text + o, "account a%d : a%d, a%d, a%d, a%d\nfrom a%d@x.org\n", i, i - 1, i - 1, i - 1, i - 1, i);
    CHECK(o < 850);
    rc = load_in_child(text, "a15", "h0.example", 1000, "a15@x.org", 10000, &took);
    if (test_verbose()) printf("    %lu bytes, 4^15 inheritance paths: %s after %lld ms\n", (unsigned long)o,
                               rc == 0 ? "loaded" : rc == -2 ? "killed" : "failed", took);
    if (rc == -2) TEST_FAILMSG("loading a %lu-byte file was still running after %lld ms", (unsigned long)o, took);
    else if (rc != 0) TEST_FAILMSG("loading the 4^15 file failed (%d)", rc);
    /* a chain of 40 accounts with two parents each: deeper than v0.6.0's guard of 16, and 2^40 paths */
    o = (size_t)sprintf(text, "account c0\nhost c0.example\nport 587\nfrom c0@x.org\n");
    for (i = 1; i <= 40; i++) o += (size_t)sprintf(text + o, "account c%d : c%d, c%d\n", i, i - 1, i - 1);
    rc = load_in_child(text, "c40", "c0.example", 587, "c0@x.org", 10000, &took);
    if (rc == -2) TEST_FAILMSG("loading a 40-deep chain was still running after %lld ms", took);
    else if (rc != 0) TEST_FAILMSG("loading a 40-deep chain failed (%d)", rc);
    /* a diamond, both orders, and defaults that change between accounts (msmtp 1.8.23 --pretend agrees) */
    diamond_case("diamond", "right.example", 2626, "right-user", "diamond@x.org");
    diamond_case("diamond2", "left.example", 2626, "base-user", "d@x.org");
    diamond_case("left", "left.example", 2525, "base-user", "d@x.org");
    diamond_case("kid", "base2.example", 3000, NULL, "d@x.org");
    /* EHLO names with a tab */
    memset(&s, 0, sizeof s);
    CHECK_EQ_INT(smtp_config_from_url(&s, "smtp://h.example/ehlo.example"), SMTP_OK);
    CHECK_EQ_STR(s.cfg.helo_name, "ehlo.example");
    smtp_settings_free(&s);
    memset(&s, 0, sizeof s);
    r = smtp_config_from_url(&s, "smtp://h.example/ehlo%09name");
    if (r != SMTP_ERR_CONFIG) TEST_FAILMSG("smtp://h.example/ehlo%%09name: %s, helo_name \"%s\"", smtp_result_str(r),
                                           shown(s.cfg.helo_name));
    smtp_settings_free(&s);
    memset(&s, 0, sizeof s);
    r = smtp_settings_set(&s, "domain", "ehlo\tname");
    if (r != SMTP_ERR_CONFIG) TEST_FAILMSG("domain \"ehlo\\tname\" (smtp_settings_set): %s", smtp_result_str(r));
    smtp_settings_free(&s);
    {
        const char *path = write_conf("account default\nhost h.example\ndomain ehlo\tname\n", 0600);
        memset(&s, 0, sizeof s);
        r = smtp_config_load(&s, path, NULL);
        if (r != SMTP_ERR_CONFIG) TEST_FAILMSG("domain ehlo<TAB>name in a file: %s, helo_name \"%s\"", smtp_result_str(r),
                                               shown(s.cfg.helo_name));
        smtp_settings_free(&s);
        unlink(path);
    }
    memset(&cfg, 0, sizeof cfg);
    cfg.helo_name = "ehlo\tname";
    r = open_fake(NULL, &cfg, H_NONE);
    if (r != SMTP_ERR_PARAM) TEST_FAILMSG("cfg.helo_name \"ehlo\\tname\": %s", smtp_result_str(r));
    CHECK_EQ_INT(fake_count("EHLO"), 0);
    smtp_close(&S);
}

/* ---- 10. attachment content types with parameters ---------------------------
   v0.6.0 refused "text/plain; charset=utf-8" with one sentence for five
   conditions. Now RFC 2045 parameters are accepted and written; a bad
   type is refused with a detail that names the field and the one rule
   it breaks (different inputs, different rules). */
static int part_params(const char *payload, const char *name, char *value, size_t cap)
{
    const char *p = parse_out, *next;
    char hx[64], want_name[64];
    size_t i;
    for (i = 0; payload[i] && i < 30; i++) sprintf(hx + 2 * i, "%02x", (unsigned char)payload[i]);
    hx[2 * i] = 0;
    for (i = 0; name[i] && i < 30; i++) sprintf(want_name + 2 * i, "%02x", (unsigned char)name[i]);
    want_name[2 * i] = 0;
    while ((p = strstr(p, "PART ")) != NULL) {
        const char *e = strchr(p, '\n');
        size_t hl = strlen(hx);
        if (e && (size_t)(e - p) > hl && !memcmp(e - hl, hx, hl) && e[-hl - 1] == ' ') {
            for (p = e + 1; !strncmp(p, "PARAM ", 6); p = next) {
                char k[200], v[2000];
                next = strchr(p, '\n'); next = next ? next + 1 : p + strlen(p);
                if (sscanf(p, "PARAM %199s %1999s", k, v) == 2 && !strcmp(k, want_name)) { unhex(v, value, cap); return 0; }
            }
            return -1;
        }
        p += 5;
    }
    return -1;
}

TEST(f10_attachment_content_type_parameters)
{
    static const char *bad[] = { "text", "text/plain; charset", "text/plain; a=\"unterminated" };
    static char details[3][600];
    const char *to[] = { "bob@example.com", NULL };
    smtp_attachment at[2];
    smtp_message m;
    smtp_result r;
    char v[300];
    int k, j;
    memset(at, 0, sizeof at);
    at[0].filename = "notes.txt"; at[0].data = "hello"; at[0].size = 5; at[0].content_type = "text/plain; charset=utf-8";
    at[1].filename = "page.txt"; at[1].data = "world"; at[1].size = 5;
    at[1].content_type = "text/plain; charset=\"iso-8859-1\"; format=flowed";
    CHECK_EQ_INT(open_fake(EHLO_PLAIN, NULL, H_NONE), SMTP_OK);
    memset(&m, 0, sizeof m);
    m.from = "alice@example.com"; m.to = to; m.text = "body"; m.attachments = at; m.attachment_count = 2;
    r = smtp_send(&S, &m);
    outcome("text/plain; charset=utf-8", r);
    CHECK_EQ_INT(r, SMTP_OK);
    if (r == SMTP_OK) {
        wire_take();
        CHECK(lines_ok(wire, wire_len) == 0);
        CHECK_CONTAINS(wire, "Content-Type: text/plain; charset=utf-8;");
        if (py_parse("mime", wire, wire_len) == 0) {
            CHECK_EQ_INT(defect_lines(), 0);
            if (part_params("hello", "charset", v, sizeof v) == 0) CHECK_EQ_STR(v, "utf-8"); else TEST_FAILMSG("no charset on notes.txt");
            if (part_params("hello", "name", v, sizeof v) == 0) CHECK_EQ_STR(v, "notes.txt"); else TEST_FAILMSG("no name on notes.txt");
            if (part_params("world", "charset", v, sizeof v) == 0) CHECK_EQ_STR(v, "iso-8859-1"); else TEST_FAILMSG("no charset on page.txt");
            if (part_params("world", "format", v, sizeof v) == 0) CHECK_EQ_STR(v, "flowed"); else TEST_FAILMSG("no format on page.txt");
        } else TEST_FAILMSG("the reader failed");
    }
    smtp_close(&S);
    for (k = 0; k < 3; k++) {
        char *p;
        at[1].content_type = bad[k];
        CHECK_EQ_INT(open_fake(EHLO_PLAIN, NULL, H_NONE), SMTP_OK);
        r = smtp_send(&S, &m);
        outcome(bad[k], r);
        CHECK_EQ_INT(r, SMTP_ERR_PARAM);
        CHECK_EQ_INT(fake_count("MAIL FROM"), 0);
        CHECK_CONTAINS(smtp_error_detail(&S), "message.attachments[1].content_type");
        snprintf(details[k], sizeof details[k], "%s", smtp_error_detail(&S));
        if ((p = strstr(details[k], bad[k])) != NULL) memmove(p, p + strlen(bad[k]), strlen(p + strlen(bad[k])) + 1);
        for (j = 0; j < k; j++)
            if (!strcmp(details[j], details[k]))
                TEST_FAILMSG("\"%s\" and \"%s\" get the same sentence: \"%s\"", bad[j], bad[k], details[k]);
        smtp_close(&S);
    }
}

/* ---- 11. an HTTP proxy's interim 1xx response --------------------------------
   v0.6.0 took "HTTP/1.1 100 Continue" before the 200 as the proxy's refusal
   (SMTP_ERR_PROXY). RFC 9110 15.2: interim responses are skipped. A child
   on 127.0.0.1 plays the proxy and then the SMTP server; it exits 0 when
   it got CONNECT mail.example:25, then EHLO and QUIT through the tunnel. */
static pid_t proxy_start(int lfd, int split)
{
    static const char *parts[] = { "HTTP/1.1 100 Continue\r\n\r\n", "HTTP/1.1 102 Processing\r\nX-Note: interim\r\n\r\n",
                                   "HTTP/1.1 200 Connection established\r\n\r\n", "220 proxied.test ESMTP\r\n" };
    char req[4096], line[1024];
    size_t n = 0, ll = 0;
    int fd, saw_ehlo = 0, i;
    pid_t pid;
    fflush(stdout);
    pid = fork();
    if (pid != 0) { close(lfd); return pid; }
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    fd = accept(lfd, NULL, NULL);
    if (fd < 0) _exit(7);
    calm_socket(fd);
    while (n < sizeof req - 1 && !memmem(req, n, "\r\n\r\n", 4)) {
        ssize_t k = read(fd, req + n, sizeof req - 1 - n);
        if (k <= 0) _exit(6);
        n += (size_t)k;
    }
    req[n] = 0;
    if (strncmp(req, "CONNECT mail.example:25 HTTP/1.1\r\n", 34)) {
        if (write(fd, "HTTP/1.1 400 Bad Request\r\n\r\n", 28) < 0) _exit(4);
        _exit(4);
    }
    if (split) {
        for (i = 0; i < 4; i++) {
            if (write(fd, parts[i], strlen(parts[i])) < 0) _exit(6);
            usleep(50000);
        }
    } else {
        char all[400];
        snprintf(all, sizeof all, "%s%s%s", parts[0], parts[2], parts[3]);
        if (write(fd, all, strlen(all)) < 0) _exit(6);
    }
    for (;;) {
        char c;
        const char *rep;
        if (read(fd, &c, 1) != 1) _exit(saw_ehlo ? 8 : 5);
        if (ll < sizeof line - 1) line[ll++] = c;
        if (c != '\n') continue;
        line[ll] = 0; ll = 0;
        if (!strncmp(line, "EHLO", 4)) saw_ehlo = 1;
        rep = !strncmp(line, "EHLO", 4) ? "250-proxied.test\r\n250 8BITMIME\r\n"
            : !strncmp(line, "QUIT", 4) ? "221 2.0.0 Bye\r\n" : "250 2.0.0 Ok\r\n";
        if (write(fd, rep, strlen(rep)) < 0) _exit(6);
        if (!strncmp(line, "QUIT", 4)) _exit(saw_ehlo ? 0 : 5);
    }
}

TEST(f11_http_proxy_interim_response)
{
    int split;
    for (split = 0; split < 2; split++) {
        smtp_config cfg;
        smtp_result r;
        int port = 0, lfd = listen_port(&port), st = 0;
        pid_t pid;
        if (lfd < 0) { TEST_FAILMSG("no free port in 24750-24799"); return; }
        pid = proxy_start(lfd, split);
        memset(&cfg, 0, sizeof cfg);
        cfg.host = "mail.example"; cfg.port = 25; cfg.security = SMTP_SECURITY_NONE; cfg.helo_name = "client.test";
        cfg.proxy.type = SMTP_PROXY_HTTP; cfg.proxy.host = "127.0.0.1"; cfg.proxy.port = port;
        cfg.connect_timeout_ms = cfg.greeting_timeout_ms = cfg.timeout_ms = 120000;
        r = smtp_open(&S, &cfg);
        outcome(split ? "100, 102, 200 and 220 in four writes" : "100, 200 and 220 in one write", r);
        if (r != SMTP_OK) TEST_FAILMSG("%s: %s", smtp_result_str(r), shown(smtp_error_detail(&S)));
        else CHECK(smtp_extensions(&S) & SMTP_EXT_8BITMIME);   /* the EHLO reply came through the tunnel */
        smtp_close(&S);
        if (r != SMTP_OK) kill(pid, SIGKILL);
        waitpid(pid, &st, 0);
        if (r == SMTP_OK && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
            TEST_FAILMSG("the proxy's peer ended with status %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    }
}

/* ---- 12. BODY=8BITMIME to a server without 8BITMIME ---------------------------
   v0.6.0 sent "MAIL FROM:<...> BODY=8BITMIME" to a server that did not offer
   8BITMIME and then let 8-bit bytes through smtp_data_write. Now the
   parameter is refused before MAIL (SMTP_ERR_UNSUPPORTED), SMTPUTF8 likewise. */
TEST(f12_body_8bitmime_needs_the_extension)
{
    static const char *params[] = { "BODY=8BITMIME", "body=8bitmime", "SIZE=100 BODY=8BITMIME", "SMTPUTF8" };
    smtp_result r;
    size_t k;
    for (k = 0; k < sizeof params / sizeof *params; k++) {
        CHECK_EQ_INT(open_fake("250-fake.test\r\n250 PIPELINING\r\n", NULL, H_NONE), SMTP_OK);
        r = smtp_mail_from_opts(&S, "alice@example.com", params[k]);
        outcome(params[k], r);
        if (r != SMTP_ERR_UNSUPPORTED) TEST_FAILMSG("%s without the extension: %s", params[k], smtp_result_str(r));
        CHECK_EQ_INT(fake_count("MAIL FROM"), 0);
        if (r == SMTP_OK && k == 0 && smtp_rcpt_to(&S, "bob@example.com") == SMTP_OK && smtp_data_begin(&S) == SMTP_OK &&
            smtp_data_write(&S, "gr\xc3\xbc\xc3\x9f\r\n", 7) == SMTP_OK && smtp_data_end(&S) == SMTP_OK)
            TEST_FAILMSG("8-bit bytes reached a server that did not offer 8BITMIME");
        smtp_close(&S);
    }
    /* offered: declared and written as they are */
    CHECK_EQ_INT(open_fake(EHLO_PLAIN, NULL, H_NONE), SMTP_OK);
    CHECK_EQ_INT(smtp_mail_from_opts(&S, "alice@example.com", "BODY=8BITMIME"), SMTP_OK);
    CHECK_EQ_INT(smtp_rcpt_to(&S, "bob@example.com"), SMTP_OK);
    CHECK_EQ_INT(smtp_data_begin(&S), SMTP_OK);
    CHECK_EQ_INT(smtp_data_write(&S, "gr\xc3\xbc\xc3\x9f\r\n", 7), SMTP_OK);
    CHECK_EQ_INT(smtp_data_end(&S), SMTP_OK);
    CHECK_EQ_INT(fake_count("MAIL FROM:<alice@example.com> BODY=8BITMIME\r\n"), 1);
    CHECK(memmem(F.msg, F.msglen, "gr\xc3\xbc\xc3\x9f\r\n", 7) != NULL);
    smtp_close(&S);
}

/* ---- runner: each test in a child ----------------------------------------- */
typedef struct { const char *name; void (*fn)(void); } test_entry;
#define T(n) { #n, n }
static const test_entry TESTS[] = {
    T(f01_long_reply_to_and_sender), T(f02_idna_address_of_600_bytes), T(f03_oauthbearer_escaped_user_name),
    T(f04_inline_part_without_html), T(f05_display_names_stay_quoted), T(f06_tls_cache_key_covers_trust_and_mode),
    T(f07_reply_before_end_of_data_is_no_success), T(f08_control_bytes_made_visible),
    T(f09_config_inheritance_and_ehlo_names), T(f10_attachment_content_type_parameters),
    T(f11_http_proxy_interim_response), T(f12_body_8bitmime_needs_the_extension),
};

int main(int argc, char **argv)
{
    size_t i;
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);   /* a child that aborts keeps what it printed */
    for (i = 0; i < sizeof TESTS / sizeof *TESTS; i++) {
        pid_t pid;
        int st = 0, checks[2];   /* the child's count of checks comes back through a pipe */
        long long t0 = now_ms();
        if (argc > 1 && !strstr(TESTS[i].name, argv[1])) continue;
        if (pipe(checks) != 0) { perror("pipe"); return 2; }
        fflush(stdout);
        pid = fork();
        if (pid < 0) { perror("fork"); return 2; }
        if (pid == 0) {
            alarm(300);   /* a hang is a failure, not a stuck make test */
            close(checks[0]);
            test_cur = TESTS[i].name;
            test_cur_failed = 0;
            test_checks = 0;
            TESTS[i].fn();
            fflush(stdout);
            if (write(checks[1], &test_checks, sizeof test_checks) != (ssize_t)sizeof test_checks) _exit(4);
            _exit(test_cur_failed ? 3 : 0);
        }
        close(checks[1]);
        {
            int n = 0;
            if (read(checks[0], &n, sizeof n) == (ssize_t)sizeof n) test_checks += n;
            close(checks[0]);
        }
        waitpid(pid, &st, 0);
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
            test_passed++;
            if (test_verbose()) printf("ok   %s (%lld ms)\n", TESTS[i].name, now_ms() - t0);
        } else if (WIFEXITED(st) && WEXITSTATUS(st) == 3) {
            test_failed++;
            printf("FAIL %s\n", TESTS[i].name);
        } else {
            test_failed++;
            if (WIFEXITED(st)) printf("CRASH %s (exit status %d: see the sanitizer's report above)\n", TESTS[i].name,
                                      WEXITSTATUS(st));
            else printf("CRASH %s (signal %d)\n", TESTS[i].name, WTERMSIG(st));
        }
        fflush(stdout);
    }
    return TEST_END();
}
