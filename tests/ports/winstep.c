/* winstep.c - the step API (issue 17) under Winsock: NS sessions driven
   from one thread, opened and sending in one event loop, twice: once
   waiting with WSAPoll, once with select() (WSAPoll has known bugs, e.g.
   with refused connects; select is what most Windows loops use; the
   TCP connect is stepped too: the first step waits for it).
   Each session: smtp_open_start, then PER messages with smtp_send_start
   (or, every BATCH_EVERY-th, one smtp_send_batch_start), each smtp_step
   made when its socket is ready or its smtp_timeout_ms reached 0. Every
   TLS_EVERY-th session is STARTTLS, verified against the test CA. Three
   messages a pass are 2 MB, sent by sessions whose SO_SNDBUF is 4 KB, so
   that their sends block (WSAEWOULDBLOCK: WANT_WRITE; wine's send takes
   a whole 16 KB write or none of it, so partial sends are not met here).
   Besides the NS, one session per pass goes to a loopback listener that
   accepts and never greets: it must end with SMTP_ERR_TIMEOUT at its
   greeting_timeout_ms (STALL_MS, the deadline checked) while the others
   go on; they must all end SMTP_OK.
   Every message sent prints "sent tls|clear SUBJECT" (a Subject of its
   own); tests/ports/winstep_spool.py then finds each in aiosmtpd's spool
   exactly once, over TLS or not as printed, its body intact, and nothing
   else from winstep@ports.test.
   Why 20 x 5: the size suggested for wine. Here a pass takes about 0.5 s
   without the big messages and 1.5 s with them, about the stalled
   session's 1500 ms, so that deadline passes while the others are still
   sending; the whole program runs in about 4 s under wine.
   Run: wine winstep.exe PORT CA-FILE (aiosmtpd on 127.0.0.1:PORT offering
   STARTTLS with a certificate from CA-FILE; tests/ports/run.sh). */
#define SMTP_IMPLEMENTATION
#include "../../smtp.h"
#include "../test.h"

#define NS 20           /* sessions a pass, besides the stalled one */
#define PER 5           /* messages each */
#define TLS_EVERY 4     /* sessions 0, 4, 8, ...: STARTTLS */
#define BATCH_EVERY 5   /* sessions 1, 6, 11, ...: their PER messages as one batch */
#define STALL_MS 1500   /* the stalled session's greeting_timeout_ms */
#define BIG_LINES 28000 /* a big message: 2 MB, so that sends would block (WANT_WRITE) */
#define CAP_MS 60000    /* a pass that takes longer has hung (one takes about 1.5 s here) */

typedef struct sess {
    smtp_session s;
    int tls, batch, stall;
    int sent;                   /* messages that got SMTP_OK; -1: opening */
    smtp_result want;           /* SMTP_WANT_READ or _WRITE while live, 0 when done */
    smtp_result last;           /* the result it ended with */
    unsigned long long t0, end; /* when its open started, when it ended (ms since the pass started) */
    smtp_message m[PER];
    smtp_result res[PER];
    char subj[PER][48];
    char *text[PER];            /* make_text's */
} sess;

