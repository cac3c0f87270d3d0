/* stepping.c - issue 17: many sessions stepped from one thread
   (smtp_send_start, smtp_step, smtp_fd, smtp_timeout_ms) against real
   Postfix, as an event loop would drive them: one poll() over every
   session's descriptor, each stepped when it is ready or its deadline
   came. Every message is read back from Postfix's deliveries (exactly
   once each); a stalled server among the sessions holds only its own.
   Sessions are opened in the loop too (smtp_open_start): the TCP
   connect, TLS handshake, greeting and EHLO are stepped. */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include "test.h"
#include "itest.h"
#include <poll.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define NS 100          /* sessions */
#define PER 10          /* messages each (cleartext; STARTTLS: PER_TLS) */
#define PER_TLS 3       /* Postfix's TLS side is what costs here (2 cores): 300 messages, 100 handshakes */

static smtp_session SS[NS];
static char TEXT[NS][PER][96];
static const char *TO[] = { "bob@example.com", NULL };

typedef struct run {
    int n, per;                 /* sessions, messages each */
    const smtp_config *open[NS];/* opened by the loop itself (smtp_open_start) with this config; NULL: open already */
    int sent[NS];               /* messages each session got SMTP_OK for (-1: opening) */
    smtp_result last[NS];       /* its last result */
    long long done_ms[NS];      /* when it finished, from the start */
    long long opened_ms[NS];    /* when its open ended */
    int open_wants[NS];         /* steps of its open that said SMTP_WANT_* */
    long wants, steps;
} run;

/* Steps sessions 0..n-1 from one poll() loop until each sent per messages
   (or failed); the messages are TEXT[i][k]. Sessions with open[i] are
   opened in the loop first. Returns the elapsed ms. */
static long STEP_NO;   /* smtp_step calls so far, for the trace below */

static long long drive(run *r, smtp_message *m)
{
    struct pollfd pf[NS];
    int i, live = 0;
    long long t0 = now_ms();
    for (i = 0; i < r->n; i++) {
        m[i].text = TEXT[i][0];
        r->sent[i] = r->open[i] ? -1 : 0;
        r->last[i] = r->open[i] ? smtp_open_start(&SS[i], r->open[i]) : smtp_send_start(&SS[i], &m[i]);
        pf[i].fd = r->last[i] == SMTP_OK ? smtp_fd(&SS[i]) : -1;
        pf[i].events = r->open[i] ? POLLIN : POLLOUT;
        if (pf[i].fd >= 0) live++;
        else r->done_ms[i] = now_ms() - t0;
    }
    while (live > 0 && now_ms() - t0 < CALM_MS) {
        int wait = -1;
        for (i = 0; i < r->n; i++) {
            int t = pf[i].fd >= 0 ? smtp_timeout_ms(&SS[i]) : -1;
            if (t >= 0 && (wait < 0 || t < wait)) wait = t;
        }
        if (poll(pf, (nfds_t)r->n, wait) < 0) break;
        for (i = 0; i < r->n; i++) {
            smtp_result res;
            if (pf[i].fd < 0 || (!pf[i].revents && smtp_timeout_ms(&SS[i]) != 0)) continue;
            STEP_NO++;
            res = smtp_step(&SS[i]);
            r->steps++;
            if (res == SMTP_WANT_READ || res == SMTP_WANT_WRITE) {
                r->wants++;
                if (r->sent[i] < 0) r->open_wants[i]++;
                pf[i].fd = smtp_fd(&SS[i]);   /* it may change while opening (the connect) */
                pf[i].events = res == SMTP_WANT_READ ? POLLIN : POLLOUT;
                continue;
            }
            r->last[i] = res;
            if (r->sent[i] < 0) r->opened_ms[i] = now_ms() - t0;
            if (res == SMTP_OK && ++r->sent[i] < r->per) {
                m[i].text = TEXT[i][r->sent[i]];
                if ((r->last[i] = smtp_send_start(&SS[i], &m[i])) == SMTP_OK) { pf[i].events = POLLOUT; continue; }
            }
            r->done_ms[i] = now_ms() - t0;
            pf[i].fd = -1;
            live--;
        }
    }
    return now_ms() - t0;
}

/* Postfix's deliveries holding tag: each "tag sNNN mNN" counted; how
   many of the n x per messages came exactly once (dup: any twice), once
   want of them did (deliveries are asynchronous) or after CALM_MS. */
