/* fake.h - a scripted in-memory SMTP peer plugged into the session's io
   slot, for unit tests of the session logic without sockets. It answers
   like a small server (configurable refusals, 452 after N recipients, a
   refused DATA, a 421) and records every byte the client wrote.
   Integration tests use real servers; this is for logic and faults.
   Also here: reading back what it received (b64dec, unstuff).
   Include after test.h. */
#ifndef SMTP_FAKE_H
#define SMTP_FAKE_H

typedef struct fake {
    char out[1 << 22]; size_t outlen;       /* everything the client wrote */
    char in[1 << 18]; size_t inlen, inpos;  /* server bytes not yet read */
    size_t proc;                            /* out bytes already interpreted */
    int in_data; size_t data_start;
    char msg[1 << 21]; size_t msglen;       /* the last message, as on the wire */
    int messages, mails, rcpts_in_txn, writes;
    int max_rcpt;                           /* 452 after this many in one transaction */
    int refuse_data, rcpt_421, closed, close_calls;
    const char *ehlo_reply;
    const char *data_reply;                 /* reply to the final dot ... */
    int data_reply_at;                      /* ... of this message (1 = the first) */
    const char *const *auth_script;         /* replies to AUTH and each line after it, until not 334 */
    int auth_step, in_auth, auths;          /* auths: AUTH commands seen */
    size_t bdat_left; int bdat_last, chunks, refuse_chunk;   /* BDAT: bytes still owed; refuse chunk N (1-based) */
    int chunk_failed;
} fake;

static fake F;

TEST_UNUSED static void fake_queue(const char *s)
{
    size_t n = strlen(s);
    memcpy(F.in + F.inlen, s, n);
    F.inlen += n;
}

