/* bench_parallel.c - the "parallel sessions" section of `make bench`
   (tests/bench/run.sh, issue 17): SESSIONS connections to one server at
   once, PER messages on each (100 x 100 = 10,000 in run.sh), the message
   of bench_msg.h (the one every bench client sends), cleartext, the
   default config of the single-connection bench (bench_smtph without
   options: PIPELINING within each transaction, no cross-message
   pipelining).

   bench_parallel -p PORT [-h HOST] [-s SESSIONS] [-n PER] [-c CHUNK] -m MODE
     -s SESSIONS  sessions (default 100)
     -n PER       messages per session (default 100)
     -c CHUNK     messages per smtp_send_batch call (default 100: the 100
                  messages of a session in one call); 0 = smtp_send, one
                  message per call
     -m threads   one thread per session, each its own blocking session:
                  smtp_open, smtp_send_batch, smtp_close. The threads start
                  together (a barrier before smtp_open).
     -m step      one thread drives every session with the step API of
                  issue 17 (smtp_send_batch_start, smtp_step, one poll()).
   Exit status: 0 every message sent; 1 a failure (said on stderr);
   2 usage; 3 the mode is not available in this smtp.h (run.sh prints
   "n/a" in its row).
   Output (one line, for run.sh), timed inside the process from before the
   first smtp_open to after the last smtp_close; run.sh times the whole
   process from outside (timeit) and uses that for its table:
     parallel mode=threads sessions=100 per=100 chunk=100 n=10000 secs=0.8 rate=12500.0 ok=10000 */
#define SMTP_IMPLEMENTATION
#include "../../smtp.h"
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "bench_msg.h"

enum { BENCH_UNAVAILABLE = 3 };

typedef struct bench_args {
    const char *host;
    int port;
    long sessions, per, chunk;
    smtp_config cfg;            /* shared read-only by every session */
    smtp_message *msgs;         /* per messages, the same for every session */
} bench_args;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One blocking session: open, PER messages (smtp_send_batch in calls of
   CHUNK, or smtp_send), close. Returns the messages accepted; errors on
   stderr. Used by the threads mode; the step mode must send the same. */
static long one_session(const bench_args *a, smtp_session *s, smtp_result *res, long id)
{
    long i, ok = 0;
    smtp_result r = smtp_open(s, &a->cfg);
    if (r != SMTP_OK) {
        fprintf(stderr, "bench_parallel: session %ld: open: %s: %s\n", id, smtp_result_str(r), smtp_error_detail(s));
        smtp_close(s);
        return 0;
    }
    if (a->chunk == 0) {
        for (i = 0; i < a->per; i++) {
            r = smtp_send(s, &a->msgs[i]);
            if (r != SMTP_OK) break;
            ok++;
        }
    } else {
        for (i = 0; i < a->per; i += a->chunk) {
            long k, m = a->per - i < a->chunk ? a->per - i : a->chunk;
            r = smtp_send_batch(s, a->msgs + i, (size_t)m, res + i);
            for (k = 0; k < m; k++) if (res[i + k] == SMTP_OK) ok++;
            if (r != SMTP_OK) break;
        }
    }
    if (r != SMTP_OK)
        fprintf(stderr, "bench_parallel: session %ld: send: %s: %s\n", id, smtp_result_str(r), smtp_error_detail(s));
    r = smtp_close(s);
    if (r != SMTP_OK) {
        fprintf(stderr, "bench_parallel: session %ld: close: %s: %s\n", id, smtp_result_str(r), smtp_error_detail(s));
        return 0;   /* counted as failed: the session did not end cleanly */
    }
    return ok;
}

/* ---- -m threads: one thread and one blocking session per connection ---- */
typedef struct thread_slot {
    const bench_args *a;
    pthread_barrier_t *start;
    long id, ok;
} thread_slot;

static void *thread_main(void *p)
{
    thread_slot *t = (thread_slot *)p;
    smtp_session *s = (smtp_session *)malloc(sizeof *s);
    smtp_result *res = (smtp_result *)calloc((size_t)t->a->per, sizeof *res);
    pthread_barrier_wait(t->start);
    if (s && res) t->ok = one_session(t->a, s, res, t->id);
    else fprintf(stderr, "bench_parallel: session %ld: out of memory\n", t->id);
    free(res);
    free(s);
    return NULL;
}

