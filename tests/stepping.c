/* stepping.c - issue 17: many sessions stepped from one thread
   (smtp_send_start, smtp_step, smtp_fd, smtp_timeout_ms) against real
   Postfix, as an event loop would drive them: one poll() over every
   session's descriptor, each stepped when it is ready or its deadline
   came. Every message is read back from Postfix's deliveries (exactly
   once each); a stalled server among the sessions holds only its own.
   The sessions are opened with smtp_open (not stepped yet). */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include "test.h"
#include "itest.h"
#include <poll.h>

#define NS 100          /* sessions */
#define PER 10          /* messages each (cleartext; STARTTLS: PER_TLS) */
#define PER_TLS 3       /* Postfix's TLS side is what costs here (2 cores): 300 messages, 100 handshakes */

static smtp_session SS[NS];
static char TEXT[NS][PER][96];
static const char *TO[] = { "bob@example.com", NULL };

typedef struct run {
    int n, per;                 /* sessions, messages each */
    int sent[NS];               /* messages each session got SMTP_OK for */
    smtp_result last[NS];       /* its last result */
    long long done_ms[NS];      /* when it finished, from the start */
    long wants, steps;
} run;

/* Steps sessions 0..n-1 from one poll() loop until each sent per messages
   (or failed); the messages are TEXT[i][k]. Returns the elapsed ms. */
static long long drive(run *r, smtp_message *m)
{
    struct pollfd pf[NS];
    int i, live = 0;
    long long t0 = now_ms();
    for (i = 0; i < r->n; i++) {
        m[i].text = TEXT[i][0];
        r->last[i] = smtp_send_start(&SS[i], &m[i]);
        pf[i].fd = r->last[i] == SMTP_OK ? smtp_fd(&SS[i]) : -1;
        pf[i].events = POLLOUT;
        if (pf[i].fd >= 0) live++;
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
            res = smtp_step(&SS[i]);
            r->steps++;
            if (res == SMTP_WANT_READ || res == SMTP_WANT_WRITE) {
                r->wants++;
                pf[i].events = res == SMTP_WANT_READ ? POLLIN : POLLOUT;
                continue;
            }
            r->last[i] = res;
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
        opened += smtp_open(&SS[i], &cfg) == SMTP_OK;
    }
    CHECK_EQ_INT(opened, NS);
    if (tls) CHECK_EQ_INT(smtp_security_used(&SS[NS - 1]), SMTP_SECURITY_STARTTLS);
    ms = drive(&r, m);
    for (i = 0; i < NS; i++) {
        ok += r.sent[i];
        if (r.last[i] != SMTP_OK) printf("  session %d: %s: %s\n", i, smtp_result_str(r.last[i]), smtp_error_detail(&SS[i]));
        smtp_close(&SS[i]);
    }
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
TEST(postfix_100_sessions_starttls) { postfix_sessions(1); }

/* 99 sessions to Postfix and one to a server that never answers the end
   of data (hostile.py stall_final), all stepped from one thread: the
   stalled one ends at its own deadline with SMTP_ERR_UNKNOWN_OUTCOME (the
   message went out, its reply never came); the 99 finish as fast as 99
   alone do, not after the stall. */
TEST(one_stalled_server_holds_only_its_own_session)
{
    static run r, base;
    static smtp_message m[NS];
    smtp_config cfg, hcfg;
    const int stall_ms = 8000;   /* the hostile session's data_timeout_ms: the feature */
    char alone_tag[64], with_tag[64];
    int i, dup = 0;
    long long alone, with, last99 = 0;
    snprintf(alone_tag, sizeof alone_tag, "stepping-%ld-alone", (long)getpid());
    snprintf(with_tag, sizeof with_tag, "stepping-%ld-with", (long)getpid());
    cfg_plain(&cfg, PF_PORT);
    cfg_plain(&hcfg, hport(25));
    hcfg.data_timeout_ms = stall_ms;
    for (i = 0; i < NS; i++) {
        memset(&m[i], 0, sizeof m[i]);
        m[i].from = "alice@example.com"; m[i].to = TO; m[i].subject = "stepped";
    }
    /* the 99 alone, for their normal time */
    memset(&base, 0, sizeof base);
    base.n = NS - 1; base.per = 1;
    for (i = 0; i < NS - 1; i++) {
        snprintf(TEXT[i][0], sizeof TEXT[i][0], "%s s%03d m00\n", alone_tag, i);
        CHECK_EQ_INT(smtp_open(&SS[i], &cfg), SMTP_OK);
    }
    alone = drive(&base, m);
    for (i = 0; i < NS - 1; i++) { CHECK_EQ_INT(base.last[i], SMTP_OK); smtp_close(&SS[i]); }
    /* 99 with the stalled one among them (session 50) */
    memset(&r, 0, sizeof r);
    r.n = NS; r.per = 1;
    for (i = 0; i < NS; i++) {
        snprintf(TEXT[i][0], sizeof TEXT[i][0], "%s s%03d m00\n", with_tag, i);
        CHECK_EQ_INT(smtp_open(&SS[i], i == 50 ? &hcfg : &cfg), SMTP_OK);
    }
    with = drive(&r, m);
    for (i = 0; i < NS; i++) {
        if (i == 50) continue;
        CHECK_EQ_INT(r.last[i], SMTP_OK);
        if (r.done_ms[i] > last99) last99 = r.done_ms[i];
    }
    CHECK_EQ_INT(r.last[50], SMTP_ERR_UNKNOWN_OUTCOME);
    CHECK_CONTAINS(smtp_error_detail(&SS[50]), "may have been delivered");
    CHECK(deadline_kept(r.done_ms[50], stall_ms));
    /* the 99 were not held: done before the stalled one's deadline, and
       within a calm multiple of their time alone */
    CHECK(last99 < stall_ms);
    CHECK(last99 <= 3 * alone + 2000);
    for (i = 0; i < NS; i++) smtp_close(&SS[i]);
    CHECK_EQ_INT(count_delivered(alone_tag, NS - 1, 1, NS - 1, &dup), NS - 1);
    CHECK_EQ_INT(dup, 0);
    CHECK_EQ_INT(count_delivered(with_tag, NS, 1, NS - 1, &dup), NS - 1);   /* all but the stalled server's */
    CHECK_EQ_INT(dup, 0);
    printf("  | 99 to Postfix + 1 stalled (no reply to the end of data) | the 99 alone: %lld ms; with the stalled one: "
           "last of the 99 at %lld ms, the stalled one ended at %lld ms (deadline %d ms) with %s | %lld ms in all |\n",
           alone, last99, r.done_ms[50], stall_ms, smtp_result_str(r.last[50]), with);
}

int main(void)
{
    itest_env();
    RUN(postfix_100_sessions_cleartext);
    RUN(postfix_100_sessions_starttls);
    RUN(one_stalled_server_holds_only_its_own_session);
    return TEST_END();
}
