/* bench_parallel.c - the "parallel sessions" section of `make bench`
   (tests/bench/run.sh, issue 17): SESSIONS connections to one server at
   once, PER messages on each (100 x 100 = 10,000 in run.sh), the message
   of bench_msg.h (the one every bench client sends), cleartext, the
   default config of the single-connection bench (bench_smtph without
   options: PIPELINING within each transaction, no cross-message
   pipelining).

   bench_parallel -p PORT [-h HOST] [-s SESSIONS] [-n PER] [-c CHUNK] [-e] [-P] -m MODE
     -s SESSIONS  sessions (default 100)
     -n PER       messages per session (default 100)
     -c CHUNK     messages per smtp_send_batch call (default 100: the 100
                  messages of a session in one call); 0 = smtp_send, one
                  message per call
     -m threads   one thread per session, each its own blocking session:
                  smtp_open, smtp_send_batch, smtp_close. The threads start
                  together (a barrier before smtp_open).
     -m step      one thread drives every session with the step API of
                  issue 17 (smtp_open_start, smtp_send_batch_start,
                  smtp_step), waiting in one poll() over all of them
     -e           with -m step: wait in epoll instead of poll (Linux)
     -P           cfg.pipeline_messages (opt-in): the next message's
                  envelope leaves with the end of the one before
   Exit status: 0 every message sent; 1 a failure (said on stderr);
   2 usage; 3 the mode is not available in this smtp.h (run.sh prints
   "n/a" in its row).
   Output (one line, for run.sh), timed inside the process from before the
   first smtp_open to after the last smtp_close; run.sh times the whole
   process from outside (timeit) and uses that for its table:
     parallel mode=threads sessions=100 per=100 chunk=100 n=10000 secs=0.8 rate=12500.0 ok=10000 */
#define SMTP_IMPLEMENTATION
#include "../../smtp.h"
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
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
   SESSIONS sessions in this thread alone: each opened with
   smtp_open_start (the TCP connect stepped too), then sending the PER messages of a->msgs in batches of
   a->chunk (smtp_send_batch_start; smtp_send_start one at a time when
   a->chunk is 0). After each start the session is stepped at once (the
   step does what needs no waiting: the first write goes out there), then
   whenever its smtp_fd is ready for what its last step asked, or its
   deadline passed. The wait is poll() over every session (default) or
   epoll (-e; the descriptor is registered once and modified only when the
   wanted direction changes). Deadlines: after each step the session's
   smtp_timeout_ms is kept as an absolute time, so a wait computes the
   earliest one without asking all the sessions again. After its last
   message a session sends QUIT stepped (smtp_quit_start) and is freed with
   smtp_close, which then waits for nothing. */
typedef struct step_slot {
    smtp_session s;
    smtp_result *res;
    long next, ok, inflight;      /* the next message to start; accepted; in the batch under way */
    int opening, quitting;        /* smtp_open_start, smtp_quit_start under way */
    int fd, events;               /* the descriptor as registered and what it waits for (0: none) */
    long long dl;                 /* the deadline, ms on now_ms()'s clock; -1 none */
} step_slot;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

/* Steps slot i until it waits: returns the events it waits for (POLLIN or
   POLLOUT), or 0 when the session is done (its messages counted, QUIT
   answered or failed; to be freed with step_close). */