static int count_delivered(const char *tag, int n, int per, int want, int *dup)
{
    static int seen[NS][PER];
    char dir[512], path[800];
    long long end = now_ms() + CALM_MS;
    int once = 0, i, k;
    snprintf(dir, sizeof dir, "%s/postfix/mail", RUNDIR);
    for (;;) {
        DIR *d = opendir(dir);
        struct dirent *e;
        memset(seen, 0, sizeof seen);
        while (d && (e = readdir(d)) != NULL) {
            size_t l = strlen(e->d_name);
            char *eml, *p;
            if (l <= 4 || strcmp(e->d_name + l - 4, ".eml") != 0 || e->d_name[0] == '.') continue;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            if (!(eml = slurp(path, NULL))) continue;
            if ((p = strstr(eml, tag)) != NULL && sscanf(p + strlen(tag), " s%d m%d", &i, &k) == 2 &&
                i >= 0 && i < n && k >= 0 && k < per)
                seen[i][k]++;
            free(eml);
        }
        if (d) closedir(d);
        once = 0; *dup = 0;
        for (i = 0; i < n; i++)
            for (k = 0; k < per; k++) { once += seen[i][k] == 1; *dup += seen[i][k] > 1; }
        if (once >= want || now_ms() > end) return once;
        usleep(200000);
    }
}

/* NS sessions x PER messages to Postfix, cleartext or STARTTLS. */
static void postfix_sessions(int tls)
{
    static run r;
    static smtp_message m[NS];
    smtp_config cfg;
    char tag[64], sv[200];
    int i, k, opened = 0, ok = 0, dup = 0, got;
    long long ms;
    memset(&r, 0, sizeof r);
    r.n = NS; r.per = tls ? PER_TLS : PER;
    snprintf(tag, sizeof tag, "stepping-%ld-%s", (long)getpid(), tls ? "starttls" : "clear");
    cfg_plain(&cfg, tls ? PF_SUB : PF_PORT);
    if (tls) {
        cfg.host = "localhost";
        cfg.security = SMTP_SECURITY_STARTTLS;
        cfg.ca_file = PF_CA;
    }
    for (i = 0; i < NS; i++) {
        for (k = 0; k < PER; k++) snprintf(TEXT[i][k], sizeof TEXT[i][k], "%s s%03d m%02d\n", tag, i, k);
        memset(&m[i], 0, sizeof m[i]);
        m[i].from = "alice@example.com"; m[i].to = TO; m[i].subject = "stepped";
        r.open[i] = &cfg;   /* opened in the loop too: TLS handshakes, greetings and EHLOs stepped */
    }
    ms = drive(&r, m);
    for (i = 0; i < NS; i++) {
        opened += r.sent[i] >= 0;
        if (tls && r.sent[i] >= 0) CHECK_EQ_INT(smtp_security_used(&SS[i]), SMTP_SECURITY_STARTTLS);
        ok += r.sent[i] > 0 ? r.sent[i] : 0;
        if (r.last[i] != SMTP_OK) printf("  session %d: %s: %s\n", i, smtp_result_str(r.last[i]), smtp_error_detail(&SS[i]));
        smtp_close(&SS[i]);
    }
    CHECK_EQ_INT(opened, NS);
    CHECK_EQ_INT(ok, NS * r.per);
    CHECK(r.wants > 0);   /* it did stop and come back */
    got = count_delivered(tag, NS, r.per, NS * r.per, &dup);
    CHECK_EQ_INT(got, NS * r.per);
    CHECK_EQ_INT(dup, 0);
    snprintf(sv, sizeof sv, "%d sessions x %d messages, one thread: %d delivered once, %d twice; %lld ms, %ld steps, %ld wants",
             NS, r.per, got, dup, ms, r.steps, r.wants);
    printf("  | Postfix %s | %s |\n", tls ? "STARTTLS" : "cleartext", sv);
}

TEST(postfix_100_sessions_cleartext) { postfix_sessions(0); }

/* A reconnect inside a send is stepped: the trace's "reconnecting" note
   and the new connection's 220 must come in different smtp_step calls
   (a reconnect made inside one step, waiting, has both in the same). */
