/* fuzz_session.c - the whole session with the fuzzer as the server. A
   scripted transport (the idea of tests/fake.h) hands out
   the input as the server's bytes and swallows what the client writes
   (a public smtp_transport, cfg.transport, opened with smtp_open);
   when the bytes run out, read() reports SMTP_ERR_TIMEOUT, as a silent
   server would. The first input byte picks how the bytes are cut into
   reads (its low two bits) and seeds the sizes:
     0  one line per read (what a lock-step server sends)
     1  one byte per read
     2  1..16 bytes per read, never past a line end
     3  1..256 bytes per read, across line ends (pipelined replies, or
        bytes that answer nothing before a lock-step command, or a reply
        before the end of data it would answer)
   In modes 0-2 the server waits while the client has unsent bytes (so
   the end of data and its reply can be reached at all).
   The top bit of the first byte picks LMTP (RFC 2033: LHLO, a reply per
   accepted recipient after the end of data) instead of SMTP.
   The session: security NONE, a user name and password with every
   mechanism allowed and cleartext AUTH permitted (so AUTH runs whenever
   the fuzzer offers it), then smtp_send of a small message to three
   recipients with a results array, then smtp_close.
   Checks: nothing crashes, leaks or hangs; every result is a known code;
   smtp_send returns SMTP_OK or SMTP_PARTIAL only when a 2xx reply came
   to the end of data (after a 354 to DATA) or to BDAT LAST; the client
   never takes a reply for a command it did not send; the results array
   agrees with it; an error return means no recipient got the message
   (DESIGN.md, "Nothing lost"); the detail and the reply text are
   NUL-terminated; no I/O after close. */
/* Each input runs twice: the blocking calls (smtp_send), then the same
   session stepped (smtp_send_start and smtp_step, as an event loop drives
   it; the script's writes then stutter: every other one would block, each
   takes 1..300 bytes, so every place a step can stop while writing is
   reached). Both must end alike, byte for byte: the result, every recipient's
   outcome, the bytes written. So that they can, the clock, the nonce and
   the date are the fuzzer's: the clock only moves when a stepped session
   waits for bytes the script will never give (then its deadline passes,
   as the blocking run's read timed out at once). */
static long long fuzz_ms = 1000000;
#define SMTP_CLOCK_MS() fuzz_ms
#define SMTP_ENTROPY(buf, len) memset((buf), 0x5a, (len))
#define SMTP_TIME() 1700000000
#include "fuzz.h"

/* -DFUZZ_CHECK_DELIVERY=0 drops the "error means delivered to none" check
   (to fuzz further while that one is known to fail). */
#ifndef FUZZ_CHECK_DELIVERY
#define FUZZ_CHECK_DELIVERY 1
#endif

static smtp_session S;

static struct script {
    const unsigned char *p;
    size_t n, pos;
    int mode;
    uint32_t rs;
    int closed, io_after_close;
    /* what the replies still to come answer (see on_trace) */
    unsigned char q[4096];
    size_t qh, qt;
    int lost, finals;
    int lmtp, rcpt_ok;                   /* LMTP: one reply per accepted RCPT after the end of data */
    uint32_t out_hash; size_t out_len;   /* every byte the client wrote */
    uint32_t ws; int wblock;             /* stepped: the write stutter (its own generator) */
} T;

static int t_read(void *user, void *buf, size_t len, int timeout_ms)
{
    size_t left = T.n - T.pos, k = left, line;
    const unsigned char *nl;
    (void)user; (void)timeout_ms;
    if (T.closed) T.io_after_close = 1;
    FCHECK(len > 0);
    if (left == 0) return SMTP_ERR_TIMEOUT;
    /* modes 0-2 are a server that answers what it received: while the
       client holds bytes it has not sent (the end of data waiting for the
       premature check, BDAT LAST), nothing comes; mode 3 sends whenever */
    if (T.mode != 3 && (S.state == SMTP__BDAT ? S.wr.len > SMTP__BDAT_HDR : S.wr.len > 0)) return SMTP_ERR_TIMEOUT;
    nl = (const unsigned char *)memchr(T.p + T.pos, '\n', left);
    line = nl ? (size_t)(nl - (T.p + T.pos)) + 1 : left;
    switch (T.mode) {
    case 0: k = line; break;
    case 1: k = 1; break;
    case 2: k = 1 + fuzz_rng(&T.rs) % 16; if (k > line) k = line; break;
    default: k = 1 + fuzz_rng(&T.rs) % 256; break;
    }
    if (k > left) k = left;
    if (k > len) k = len;
    memcpy(buf, T.p + T.pos, k);
    T.pos += k;
    return (int)k;
}