static int step_run(const bench_args *a, step_slot *t, long i)
{
    for (;;) {
        smtp_result r = smtp_step(&t->s);
        long k;
        int st;
        if (r == SMTP_WANT_READ || r == SMTP_WANT_WRITE) {
            int ms = smtp_timeout_ms(&t->s);
            t->dl = ms < 0 ? -1 : now_ms() + ms;
            return r == SMTP_WANT_READ ? POLLIN : POLLOUT;
        }
        if (t->quitting) {
            t->quitting = 0;
            if (r != SMTP_OK) {
                fprintf(stderr, "bench_parallel: session %ld: QUIT: %s: %s\n", i, smtp_result_str(r), smtp_error_detail(&t->s));
                t->ok = 0;   /* as in the threads mode: not ended cleanly */
            }
            return 0;
        }
        if (t->opening) {
            t->opening = 0;
            if (r != SMTP_OK) {
                fprintf(stderr, "bench_parallel: session %ld: open: %s: %s\n", i, smtp_result_str(r), smtp_error_detail(&t->s));
                break;
            }
        } else {
            if (a->chunk == 0) t->ok += r == SMTP_OK;
            else for (k = 0; k < t->inflight; k++) t->ok += t->res[t->next + k] == SMTP_OK;
            t->next += t->inflight;
            if (r != SMTP_OK) {
                fprintf(stderr, "bench_parallel: session %ld: send: %s: %s\n", i, smtp_result_str(r), smtp_error_detail(&t->s));
                break;
            }
        }
        if ((st = step_start(a, t)) != 0) {
            if (st < 0) { fprintf(stderr, "bench_parallel: session %ld: %s\n", i, smtp_error_detail(&t->s)); break; }
            if (smtp_quit_start(&t->s) != SMTP_OK) {
                fprintf(stderr, "bench_parallel: session %ld: smtp_quit_start: %s\n", i, smtp_error_detail(&t->s));
                t->ok = 0;
                break;
            }
            t->quitting = 1;   /* stepped on: QUIT and its reply */
        }
    }
    return 0;
}

/* Frees the session (after a stepped QUIT, smtp_close waits for nothing). */
static void step_close(step_slot *t, long i)
{
    if (smtp_close(&t->s) != SMTP_OK) {
        fprintf(stderr, "bench_parallel: session %ld: close: %s\n", i, smtp_error_detail(&t->s));
        t->ok = 0;   /* as in the threads mode: not ended cleanly */
    }
}

static int run_step(const bench_args *a, long *ok, int use_epoll)
{
    step_slot *slots = (step_slot *)calloc((size_t)a->sessions, sizeof *slots);
    struct pollfd *pf = (struct pollfd *)calloc((size_t)a->sessions, sizeof *pf);
    struct epoll_event *evs = (struct epoll_event *)calloc((size_t)a->sessions, sizeof *evs);
    long i, live = 0;
    int failed = 0, ep = -1;
    *ok = 0;
    if (!slots || !pf || !evs) { fprintf(stderr, "bench_parallel: out of memory\n"); return 1; }
    if (use_epoll && (ep = epoll_create1(0)) < 0) { perror("bench_parallel: epoll_create1"); return 1; }
    for (i = 0; i < a->sessions; i++) {
        step_slot *t = &slots[i];
        smtp_result r;
        t->fd = -1;
        pf[i].fd = -1;
        if (!(t->res = (smtp_result *)calloc((size_t)a->per, sizeof *t->res))) { fprintf(stderr, "bench_parallel: out of memory\n"); return 1; }
        if ((r = smtp_open_start(&t->s, &a->cfg)) != SMTP_OK) {
            fprintf(stderr, "bench_parallel: session %ld: open: %s: %s\n", i, smtp_result_str(r), smtp_error_detail(&t->s));
            failed = 1;
            continue;
        }
        t->opening = 1;
        live++;
    }
    for (i = 0; i < a->sessions; i++) {   /* the first steps: each session as far as it goes */
        step_slot *t = &slots[i];
        if (!t->opening) continue;
        t->events = step_run(a, t, i);
        if (!t->events) { step_close(t, i); live--; continue; }
        t->fd = smtp_fd(&t->s);
        pf[i].fd = t->fd; pf[i].events = (short)t->events;
        if (ep >= 0) {
            struct epoll_event ev;
            ev.events = t->events == POLLIN ? EPOLLIN : EPOLLOUT;
            ev.data.u64 = (unsigned long long)i;
            if (epoll_ctl(ep, EPOLL_CTL_ADD, t->fd, &ev) < 0) { perror("bench_parallel: epoll_ctl"); return 1; }
        }
    }
    while (live > 0) {
        long long dl = -1, now;
        int wait = -1, n, k;
        for (i = 0; i < a->sessions; i++)   /* the earliest deadline */
            if (slots[i].events && slots[i].dl >= 0 && (dl < 0 || slots[i].dl < dl)) dl = slots[i].dl;
        if (dl >= 0) { now = now_ms(); wait = dl <= now ? 0 : (int)(dl - now); }
        if (ep >= 0) {
            n = epoll_wait(ep, evs, (int)a->sessions, wait);
            if (n < 0) { perror("bench_parallel: epoll_wait"); return 1; }
            for (k = 0; k < n; k++) slots[evs[k].data.u64].dl = 0;   /* marked: step it */
        } else {
            if (poll(pf, (nfds_t)a->sessions, wait) < 0) { perror("bench_parallel: poll"); return 1; }
            for (i = 0; i < a->sessions; i++) if (pf[i].fd >= 0 && pf[i].revents) slots[i].dl = 0;
        }
        now = now_ms();
        for (i = 0; i < a->sessions; i++) {   /* ready, or past its deadline (the step says SMTP_ERR_TIMEOUT) */
            step_slot *t = &slots[i];
            int was = t->events, fd;
            if (!t->events || t->dl < 0 || t->dl > now) continue;
            t->events = step_run(a, t, i);
            pf[i].events = (short)t->events;
            if (!t->events) {
                if (ep >= 0) (void)epoll_ctl(ep, EPOLL_CTL_DEL, t->fd, NULL);
                step_close(t, i);
                pf[i].fd = -1;
                live--;
                continue;
            }
            fd = smtp_fd(&t->s);
            if (ep >= 0 && (fd != t->fd || t->events != was)) {
                struct epoll_event ev;
                ev.events = t->events == POLLIN ? EPOLLIN : EPOLLOUT;
                ev.data.u64 = (unsigned long long)i;
                /* a new connection (a reconnect) may reuse the closed one's number: ADD then */
                if (epoll_ctl(ep, fd != t->fd ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev) < 0 &&
                    (errno != ENOENT || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)) {
                    perror("bench_parallel: epoll_ctl");
                    return 1;
                }
            }
            t->fd = pf[i].fd = fd;
        }
    }
    for (i = 0; i < a->sessions; i++) {
        *ok += slots[i].ok;
        free(slots[i].res);
    }
    if (ep >= 0) close(ep);
    free(slots);
    free(pf);
    free(evs);
    return failed;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_parallel -p PORT [-h HOST] [-s SESSIONS] [-n PER] [-c CHUNK] [-e] [-P] -m threads|step\n");
    exit(2);
}