static const char *ADDRS[] = { "127.0.0.2", "127.0.0.1", NULL };
static long NOTE_STEP[NS];
static int STEPPED_REOPENS[NS];
static void reopen_trace(void *user, smtp_trace_dir dir, const char *p, size_t n)
{
    int i = *(const int *)user;
    if (dir == SMTP_TRACE_INFO && n >= 12 && !memcmp(p, "reconnecting", 12)) NOTE_STEP[i] = STEP_NO;
    if (dir == SMTP_TRACE_IN && n >= 3 && !memcmp(p, "220", 3) && NOTE_STEP[i]) {
        STEPPED_REOPENS[i] += STEP_NO > NOTE_STEP[i];
        NOTE_STEP[i] = 0;
    }
}

/* cfg.messages_per_connection 2 and 6 messages in each of 20 sessions
   stepped from one loop: each session reconnects twice (QUIT, a new
   connection, greeting, EHLO), every reconnect stepped, and the 120
   messages are read back from Postfix once each. The sessions name a
   host that does not resolve and give cfg.addresses instead (an event
   loop's own resolver): 127.0.0.2 refuses (Postfix listens on
   127.0.0.1), so every connection moves on to the second address. */
TEST(reconnects_in_the_loop)
{
    static run r;
    static smtp_message m[NS];
    static smtp_config cfg[NS];
    static int idx[NS];
    char tag[64];
    int i, k, dup = 0;
    long long ms;
    memset(&r, 0, sizeof r);
    r.n = 20; r.per = 6;
    snprintf(tag, sizeof tag, "stepping-%ld-reopen", (long)getpid());
    for (i = 0; i < r.n; i++) {
        for (k = 0; k < r.per; k++) snprintf(TEXT[i][k], sizeof TEXT[i][k], "%s s%03d m%02d\n", tag, i, k);
        memset(&m[i], 0, sizeof m[i]);
        m[i].from = "alice@example.com"; m[i].to = TO; m[i].subject = "stepped reconnects";
        cfg_plain(&cfg[i], PF_PORT);
        cfg[i].host = "mail.invalid";
        cfg[i].addresses = ADDRS;
        cfg[i].messages_per_connection = 2;
        idx[i] = i;
        cfg[i].trace = reopen_trace; cfg[i].trace_user = &idx[i];
        r.open[i] = &cfg[i];
    }
    ms = drive(&r, m);
    for (i = 0; i < r.n; i++) {
        CHECK_EQ_INT(r.last[i], SMTP_OK);
        CHECK_EQ_INT(r.sent[i], r.per);
        CHECK_EQ_INT(smtp_reconnects(&SS[i]), 2);
        CHECK_EQ_INT(STEPPED_REOPENS[i], 2);
        if (r.last[i] != SMTP_OK) printf("  session %d: %s\n", i, smtp_error_detail(&SS[i]));
        smtp_close(&SS[i]);
    }
    CHECK_EQ_INT(count_delivered(tag, r.n, r.per, r.n * r.per, &dup), r.n * r.per);
    CHECK_EQ_INT(dup, 0);
    printf("  | Postfix, messages_per_connection 2 | 20 sessions x 6 messages, one thread: 40 reconnects, each stepped; "
           "%d sent; %lld ms |\n", r.n * r.per, ms);
}

/* AUTO opened in the loop: 20 sessions to Postfix's submission port (the
   probe sees its greeting: STARTTLS) and 20 to its implicit-TLS port (the
   probe waits 400 ms for a greeting that does not come: implicit TLS),
   all from one poll(); each open stops and comes back (the probe, the
   handshakes and the greeting are steps, none waits inside a call), and
   each session sends one message, read back from Postfix once. */