static int t_write(void *user, const void *buf, size_t len, int timeout_ms)
{
    (void)user;
    if (T.closed) T.io_after_close = 1;
    FCHECK(buf != NULL && len > 0);
    if (timeout_ms == 0) {   /* stepped: every other write would block, and each takes 1..300 bytes */
        size_t k = 1 + fuzz_rng(&T.ws) % 300;
        if ((T.wblock ^= 1) != 0) return SMTP_ERR_TIMEOUT;
        if (len > k) len = k;
    }
    {   /* FNV-1a over the stream, however it is cut into writes */
        const uint8_t *q = (const uint8_t *)buf;
        size_t i;
        for (i = 0; i < len; i++) { T.out_hash ^= q[i]; T.out_hash *= 16777619u; }
    }
    T.out_len += len;
    return (int)len;
}

static void t_close(void *user)
{
    (void)user;
    T.closed = 1;
}

/* the script is the caller's own stream (cfg.transport): the public way in */
static const smtp_transport script_stream = { t_read, t_write, t_close, NULL };

/* Which command each reply answers, from the trace: every command line
   sent (SMTP_TRACE_OUT) gets one reply, in order, also when PIPELINING
   (RFC 2920) sends several at once; the greeting answers nothing sent. A
   354 to DATA means the end of data will get a reply of its own. A 2xx to
   the end of data or to BDAT ... LAST (RFC 3030) is a final acceptance. */
enum { K_GREETING, K_DATA, K_END, K_BDAT_LAST, K_OTHER, K_MAIL, K_RCPT };

static void push(int kind)
{
    if (T.qt - T.qh >= sizeof T.q) { T.lost = 1; return; }
    T.q[T.qt++ % sizeof T.q] = (unsigned char)kind;
}

static void on_trace(void *user, smtp_trace_dir dir, const char *d, size_t n)
{
    (void)user;
    if (T.lost) return;
    if (dir == SMTP_TRACE_OUT) {
        int k = n == 4 && !memcmp(d, "DATA", 4) ? K_DATA
              : n > 10 && !memcmp(d, "BDAT ", 5) && !memcmp(d + n - 5, " LAST", 5) ? K_BDAT_LAST
              : n > 9 && !memcmp(d, "MAIL FROM", 9) ? K_MAIL : n > 7 && !memcmp(d, "RCPT TO", 7) ? K_RCPT : K_OTHER;
        int extra;
        push(k);
        /* LMTP (RFC 2033 4.2): BDAT LAST gets a reply per accepted recipient */
        for (extra = 1; k == K_BDAT_LAST && T.lmtp && extra < T.rcpt_ok; extra++) push(K_BDAT_LAST);
    } else if (dir == SMTP_TRACE_IN) {
        int k, ends;
        FCHECK(n >= 3);
        if (n > 3 && d[3] == '-') return;          /* not the last line of its reply */
        FCHECK(T.qt > T.qh);                        /* a reply to something asked */
        k = T.q[T.qh++ % sizeof T.q];
        if (k == K_MAIL) T.rcpt_ok = 0;
        if (k == K_RCPT && (!memcmp(d, "250", 3) || !memcmp(d, "251", 3))) T.rcpt_ok++;
        if (k == K_DATA && !memcmp(d, "354", 3))   /* LMTP: the end of data gets a reply per accepted recipient */
            for (ends = 0; ends < (T.lmtp && T.rcpt_ok > 1 ? T.rcpt_ok : 1); ends++) push(K_END);
        else if ((k == K_END || k == K_BDAT_LAST) && d[0] == '2') T.finals++;
    }
}

/* FUZZ_VERBOSE=1: one line per input saying how the session went, for
   reading a crash or a seed: ./fuzz_session -runs=0 file, or file as argument */
static int verbose(void)
{
    static int v = -1;
    if (v < 0) { const char *e = getenv("FUZZ_VERBOSE"); v = e && *e == '1'; }
    return v;
}