int main(int argc, char **argv)
{
    bench_args a;
    const char *mode = NULL;
    long i, ok = 0;
    double t0, t1;
    int opt, rc, use_epoll = 0;

    memset(&a, 0, sizeof a);
    a.host = "127.0.0.1";
    a.sessions = 100;
    a.per = 100;
    a.chunk = 100;
    while ((opt = getopt(argc, argv, "p:h:s:n:c:m:eP")) != -1) {
        switch (opt) {
        case 'p': a.port = atoi(optarg); break;
        case 'h': a.host = optarg; break;
        case 's': a.sessions = atol(optarg); break;
        case 'n': a.per = atol(optarg); break;
        case 'c': a.chunk = atol(optarg); break;
        case 'm': mode = optarg; break;
        case 'e': use_epoll = 1; break;
        case 'P': a.cfg.pipeline_messages = 1; break;
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
    rc = strcmp(mode, "threads") == 0 ? run_threads(&a, &ok) : run_step(&a, &ok, use_epoll);
    t1 = now();
    free(a.msgs);
    if (rc == BENCH_UNAVAILABLE) return rc;
    printf("parallel mode=%s%s%s sessions=%ld per=%ld chunk=%ld n=%ld secs=%.6f rate=%.1f ok=%ld\n", mode,
           use_epoll ? "-epoll" : "", a.cfg.pipeline_messages ? "-pipeline" : "", a.sessions, a.per, a.chunk, a.sessions * a.per, t1 - t0, (double)ok / (t1 - t0), ok);
    if (rc == 0 && ok != a.sessions * a.per)
        fprintf(stderr, "bench_parallel: %ld of %ld messages sent\n", ok, a.sessions * a.per);
    return rc == 0 && ok == a.sessions * a.per ? 0 : 1;
}