TEST_UNUSED static void fake_line(const char *l, size_t n)
{
    if (F.in_auth || (n >= 4 && !strncmp(l, "AUTH", 4))) {
        const char *r = F.auth_script && F.auth_script[F.auth_step] ? F.auth_script[F.auth_step++]
                                                                   : "535 5.7.8 no script\r\n";
        if (!F.in_auth) F.auths++;
        F.in_auth = !strncmp(r, "334", 3);
        fake_queue(r);
        return;
    }
    if (n >= 4 && !strncmp(l, "EHLO", 4)) fake_queue(F.ehlo_reply ? F.ehlo_reply : "250-fake.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
    else if (n >= 4 && !strncmp(l, "HELO", 4)) fake_queue("250 fake.test\r\n");
    else if (n >= 4 && !strncmp(l, "MAIL", 4)) { F.mails++; F.rcpts_in_txn = 0; F.msglen = 0; F.chunks = 0; fake_queue("250 2.1.0 Ok\r\n"); }
    else if (n >= 4 && !strncmp(l, "RCPT", 4)) {
        if (F.rcpt_421) fake_queue("421 4.3.2 shutting down\r\n");
        else if (memmem(l, n, "<refuse", 7)) fake_queue("550 5.1.1 <refuse>: Recipient address rejected\r\n");
        else if (F.max_rcpt && F.rcpts_in_txn >= F.max_rcpt) fake_queue("452 4.5.3 Too many recipients\r\n");
        else { F.rcpts_in_txn++; fake_queue("250 2.1.5 Ok\r\n"); }
    }
    else if (n >= 4 && !strncmp(l, "DATA", 4)) {
        if (F.refuse_data || F.rcpts_in_txn == 0) fake_queue("554 5.5.1 Error: no valid recipients\r\n");
        else { fake_queue("354 End data with <CR><LF>.<CR><LF>\r\n"); F.in_data = 1; F.data_start = (size_t)-1; }
    }
    else if (n >= 4 && !strncmp(l, "BDAT", 4)) {
        F.bdat_left = strtoul(l + 5, NULL, 10);
        F.bdat_last = memmem(l, n, "LAST", 4) != NULL;
        F.data_start = (size_t)-2;   /* the chunk's bytes follow this line */
    }
    else if (n >= 4 && !strncmp(l, "RSET", 4)) { F.chunk_failed = 0; fake_queue("250 2.0.0 Ok\r\n"); }
    else if (n >= 4 && !strncmp(l, "NOOP", 4)) fake_queue("250 2.0.0 Ok\r\n");
    else if (n >= 4 && !strncmp(l, "QUIT", 4)) fake_queue("221 2.0.0 Bye\r\n");
    else fake_queue("502 5.5.2 Error: command not recognized\r\n");
}

TEST_UNUSED static void fake_process(void)
{
    for (;;) {
        if (F.in_data) {
            /* the end of data: CRLF . CRLF, the CRLF before the dot may be the DATA line's own */
            const char *e = memmem(F.out + F.data_start - 2, F.outlen - (F.data_start - 2), "\r\n.\r\n", 5);
            size_t end;
            if (!e) return;
            end = (size_t)(e - F.out) + 2;             /* message ends with its CRLF */
            F.msglen = end > F.data_start ? end - F.data_start : 0;
            memcpy(F.msg, F.out + F.data_start, F.msglen);
            F.messages++;
            F.proc = end + 3;
            F.in_data = 0;
            fake_queue(F.data_reply && F.messages == F.data_reply_at ? F.data_reply : "250 2.0.0 Ok: queued as FAKE1\r\n");
        } else {
            const char *nl;
            size_t n;
            if (F.data_start == (size_t)-2) {   /* inside a BDAT chunk: raw bytes */
                size_t have = F.outlen - F.proc, k = have < F.bdat_left ? have : F.bdat_left;
                memcpy(F.msg + F.msglen, F.out + F.proc, k);
                F.msglen += k; F.proc += k; F.bdat_left -= k;
                if (F.bdat_left) return;
                F.data_start = 0;
                F.chunks++;
                if (F.chunk_failed) fake_queue("503 5.5.1 Error: previous chunk refused\r\n");
                else if (F.chunks == F.refuse_chunk) { F.chunk_failed = 1; fake_queue("552 5.3.4 Message too big\r\n"); }
                else if (F.bdat_last) { F.messages++; fake_queue("250 2.0.0 Ok: queued as BDAT1\r\n"); }
                else fake_queue("250 2.0.0 Ok: chunk\r\n");
                continue;
            }
            nl = memchr(F.out + F.proc, '\n', F.outlen - F.proc);
            if (!nl) return;
            n = (size_t)(nl - (F.out + F.proc));
            fake_line(F.out + F.proc, n > 0 ? n - 1 : 0);
            F.proc += n + 1;
            if (F.in_data && F.data_start == (size_t)-1) F.data_start = F.proc;
        }
    }
}

/* The peer is a public smtp_transport (cfg.transport): the library runs
   over it exactly as it would over a caller's own stream. */
/* Called with timeout_ms 0 (a stepped session: smtp_step), the peer
   stutters as a slow network would: every other write would block
   (SMTP_ERR_TIMEOUT), and reads and writes move a few bytes at a time, so
   each place a step can stop while writing is stopped at. A read finds
   what has arrived, as over a socket (reads that do not wait, e.g. for
   BDAT replies, then see what the blocking run sees). */
#define FAKE_STUTTER_READ 37
#define FAKE_STUTTER_WRITE 61
static int fake_calls;

/* UNIT_TRANSCRIPT=file: every byte the client writes, appended, with a
   "=== test" line where each test opens its peer (make test compares
   the blocking and the stepped unit runs: they must agree byte for byte). */
TEST_UNUSED static void fake_record(const void *p, size_t n, int marker)
{
    static FILE *t;
    static int tried;
    if (!tried) { const char *f = getenv("UNIT_TRANSCRIPT"); tried = 1; if (f && *f) t = fopen(f, "ab"); }
    if (!t) return;
    if (marker) fprintf(t, "\n=== %s\n", test_cur ? test_cur : "?");
    else fwrite(p, 1, n, t);
    fflush(t);
}

TEST_UNUSED static int fake_read(void *user, void *buf, size_t len, int timeout_ms)
{
    size_t n = F.inlen - F.inpos;
    (void)user;
    if (n == 0) return F.closed ? 0 : SMTP_ERR_TIMEOUT;  /* silence: the deadline passes */
    if (timeout_ms == 0 && len > FAKE_STUTTER_READ) len = FAKE_STUTTER_READ;
    if (n > len) n = len;
    memcpy(buf, F.in + F.inpos, n);
    F.inpos += n;
    return (int)n;
}

TEST_UNUSED static int fake_write(void *user, const void *buf, size_t len, int timeout_ms)
{
    (void)user;
    if (F.closed) return SMTP_ERR_CLOSED;
    if (timeout_ms == 0) {
        if (++fake_calls % 2) return SMTP_ERR_TIMEOUT;
        if (len > FAKE_STUTTER_WRITE) len = FAKE_STUTTER_WRITE;
    }
    fake_record(buf, len, 0);
    F.writes++;
    memcpy(F.out + F.outlen, buf, len);
    F.outlen += len;
    fake_process();
    return (int)len;
}

TEST_UNUSED static void fake_close(void *user) { (void)user; F.close_calls++; }

static const smtp_transport fake_transport = { fake_read, fake_write, fake_close, NULL };

TEST_UNUSED static void fake_reset(void)
{
    memset(&F, 0, sizeof F);
    fake_record(NULL, 0, 1);
    F.data_reply_at = 1;
    fake_queue("220 fake.test ESMTP\r\n");
}

/* Opens s over the fake peer; returns what smtp_open would. */
TEST_UNUSED static smtp_result fake_open(smtp_session *s, smtp_config *cfg)
{
    cfg->host = cfg->host ? cfg->host : "fake.test";
    cfg->security = SMTP_SECURITY_NONE;
    if (!cfg->transport) cfg->transport = &fake_transport;   /* a test may wrap it */
    return smtp_open(s, cfg);
}

/* How often needle occurs in everything the client wrote. */
TEST_UNUSED static int fake_count(const char *needle)
{
    int c = 0;
    const char *p = F.out, *end = F.out + F.outlen;
    size_t n = strlen(needle);
    while ((p = memmem(p, (size_t)(end - p), needle, n)) != NULL) { c++; p += n; }
    return c;
}

/* Base64 (RFC 4648) decoding for reading payloads back: characters
   outside the alphabet (line ends) skipped, stops at '='. */
TEST_UNUSED static size_t b64dec(const char *p, size_t n, unsigned char *out)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i, o = 0;
    unsigned v = 0;
    int bits = 0;
    for (i = 0; i < n && p[i] != '='; i++) {
        const char *d = p[i] ? strchr(abc, p[i]) : NULL;
        if (!d) continue;
        v = v << 6 | (unsigned)(d - abc); bits += 6;
        if (bits >= 8) { bits -= 8; out[o++] = (unsigned char)(v >> bits & 255); }
    }
    return o;
}

/* The message as written after DATA without its dot-stuffing (RFC 5321
   4.5.2: the first '.' of a line that starts with one), NUL-terminated. */
TEST_UNUSED static size_t unstuff(const char *p, size_t n, char *out)
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
#endif