/* A code from the result table (the same X-macro makes the enum). */
static int known(smtp_result r)
{
#define FUZZ_CASE(name, value, text) case name:
    switch (r) {
    SMTP_RESULT_TABLE(FUZZ_CASE)
        return smtp_result_str(r) != NULL;
    default:
        return 0;
    }
#undef FUZZ_CASE
}

static void check_session(void)
{
    const smtp_reply *rp = smtp_last_reply(&S);
    const char *d = smtp_error_detail(&S);
    FCHECK(d != NULL && memchr(d, 0, sizeof S.detail) != NULL);
    FCHECK(rp != NULL && rp->text != NULL);
    FCHECK(memchr(rp->text, 0, sizeof S.rd.text) != NULL && strlen(rp->text) == rp->len);
    FCHECK(memchr(rp->status, 0, sizeof rp->status) != NULL);
    FCHECK(rp->code == 0 || (rp->code >= 200 && rp->code <= 599));
    FCHECK(S.rd.pos <= S.rd.len && S.rd.len <= sizeof S.rd.buf && S.wr.len <= sizeof S.wr.buf);
}

/* How one run ended, for comparing the two. */
typedef struct outcome {
    smtp_result ro, rs;
    smtp_rcpt_result res[3];
    uint32_t out_hash; size_t out_len;
    int finals;
} outcome;

/* The steps of an operation begun with r (smtp_open_start, smtp_send_start). */
static smtp_result step_loop(smtp_result r)
{
    long steps = 0;
    int idle = 0;
    if (r != SMTP_OK) return r;
    for (;;) {
        size_t pos = T.pos, out = T.out_len;
        r = smtp_step(&S);
        if (r != SMTP_WANT_READ && r != SMTP_WANT_WRITE) return r;
        FCHECK(smtp_fd(&S) == SMTP_INVALID_SOCKET);         /* our own transport: no descriptor */
        FCHECK(smtp_timeout_ms(&S) >= 0);   /* every wait has a deadline */
        FCHECK(++steps < 1000000);
        if (r == SMTP_WANT_WRITE || T.pos != pos || T.out_len != out) { idle = 0; continue; }
        if (++idle >= 2) { fuzz_ms += 100000000; idle = 0; }   /* nothing will come: time passes */
    }
}

/* smtp_open and smtp_send, or (stepped) the same through their _start
   calls and smtp_step. */
static smtp_result open_it(const smtp_config *cfg, int stepped)
{
    return stepped ? step_loop(smtp_open_start(&S, cfg)) : smtp_open(&S, cfg);
}

static smtp_result send_it(const smtp_message *m, int stepped)
{
    return stepped ? step_loop(smtp_send_start(&S, m)) : smtp_send(&S, m);
}