static int run_threads(const bench_args *a, long *ok)
{
    thread_slot *slots = (thread_slot *)calloc((size_t)a->sessions, sizeof *slots);
    pthread_t *tids = (pthread_t *)calloc((size_t)a->sessions, sizeof *tids);
    pthread_barrier_t start;
    long i;
    if (!slots || !tids || pthread_barrier_init(&start, NULL, (unsigned)a->sessions) != 0) {
        fprintf(stderr, "bench_parallel: out of memory\n");
        return 1;
    }
    for (i = 0; i < a->sessions; i++) {
        slots[i].a = a;
        slots[i].start = &start;
        slots[i].id = i;
        if (pthread_create(&tids[i], NULL, thread_main, &slots[i]) != 0) {
            /* the barrier would never open: a hard failure, said and ended */
            fprintf(stderr, "bench_parallel: pthread_create failed at thread %ld\n", i);
            exit(1);
        }
    }
    *ok = 0;
    for (i = 0; i < a->sessions; i++) {
        pthread_join(tids[i], NULL);
        *ok += slots[i].ok;
    }
    pthread_barrier_destroy(&start);
    free(slots);
    free(tids);
    return 0;
}

/* ---- -m step: one thread, every session driven by smtp_step (issue 17) ----
   SESSIONS sessions in this thread alone, each sending the PER messages of
   a->msgs in batches of a->chunk (smtp_send_batch_start; smtp_send_start
   one at a time when a->chunk is 0), every session advanced with
   smtp_step whenever poll() says its smtp_fd is ready for what its last
   step asked, the poll timeout the smallest smtp_timeout_ms among them.
   smtp_open is not stepped yet: the sessions are opened one after another
   (inside the timed run), and closed one after another (QUIT). */
typedef struct step_slot {
    smtp_session s;
    smtp_result *res;
    long next, ok, inflight;      /* the next message to start; accepted; in the batch under way */
} step_slot;

/* The next batch (or message) of slot t; 0 when it started, 1 when all are done, -1 on an error. */
static int step_start(const bench_args *a, step_slot *t)
{
    smtp_result r;
    if (t->next >= a->per) return 1;
    t->inflight = a->chunk == 0 ? 1 : (a->per - t->next < a->chunk ? a->per - t->next : a->chunk);
    r = a->chunk == 0 ? smtp_send_start(&t->s, &a->msgs[t->next])
                      : smtp_send_batch_start(&t->s, a->msgs + t->next, (size_t)t->inflight, t->res + t->next);
    return r == SMTP_OK ? 0 : -1;
}