static sess S[NS + 1];          /* S[NS]: the stalled one */
static int port;
static const char *ca_file;
static smtp_trust *trust;
static const char *TO[] = { "rcpt@ports.test", NULL };
static unsigned long long pass_t0;
static long steps, wants, want_writes, waits, wakeups;
static const char PAD[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX";

/* A message's text: "SUBJECT: N lines", then N lines "line NNNNNN PAD"
   (winstep_spool.py checks the body so, byte for byte). */
static char *make_text(const char *subj, int n)
{
    size_t cap = strlen(subj) + 32 + (size_t)n * (sizeof PAD + 12), at;
    char *t = (char *)malloc(cap);
    int i;
    if (!t) { printf("out of memory\n"); exit(1); }
    at = (size_t)snprintf(t, cap, "%s: %d lines\n", subj, n);
    for (i = 0; i < n; i++) at += (size_t)snprintf(t + at, cap - at, "line %06d %s\n", i, PAD);
    return t;
}

static unsigned long long ms_now(void) { return GetTickCount64() - pass_t0; }

static void finish(sess *x, smtp_result r)
{
    x->last = r;
    x->want = 0;
    x->end = ms_now();
    if (r != SMTP_OK && !x->stall)
        printf("  session %d: %s: %s\n", (int)(x - S), smtp_result_str(r), smtp_error_detail(&x->s));
}

/* r: what the last start or step returned. Goes on from there (the next
   message, or the batch) until a step wants to wait or the session ends. */
static void advance(sess *x, smtp_result r)
{
    int k;
    for (;;) {
        if (r == SMTP_WANT_READ || r == SMTP_WANT_WRITE) { x->want = r; wants++; want_writes += r == SMTP_WANT_WRITE; return; }
        if (x->sent < 0) {                              /* the open ended */
            if (r != SMTP_OK) { finish(x, r); return; }
            x->sent = 0;
            if (x->batch) {
                r = smtp_send_batch_start(&x->s, x->m, PER, x->res);
                if (r != SMTP_OK) { finish(x, r); return; }
                steps++; r = smtp_step(&x->s);
                continue;
            }
        } else if (x->batch) {                          /* the batch ended */
            for (k = 0; k < PER; k++)
                if (x->res[k] == SMTP_OK) { printf("sent %s %s\n", x->tls ? "tls" : "clear", x->subj[k]); x->sent++; }
            finish(x, r);
            return;
        } else {                                        /* one message ended */
            if (r != SMTP_OK) { finish(x, r); return; }
            printf("sent %s %s\n", x->tls ? "tls" : "clear", x->subj[x->sent]);
            x->sent++;
        }
        if (x->sent == PER) { finish(x, SMTP_OK); return; }
        r = smtp_send_start(&x->s, &x->m[x->sent]);
        if (r != SMTP_OK) { finish(x, r); return; }
        steps++; r = smtp_step(&x->s);
    }
}

/* Waits at most ms (-1: no limit) for a live session's socket to be ready
   the way it wants; sets ready[i]. -1 on a Winsock error (printed). */
static int wait_wsapoll(int *ready, int ms)
{
    WSAPOLLFD pf[NS + 1];
    int map[NS + 1], n = 0, i, r;
    for (i = 0; i <= NS; i++) {
        if (!S[i].want) continue;
        pf[n].fd = (SOCKET)smtp_fd(&S[i].s);
        pf[n].events = S[i].want == SMTP_WANT_READ ? POLLRDNORM : POLLWRNORM;
        pf[n].revents = 0;
        map[n++] = i;
    }
    r = WSAPoll(pf, (ULONG)n, ms);
    if (r < 0) { printf("  WSAPoll over %d sockets: Winsock error %d\n", n, WSAGetLastError()); return -1; }
    for (i = 0; i < n; i++) {
        ready[map[i]] = pf[i].revents != 0;
        if (pf[i].revents & POLLNVAL) printf("  WSAPoll: POLLNVAL on session %d's socket\n", map[i]);
    }
    return r;
}

static int wait_select(int *ready, int ms)
{
    fd_set rd, wr;
    struct timeval tv;
    int i, r, n = 0;
    FD_ZERO(&rd); FD_ZERO(&wr);
    for (i = 0; i <= NS; i++) {
        if (!S[i].want) continue;
        FD_SET((SOCKET)smtp_fd(&S[i].s), S[i].want == SMTP_WANT_READ ? &rd : &wr);
        n++;
    }
    tv.tv_sec = ms / 1000; tv.tv_usec = (ms % 1000) * 1000;
    r = select(0, &rd, &wr, NULL, ms < 0 ? NULL : &tv);
    if (r < 0) { printf("  select over %d sockets: Winsock error %d\n", n, WSAGetLastError()); return -1; }
    for (i = 0; i <= NS; i++)
        ready[i] = S[i].want && FD_ISSET((SOCKET)smtp_fd(&S[i].s), S[i].want == SMTP_WANT_READ ? &rd : &wr);
    return r;
}

static void pass(const char *name, int use_select)
{
    smtp_config cfg = {0}, tcfg, scfg;
    SOCKET l, c = INVALID_SOCKET;
    struct sockaddr_in a;
    int al = (int)sizeof a, i, k, live = 0, ok = 0, tls_ok = 0, others_at_stall = 0, t, ntls = 0, nbatch = 0, t_open = -2, t_step = -2, failed = 0;
    unsigned long long last_other = 0, stall_ms;

    /* the listener that accepts and never greets */
    l = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET; a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(l != INVALID_SOCKET && bind(l, (struct sockaddr *)&a, al) == 0 && listen(l, 4) == 0 &&
          getsockname(l, (struct sockaddr *)&a, &al) == 0);

    cfg.host = "127.0.0.1"; cfg.port = port; cfg.security = SMTP_SECURITY_NONE;
    tcfg = cfg; tcfg.security = SMTP_SECURITY_STARTTLS; tcfg.trust = trust;
    scfg = cfg; scfg.port = ntohs(a.sin_port); scfg.greeting_timeout_ms = STALL_MS;
    steps = wants = want_writes = waits = wakeups = 0;
    memset(S, 0, sizeof S);
    for (i = 0; i <= NS; i++) {
        sess *x = &S[i];
        x->stall = i == NS;
#ifndef SMTP_NO_TLS
        x->tls = !x->stall && i % TLS_EVERY == 0;
#endif
        x->batch = !x->stall && i % BATCH_EVERY == 1;
        ntls += x->tls; nbatch += x->batch;
        for (k = 0; k < PER; k++) {
            snprintf(x->subj[k], sizeof x->subj[k], "winstep %s s%02d m%d", name, i, k);
            /* three big ones: a batch's (6), STARTTLS (8), cleartext (2) */
            x->text[k] = make_text(x->subj[k], (i == 6 && k == 2) || (i == 8 && k == 3) || (i == 2 && k == 4) ? BIG_LINES : 2);
            x->m[k].from = "winstep@ports.test"; x->m[k].to = TO;
            x->m[k].subject = x->subj[k]; x->m[k].text = x->text[k];
        }
    }

    /* every session opened from the loop: the stalled one first, so the
       others' opens and sends all fall inside its wait */
    pass_t0 = GetTickCount64();
    for (i = NS; i >= 0; i--) {
        sess *x = &S[i];
        smtp_result r;
        x->sent = -1;
        x->t0 = ms_now();
        r = smtp_open_start(&x->s, x->stall ? &scfg : x->tls ? &tcfg : &cfg);
        if (r != SMTP_OK) { finish(x, r); continue; }
        live++;
        if (i == 2 || i == 6 || i == 8) {   /* the big messages' sessions: a small send buffer, so sends block */
            int sz = 4096;
            CHECK(setsockopt((SOCKET)smtp_fd(&x->s), SOL_SOCKET, SO_SNDBUF, (const char *)&sz, (int)sizeof sz) == 0);
        }
        if (x->stall) {
            c = accept(l, NULL, NULL);      /* connected already: the listener's backlog has it */
            CHECK(c != INVALID_SOCKET);
            CHECK(smtp_fd(&x->s) != SMTP_INVALID_SOCKET);
            t_open = smtp_timeout_ms(&x->s);   /* reported, not checked: the deadline starts with the first step */
        }
        steps++;
        advance(x, smtp_step(&x->s));
        if (x->stall) {                     /* waiting for the greeting, within greeting_timeout_ms */
            t = smtp_timeout_ms(&x->s);
            CHECK_EQ_INT(x->want, SMTP_WANT_READ);
            CHECK(t > 0 && t <= STALL_MS);
            t_step = t;
        }
        if (!x->want) live--;
    }

    while (live > 0 && ms_now() < CAP_MS) {
        int ready[NS + 1] = {0}, wait = 1000, n;   /* at most a second: a wait that never ends shows as CAP_MS */
        for (i = 0; i <= NS; i++) {
            if (!S[i].want) continue;
            t = smtp_timeout_ms(&S[i].s);
            if (t >= 0 && t < wait) wait = t;
        }
        waits++;
        n = use_select ? wait_select(ready, wait) : wait_wsapoll(ready, wait);
        if (n < 0) break;
        for (i = 0; i <= NS; i++) {
            sess *x = &S[i];
            if (!x->want || (!ready[i] && smtp_timeout_ms(&x->s) != 0)) continue;
            wakeups += ready[i];
            steps++;
            advance(x, smtp_step(&x->s));
            if (!x->want) {
                live--;
                if (x->stall) for (k = 0; k < NS; k++) others_at_stall += S[k].sent > 0 ? S[k].sent : 0;
            }
        }
    }
    CHECK_EQ_INT(live, 0);

    for (i = 0; i < NS; i++) {     /* the failed ones said why (finish) */
        sess *x = &S[i];
        if (x->sent > 0) ok += x->sent;
        failed += x->last != SMTP_OK;
        if (x->tls && x->sent > 0) {
            CHECK_EQ_INT(smtp_security_used(&x->s), SMTP_SECURITY_STARTTLS);
            tls_ok += x->sent;
        }
        if (x->end > last_other) last_other = x->end;
    }
    CHECK_EQ_INT(failed, 0);
    CHECK_EQ_INT(ok, NS * PER);
    CHECK(wants > 0);
    CHECK(want_writes > 0);   /* the big messages' sends blocked (WSAEWOULDBLOCK) and went on */

    /* the deadline: SMTP_ERR_TIMEOUT at greeting_timeout_ms, however busy
       the loop was with the others (upper bound generous: wine, 2 cores) */
    stall_ms = S[NS].end - S[NS].t0;
    CHECK_EQ_INT(S[NS].last, SMTP_ERR_TIMEOUT);
    CHECK(stall_ms + 20 >= STALL_MS && stall_ms < STALL_MS + 5000);
    printf("  %s: %d sessions x %d messages (%d STARTTLS, %d batched): %d sent (%d over TLS) in %llu ms; "
           "%ld steps, %ld wants (%ld WANT_WRITE), %ld waits, %ld wakeups\n",
           use_select ? "select" : "WSAPoll", NS, PER, ntls, nbatch, ok, tls_ok, last_other, steps, wants, want_writes,
           waits, wakeups);
    printf("  %s, no greeting: %s after %llu ms (greeting_timeout_ms %d; smtp_timeout_ms %d after smtp_open_start, "
           "%d after its first step): %s; the others had sent %d of %d then\n",
           use_select ? "select" : "WSAPoll", smtp_result_str(S[NS].last), stall_ms, STALL_MS, t_open, t_step,
           smtp_error_detail(&S[NS].s), others_at_stall, NS * PER);

    for (i = 0; i <= NS; i++) {
        smtp_close(&S[i].s);      /* QUIT (blocking: after the loop) */
        for (k = 0; k < PER; k++) free(S[i].text[k]);
    }
    if (c != INVALID_SOCKET) closesocket(c);
    closesocket(l);
}

TEST(step_wsapoll) { pass("poll", 0); }
TEST(step_select) { pass("select", 1); }

int main(int argc, char **argv)
{
    WSADATA w;
    char detail[256] = "";
    if (argc != 3) { fprintf(stderr, "usage: %s PORT CA-FILE\n", argv[0]); return 2; }
    port = atoi(argv[1]); ca_file = argv[2];
    (void)detail;
    setvbuf(stdout, NULL, _IONBF, 0);   /* what was done, also when it hangs (no line buffering on Windows) */
    WSAStartup(MAKEWORD(2, 2), &w);     /* the listeners' reference; each session takes its own */
#ifndef SMTP_NO_TLS
    if (smtp_trust_load_file(&trust, ca_file, detail, sizeof detail) != SMTP_OK) {
        printf("%s: %s\n", ca_file, detail);
        return 1;
    }
#endif
    RUN(step_wsapoll);
    RUN(step_select);
    smtp_trust_free(trust);
    WSACleanup();
    return TEST_END();
}