static void run(const uint8_t *data, size_t size, int stepped, outcome *o)
{
    static const char *const to[] = { "Alice <alice@example.com>", "bob@example.org", NULL };
    static const char *const cc[] = { "carol@example.net", NULL };
    smtp_config cfg;
    smtp_message m;
    smtp_rcpt_result *res = o->res;
    smtp_result ro, rs, rc, rc2;
    int i, acc = 0, ref = 0, filled = 0;

    memset(&T, 0, sizeof T);
    T.mode = data[0] & 3;
    T.rs = (data[0] >> 2) & 31;
    T.p = data + 1; T.n = size - 1;
    T.ws = T.rs;
    T.out_hash = 2166136261u;
    push(K_GREETING);

    memset(&cfg, 0, sizeof cfg);
    cfg.host = "mx.fuzz.test";
    cfg.port = 25;
    cfg.security = SMTP_SECURITY_NONE;
    cfg.username = "user@fuzz.test";
    cfg.password = "secret-password";
    cfg.allow_cleartext_auth = 1;
    cfg.allowed_auth = SMTP_AUTH_PLAIN | SMTP_AUTH_LOGIN | SMTP_AUTH_CRAM_MD5 | SMTP_AUTH_XOAUTH2 |
                       SMTP_AUTH_OAUTHBEARER;
    cfg.helo_name = "client.fuzz.test";
    cfg.trace = on_trace;
    cfg.no_reconnect = 1;   /* the script is one connection: a reconnect would be a real one */
    T.lmtp = data[0] >> 7;
    cfg.protocol = T.lmtp ? SMTP_PROTOCOL_LMTP : SMTP_PROTOCOL_SMTP;

    memset(&m, 0, sizeof m);
    m.from = "Sender <sender@fuzz.test>";
    m.to = to; m.cc = cc;
    m.subject = "fuzz";
    m.text = "Hello.\n.a line with a dot\nbye\n";
    memset(res, 0, sizeof o->res);
    for (i = 0; i < 3; i++) res[i].code = -1;
    m.results = res; m.results_cap = 3;

    cfg.transport = &script_stream;
    ro = open_it(&cfg, stepped);
    FCHECK(known(ro) && ro <= SMTP_OK);
    check_session();

    rs = send_it(&m, stepped);
    if (!known(rs)) fprintf(stderr, "smtp_send returned %d\n", (int)rs);
    FCHECK(known(rs));
    check_session();
    if (ro != SMTP_OK) FCHECK(rs < SMTP_OK);
    if ((rs == SMTP_OK || rs == SMTP_PARTIAL) && !T.lost) FCHECK(T.finals > 0);

    for (i = 0; i < 3; i++) {
        if (res[i].code == -1) continue;
        filled++;
        FCHECK(res[i].address == (i == 0 ? to[0] : i == 1 ? to[1] : cc[0]));
        FCHECK(memchr(res[i].text, 0, sizeof res[i].text) != NULL);
        FCHECK(memchr(res[i].status, 0, sizeof res[i].status) != NULL);
        if (res[i].accepted) { acc++; FCHECK(res[i].code / 100 == 2); }
        else ref++;
    }
    if (rs == SMTP_OK) FCHECK(acc == 3 && filled == 3);
    if (rs == SMTP_PARTIAL) FCHECK(acc >= 1 && ref >= 1 && filled == 3);
    if (rs == SMTP_ERR_REPLY) FCHECK(acc == 0);
#if FUZZ_CHECK_DELIVERY
    /* DESIGN.md, "Nothing lost": an error means the message went to none.
       A recipient whose final reply was 2xx got it, whatever fails later. */
    if (rs < SMTP_OK) FCHECK(acc == 0);
#endif

    rc = smtp_close(&S);
    FCHECK(known(rc) && rc <= SMTP_OK);
    if (verbose())
        fprintf(stderr, "open %s, send %s (%d accepted, %d refused, %d final 2xx), close %s: %s\n",
                smtp_result_str(ro), smtp_result_str(rs), acc, ref, T.finals, smtp_result_str(rc),
                smtp_error_detail(&S));
    check_session();
    FCHECK(T.closed);
    /* closed: every further call fails without I/O, a second close is harmless */
    FCHECK(smtp_send(&S, &m) < SMTP_OK);
    FCHECK(smtp_noop(&S) < SMTP_OK);
    rc2 = smtp_close(&S);
    FCHECK(known(rc2) && rc2 <= SMTP_OK);
    FCHECK(!T.io_after_close);
    check_session();
    o->ro = ro; o->rs = rs; o->out_hash = T.out_hash; o->out_len = T.out_len; o->finals = T.finals;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static outcome a, b;
    int i;
    if (size < 1) return 0;
    memset(&a, 0, sizeof a); memset(&b, 0, sizeof b);
    fuzz_ms = 1000000;
    run(data, size, 0, &a);
    fuzz_ms = 1000000;
    run(data, size, 1, &b);
    if (verbose() && (a.rs != b.rs || a.out_len != b.out_len))
        fprintf(stderr, "blocking: %s, %zu bytes; stepped: %s, %zu bytes\n", smtp_result_str(a.rs), a.out_len,
                smtp_result_str(b.rs), b.out_len);
    FCHECK(a.ro == b.ro && a.rs == b.rs && a.finals == b.finals);
    FCHECK(a.out_len == b.out_len && a.out_hash == b.out_hash);
    for (i = 0; i < 3; i++) {
        FCHECK(a.res[i].code == b.res[i].code && a.res[i].accepted == b.res[i].accepted);
        FCHECK(!strcmp(a.res[i].status, b.res[i].status) && !strcmp(a.res[i].text, b.res[i].text));
    }
    return 0;
}