TEST(auto_opened_in_the_loop)
{
    static run r;
    static smtp_message m[NS];
    smtp_config sub, impl;
    char tag[64];
    int i, dup = 0, stepped = 0;
    long long ms;
    memset(&r, 0, sizeof r);
    r.n = 40; r.per = 1;
    snprintf(tag, sizeof tag, "stepping-%ld-auto", (long)getpid());
    cfg_plain(&sub, PF_SUB);
    sub.host = "localhost"; sub.security = SMTP_SECURITY_AUTO; sub.ca_file = PF_CA;
    impl = sub; impl.port = PF_IMPL;
    for (i = 0; i < r.n; i++) {
        snprintf(TEXT[i][0], sizeof TEXT[i][0], "%s s%03d m00\n", tag, i);
        memset(&m[i], 0, sizeof m[i]);
        m[i].from = "alice@example.com"; m[i].to = TO; m[i].subject = "stepped AUTO";
        r.open[i] = i % 2 ? &impl : &sub;
    }
    ms = drive(&r, m);
    for (i = 0; i < r.n; i++) {
        CHECK_EQ_INT(r.last[i], SMTP_OK);
        CHECK_EQ_INT(r.sent[i], 1);
        CHECK_EQ_INT(smtp_security_used(&SS[i]), i % 2 ? SMTP_SECURITY_IMPLICIT : SMTP_SECURITY_STARTTLS);
        stepped += r.open_wants[i] > 0;
        if (r.last[i] != SMTP_OK) printf("  session %d: %s\n", i, smtp_error_detail(&SS[i]));
        smtp_close(&SS[i]);
    }
    CHECK_EQ_INT(stepped, r.n);   /* every AUTO open was stepped */
    CHECK_EQ_INT(count_delivered(tag, r.n, 1, r.n, &dup), r.n);
    CHECK_EQ_INT(dup, 0);
    printf("  | Postfix, AUTO opened in the loop | 20 probed to STARTTLS + 20 to implicit TLS, one thread: %d sent, "
           "every open stepped (%ld wants in all); %lld ms |\n", r.n, r.wants, ms);
}
TEST(postfix_100_sessions_starttls) { postfix_sessions(1); }

/* One run of 99 sessions to Postfix, and (hostile >= 0) one to the
   hostile server's scenario at session 50, every session opened and
   sending one message from the one loop. The time of the 99. */
static long long run_99(run *r, smtp_message *m, const char *tag, const smtp_config *pf, const smtp_config *bad,
                        long long *all)
{
    int i, n = bad ? NS : NS - 1;
    long long last = 0;
    memset(r, 0, sizeof *r);
    r->n = n; r->per = 1;
    for (i = 0; i < n; i++) {
        snprintf(TEXT[i][0], sizeof TEXT[i][0], "%s s%03d m00\n", tag, i);
        memset(&m[i], 0, sizeof m[i]);
        m[i].from = "alice@example.com"; m[i].to = TO; m[i].subject = "stepped";
        r->open[i] = bad && i == 50 ? bad : pf;
    }
    *all = drive(r, m);
    for (i = 0; i < n; i++) {
        if (bad && i == 50) continue;
        CHECK_EQ_INT(r->last[i], SMTP_OK);
        if (r->done_ms[i] > last) last = r->done_ms[i];
    }
    return last;
}

/* A loopback port whose connects never complete: a listener with a
   backlog of 0 that never accepts, its queue filled by connections of our
   own; Linux then drops further SYNs (the client retries them, as it
   would towards a host that has gone). Its port, or 0; the descriptors
   stay open in fds[0..*n) until the test closes them. */
static int black_hole(int *fds, int max, int *n)
{
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM, 0), port;
    *n = 0;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET; a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 0) != 0 ||
        getsockname(l, (struct sockaddr *)&a, &al) != 0) return 0;
    port = ntohs(a.sin_port);
    fds[(*n)++] = l;
    while (*n < max) {   /* fill the queue: until a connect no longer completes within 300 ms */
        struct pollfd p;
        int c = socket(AF_INET, SOCK_STREAM, 0), e = 0;
        socklen_t el = sizeof e;
        fcntl(c, F_SETFL, O_NONBLOCK);
        fds[(*n)++] = c;
        if (connect(c, (struct sockaddr *)&a, sizeof a) == 0) continue;
        p.fd = c; p.events = POLLOUT; p.revents = 0;
        if (poll(&p, 1, 300) == 0) return port;   /* this one hangs: so will the session's */
        if (getsockopt(c, SOL_SOCKET, SO_ERROR, &e, &el) != 0 || e != 0) return 0;
    }
    return 0;
}