static int run_step(const bench_args *a, long *ok)
{
    step_slot *slots = (step_slot *)calloc((size_t)a->sessions, sizeof *slots);
    struct pollfd *pf = (struct pollfd *)calloc((size_t)a->sessions, sizeof *pf);
    long i, live = 0;
    int failed = 0;
    *ok = 0;
    if (!slots || !pf) { fprintf(stderr, "bench_parallel: out of memory\n"); return 1; }
    for (i = 0; i < a->sessions; i++) {
        step_slot *t = &slots[i];
        smtp_result r;
        pf[i].fd = -1;
        if (!(t->res = (smtp_result *)calloc((size_t)a->per, sizeof *t->res))) { fprintf(stderr, "bench_parallel: out of memory\n"); return 1; }
        if ((r = smtp_open(&t->s, &a->cfg)) != SMTP_OK) {
            fprintf(stderr, "bench_parallel: session %ld: open: %s: %s\n", i, smtp_result_str(r), smtp_error_detail(&t->s));
            failed = 1;
            continue;
        }
        if (step_start(a, t) != 0) { fprintf(stderr, "bench_parallel: session %ld: %s\n", i, smtp_error_detail(&t->s)); failed = 1; continue; }
        pf[i].fd = smtp_fd(&t->s); pf[i].events = POLLOUT;
        live++;
    }
    while (live > 0) {
        int wait = -1;
        for (i = 0; i < a->sessions; i++) {
            int ms = pf[i].fd >= 0 ? smtp_timeout_ms(&slots[i].s) : -1;
            if (ms >= 0 && (wait < 0 || ms < wait)) wait = ms;
        }
        if (poll(pf, (nfds_t)a->sessions, wait) < 0) { perror("bench_parallel: poll"); return 1; }
        for (i = 0; i < a->sessions; i++) {
            step_slot *t = &slots[i];
            smtp_result r;
            long k;
            int st;
            if (pf[i].fd < 0 || (!pf[i].revents && smtp_timeout_ms(&t->s) != 0)) continue;
            r = smtp_step(&t->s);
            if (r == SMTP_WANT_READ || r == SMTP_WANT_WRITE) { pf[i].events = r == SMTP_WANT_READ ? POLLIN : POLLOUT; continue; }
            if (a->chunk == 0) t->ok += r == SMTP_OK;
            else for (k = 0; k < t->inflight; k++) t->ok += t->res[t->next + k] == SMTP_OK;
            t->next += t->inflight;
            if (r != SMTP_OK) fprintf(stderr, "bench_parallel: session %ld: send: %s: %s\n", i, smtp_result_str(r), smtp_error_detail(&t->s));
            if (r == SMTP_OK && (st = step_start(a, t)) == 0) { pf[i].events = POLLOUT; continue; }
            pf[i].fd = -1;
            live--;
        }
    }
    for (i = 0; i < a->sessions; i++) {
        smtp_result r = smtp_close(&slots[i].s);
        if (r != SMTP_OK) {
            fprintf(stderr, "bench_parallel: session %ld: close: %s: %s\n", i, smtp_result_str(r), smtp_error_detail(&slots[i].s));
            slots[i].ok = 0;   /* as in the threads mode: not ended cleanly */
        }
        *ok += slots[i].ok;
        free(slots[i].res);
    }
    free(slots);
    free(pf);
    return failed;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_parallel -p PORT [-h HOST] [-s SESSIONS] [-n PER] [-c CHUNK] -m threads|step\n");
    exit(2);
}

int main(int argc, char **argv)
{
    bench_args a;
    const char *mode = NULL;
    long i, ok = 0;
    double t0, t1;
    int opt, rc;

    memset(&a, 0, sizeof a);
    a.host = "127.0.0.1";
    a.sessions = 100;
    a.per = 100;
    a.chunk = 100;
    while ((opt = getopt(argc, argv, "p:h:s:n:c:m:")) != -1) {
        switch (opt) {
        case 'p': a.port = atoi(optarg); break;
        case 'h': a.host = optarg; break;
        case 's': a.sessions = atol(optarg); break;
        case 'n': a.per = atol(optarg); break;
        case 'c': a.chunk = atol(optarg); break;
        case 'm': mode = optarg; break;
        default: usage();
        }
    }
    if (a.port <= 0 || a.sessions <= 0 || a.per <= 0 || a.chunk < 0 || !mode ||
        (strcmp(mode, "threads") != 0 && strcmp(mode, "step") != 0))
        usage();
    bench_make_body();
    a.msgs = (smtp_message *)calloc((size_t)a.per, sizeof *a.msgs);
    if (!a.msgs) { fprintf(stderr, "out of memory\n"); return 1; }
    for (i = 0; i < a.per; i++) bench_fill_message(&a.msgs[i]);
    /* bench_smtph's default config: cleartext, the same EHLO name */
    a.cfg.host = a.host;
    a.cfg.port = a.port;
    a.cfg.helo_name = "bench.example.com";
    a.cfg.security = SMTP_SECURITY_NONE;

    t0 = now();
    rc = strcmp(mode, "threads") == 0 ? run_threads(&a, &ok) : run_step(&a, &ok);
    t1 = now();
    free(a.msgs);
    if (rc == BENCH_UNAVAILABLE) return rc;
    printf("parallel mode=%s sessions=%ld per=%ld chunk=%ld n=%ld secs=%.6f rate=%.1f ok=%ld\n", mode, a.sessions,
           a.per, a.chunk, a.sessions * a.per, t1 - t0, (double)ok / (t1 - t0), ok);
    if (rc == 0 && ok != a.sessions * a.per)
        fprintf(stderr, "bench_parallel: %ld of %ld messages sent\n", ok, a.sessions * a.per);
    return rc == 0 && ok == a.sessions * a.per ? 0 : 1;
}