/* 99 sessions to Postfix and one to a hostile server, all stepped from one
   thread: (0) a port whose connect never completes (black_hole): that
   session ends at its own connect_timeout_ms with SMTP_ERR_TIMEOUT; (1) hostile.py trickle_greeting sends its 220 a byte every 100
   ms: that session ends at its own greeting_timeout_ms with
   SMTP_ERR_TIMEOUT; (2) stall_final never answers the end of data: that
   one ends at its data_timeout_ms with SMTP_ERR_UNKNOWN_OUTCOME (the
   message went out, its reply never came). Each time the 99 finish before
   the stalled one's deadline, which is set well above what 99 alone took
   on this machine (3 x that + 1.5 s, at least 3 s: calm on a busy
   machine): one session's wait holds no other. */
/* One hostile case: 99 to Postfix and bad as session 50, whose deadline
   (ms, named what) is the feature: it ends with want (its detail holding
   text) within that deadline, the 99 finish before it, and each of their
   messages is read back once. */
static void one_of_100(run *r, smtp_message *m, const char *tag, const smtp_config *pf, const smtp_config *bad,
                       smtp_result want, const char *text, const char *label, const char *what, int ms,
                       long long alone)
{
    long long all, with = run_99(r, m, tag, pf, bad, &all);
    int i, dup = 0;
    CHECK_EQ_INT(r->last[50], want);
    CHECK_CONTAINS(smtp_error_detail(&SS[50]), text);
    CHECK(deadline_kept(r->done_ms[50], ms));
    CHECK(with < ms);
    printf("  | 99 to Postfix + 1 %s | 99 alone: %lld ms; with it: the 99 done at %lld ms, it ended at %lld ms "
           "(%s %d) with %s |\n", label, alone, with, r->done_ms[50], what, ms, smtp_result_str(r->last[50]));
    for (i = 0; i < NS; i++) smtp_close(&SS[i]);
    CHECK_EQ_INT(count_delivered(tag, NS, 1, NS - 1, &dup), NS - 1);   /* all but the hostile server's */
    CHECK_EQ_INT(dup, 0);
}

TEST(one_stalled_server_holds_only_its_own_session)
{
    static run r;
    static smtp_message m[NS];
    smtp_config cfg, hole, greet, fin;
    int ms;   /* the hostile sessions' deadline: the feature */
    char tag[4][64];
    const char *names[4] = { "alone", "greet", "final", "connect" };
    int i, dup = 0, fds[16], nfd = 0;
    long long alone, all;
    for (i = 0; i < 4; i++) snprintf(tag[i], sizeof tag[i], "stepping-%ld-%s", (long)getpid(), names[i]);
    cfg_plain(&cfg, PF_PORT);

    alone = run_99(&r, m, tag[0], &cfg, NULL, &all);
    ms = (int)(3 * alone + 1500 < 3000 ? 3000 : 3 * alone + 1500 > 15000 ? 15000 : 3 * alone + 1500);
    CHECK_EQ_INT(count_delivered(tag[0], NS - 1, 1, NS - 1, &dup), NS - 1);
    CHECK_EQ_INT(dup, 0);
    for (i = 0; i < NS - 1; i++) smtp_close(&SS[i]);

    cfg_plain(&greet, hport(6));    /* trickle_greeting (its whole greeting takes 20 s) */
    greet.greeting_timeout_ms = ms;
    one_of_100(&r, m, tag[1], &cfg, &greet, SMTP_ERR_TIMEOUT, "no greeting", "trickling its greeting (1 byte/100 ms)",
               "greeting_timeout_ms", ms, alone);
    cfg_plain(&fin, hport(25));     /* stall_final */
    fin.data_timeout_ms = ms;
    one_of_100(&r, m, tag[2], &cfg, &fin, SMTP_ERR_UNKNOWN_OUTCOME, "may have been delivered",
               "never answering the end of data", "data_timeout_ms", ms, alone);
    cfg_plain(&hole, black_hole(fds, 16, &nfd));
    CHECK(hole.port > 0);
    hole.connect_timeout_ms = ms;
    one_of_100(&r, m, tag[3], &cfg, &hole, SMTP_ERR_TIMEOUT, "timed out", "whose TCP connect never completes",
               "connect_timeout_ms", ms, alone);
    for (i = 0; i < nfd; i++) close(fds[i]);
}

int main(void)
{
    itest_env();
    RUN(postfix_100_sessions_cleartext);
    RUN(postfix_100_sessions_starttls);
    RUN(auto_opened_in_the_loop);
    RUN(reconnects_in_the_loop);
    RUN(one_stalled_server_holds_only_its_own_session);
    return TEST_END();
}
