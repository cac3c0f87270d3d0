/* threads.c - 8 threads, each with its own session, 200 messages each over
   implicit TLS, one trust store shared read-only by all of them. Built with
   -fsanitize=thread (a data race makes the run fail: TSan exits 66). Every
   message is read back from what the server stored: 1600 files, each
   thread/message pair exactly once, its body, From and To intact, and 1600
   different Message-IDs (the generator is per session, never shared).

   tests/run-integration.sh starts its own aiosmtpd for it (port 24951,
   implicit TLS, PIPELINING): about 2 s here, where Postfix, whose every
   delivery forks a pipe and a shell, takes 30-40 s on a busy machine. The
   environment points it elsewhere, e.g. at Postfix:
     THREADS_PORT=24465 THREADS_MAILDIR=tests/.run/postfix/mail \
     THREADS_CA=tests/.run/postfix/certs/ca.pem tests/.build/threads
   Variables:
     THREADS_PORT     implicit-TLS port of the server (default 24951)
     THREADS_MAILDIR  where the server stores each message as *.eml
                      (default $RUNDIR/threads)
     THREADS_CA       the CA that signed the server's certificate
                      (default $CERTS/ca.pem, $CERTS defaulting to $RUNDIR/certs)
     THREADS_N, THREADS_MSGS, THREADS_REOPEN  8, 200, 50 (a new session on
                      the same session object every REOPEN messages: more
                      handshakes against the shared trust store)
   The directory may hold other messages: only the ones with this run's
   nonce in the subject count, and files are read as they appear (a server
   that delivers after its 250, like Postfix, is waited for, 180 s at most). */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include "test.h"
#include <dirent.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 32
#define MAX_MSGS    1000

static smtp_trust *trust;
static int port, nthreads = 8, nmsgs = 200, reopen = 50;
static unsigned long nonce;
static const char *maildir;

typedef struct worker_result {
    long sent;               /* smtp_send returned SMTP_OK */
    long opens;              /* successful smtp_open calls */
    long errors;
    char first_error[600];   /* the first failure, in words */
    long long ms;
} worker_result;

static worker_result results[MAX_THREADS];

static void note_error(worker_result *w, const char *what, smtp_result r, const smtp_session *s)
{
    if (w->errors++ == 0)
        snprintf(w->first_error, sizeof w->first_error, "%s: %s: %s", what, smtp_result_str(r), smtp_error_detail(s));
}

static void *worker(void *arg)
{
    long t = (long)arg;
    worker_result *w = &results[t];
    smtp_session *s = (smtp_session *)malloc(sizeof *s);   /* about 110 KB: not on a thread's stack */
    smtp_config cfg;
    smtp_message m;
    char subject[120], text[160], rcpt[64], from[80];
    const char *to[2];
    int i, open = 0;
    long long t0 = now_ms();
    smtp_result r;
    if (!s) { snprintf(w->first_error, sizeof w->first_error, "out of memory"); w->errors++; return NULL; }
    memset(&cfg, 0, sizeof cfg);
    cfg.host = "localhost"; cfg.port = port; cfg.security = SMTP_SECURITY_IMPLICIT; cfg.trust = trust;
    cfg.helo_name = "threads.test";
    /* not what is tested here: generous, so a loaded machine does not fail the run */
    cfg.connect_timeout_ms = 120000; cfg.greeting_timeout_ms = 120000; cfg.timeout_ms = 120000;
    snprintf(from, sizeof from, "Thread %ld <thread%ld@example.com>", t, t);
    for (i = 0; i < nmsgs; i++) {
        if (open && i % reopen == 0) { smtp_close(s); open = 0; }
        if (!open) {
            r = smtp_open(s, &cfg);
            if (r != SMTP_OK) { note_error(w, "smtp_open", r, s); smtp_close(s); continue; }
            open = 1; w->opens++;
        }
        snprintf(subject, sizeof subject, "thr %lu t%ld m%d", nonce, t, i);
        snprintf(text, sizeof text, "thread %ld message %d of run %lu\n", t, i, nonce);
        snprintf(rcpt, sizeof rcpt, "t%ld.m%d@example.com", t, i);
        to[0] = rcpt; to[1] = NULL;
        memset(&m, 0, sizeof m);
        m.from = from; m.to = to; m.subject = subject; m.text = text;
        r = smtp_send(s, &m);
        if (r == SMTP_OK) w->sent++;
        else { note_error(w, subject, r, s); smtp_close(s); open = 0; }
    }
    if (open && (r = smtp_close(s)) != SMTP_OK) note_error(w, "smtp_close", r, s);
    free(s);
    w->ms = now_ms() - t0;
    return NULL;
}

/* ---- reading back: every *.eml in maildir, each read once ---------------- */

static char **seen_names;     /* files already read (an open-addressing set) */
static size_t seen_cap;
static unsigned char *got;    /* got[t * nmsgs + m]: times this message was found */
static char (*msgid)[128];    /* the Message-ID of each found message */
static long found, bad;       /* messages of this run found; ones not as sent */

static size_t name_hash(const char *s)
{
    size_t h = 5381;
    while (*s) h = h * 33 + (unsigned char)*s++;
    return h;
}

/* 1 if name was new (and is now remembered) */
static int seen_add(const char *name)
{
    size_t i = name_hash(name) & (seen_cap - 1);
    while (seen_names[i]) {
        if (!strcmp(seen_names[i], name)) return 0;
        i = (i + 1) & (seen_cap - 1);
    }
    seen_names[i] = strdup(name);
    return 1;
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *p;
    long n;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END); n = ftell(f); fseek(f, 0, SEEK_SET);
    p = (char *)malloc((size_t)n + 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) n = 0;
    if (p) p[n] = 0;
    fclose(f);
    return p;
}

/* The value of header name (first occurrence, unfolded lines only) into out. */
static int header(const char *eml, const char *name, char *out, size_t n)
{
    const char *p = eml, *e;
    size_t l = strlen(name);
    for (;;) {
        if (!strncmp(p, name, l) && p[l] == ':') {
            p += l + 1;
            while (*p == ' ') p++;
            for (e = p; *e && *e != '\r' && *e != '\n'; e++) {}
            if ((size_t)(e - p) >= n) return 0;
            memcpy(out, p, (size_t)(e - p)); out[e - p] = 0;
            return 1;
        }
        p = strchr(p, '\n');
        if (!p || p[1] == '\n' || (p[1] == '\r' && p[2] == '\n')) return 0;   /* end of the header */
        p++;
    }
}

static void check_message(const char *path, const char *eml)
{
    char subj[160], want[200], v[160];
    unsigned long n;
    long t;
    int m, k;
    if (!header(eml, "Subject", subj, sizeof subj)) return;
    if (sscanf(subj, "thr %lu t%ld m%d%n", &n, &t, &m, &k) != 3 || n != nonce || subj[k]) return;
    if (t < 0 || t >= nthreads || m < 0 || m >= nmsgs) { bad++; printf("  %s: subject out of range: %s\n", path, subj); return; }
    found++;
    if (got[t * nmsgs + m]++) { bad++; printf("  %s: a second copy of %s\n", path, subj); return; }
    /* stored with LF (Postfix) or CRLF (aiosmtpd) */
    snprintf(want, sizeof want, "\nthread %ld message %d of run %lu\n", t, m, nonce);
    snprintf(v, sizeof v, "\nthread %ld message %d of run %lu\r\n", t, m, nonce);
    if (!strstr(eml, want) && !strstr(eml, v)) { bad++; printf("  %s: body of %s not as sent\n", path, subj); }
    snprintf(want, sizeof want, "t%ld.m%d@example.com", t, m);
    if (!header(eml, "To", v, sizeof v) || strcmp(v, want)) { bad++; printf("  %s: To of %s is not %s\n", path, subj, want); }
    snprintf(want, sizeof want, "Thread %ld <thread%ld@example.com>", t, t);
    if (!header(eml, "From", v, sizeof v) || strcmp(v, want)) { bad++; printf("  %s: From of %s is not %s\n", path, subj, want); }
    if (!header(eml, "Message-ID", msgid[t * nmsgs + m], sizeof msgid[0])) { bad++; printf("  %s: no Message-ID\n", path); }
}

static void scan(void)
{
    DIR *d = opendir(maildir);
    struct dirent *e;
    char path[1024];
    while (d && (e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        char *eml;
        if (e->d_name[0] == '.' || l < 5 || strcmp(e->d_name + l - 4, ".eml")) continue;
        if (!seen_add(e->d_name)) continue;
        snprintf(path, sizeof path, "%s/%s", maildir, e->d_name);
        if ((eml = read_all(path)) != NULL) check_message(path, eml);
        free(eml);
    }
    if (d) closedir(d);
}

static int cmp_str(const void *a, const void *b) { return strcmp((const char *)a, (const char *)b); }

TEST(eight_threads_two_hundred_messages_each)
{
    pthread_t th[MAX_THREADS];
    const char *ca = getenv("THREADS_CA"), *certs = getenv("CERTS"), *rundir = getenv("RUNDIR");
    char capath[600], detail[300];
    long total_sent = 0, total_opens = 0, i, dup = 0, total = (long)nthreads * nmsgs;
    long long t0, t_sent, end;
    if (ca) snprintf(capath, sizeof capath, "%s", ca);
    else if (certs) snprintf(capath, sizeof capath, "%s/ca.pem", certs);
    else snprintf(capath, sizeof capath, "%s/certs/ca.pem", rundir ? rundir : "tests/.run");
    CHECK_EQ_INT(smtp_trust_load_file(&trust, capath, detail, sizeof detail), SMTP_OK);
    if (!trust) { printf("  %s\n", detail); return; }

    t0 = now_ms();
    for (i = 0; i < nthreads; i++) CHECK_EQ_INT(pthread_create(&th[i], NULL, worker, (void *)i), 0);
    for (i = 0; i < nthreads; i++) pthread_join(th[i], NULL);
    t_sent = now_ms();
    for (i = 0; i < nthreads; i++) {
        total_sent += results[i].sent; total_opens += results[i].opens;
        if (results[i].errors) printf("  thread %ld: %ld errors, the first: %s\n", i, results[i].errors, results[i].first_error);
        CHECK_EQ_INT(results[i].sent, nmsgs);
        CHECK_EQ_INT(results[i].errors, 0);
    }
    printf("  %d threads x %d messages: %ld sent on %ld sessions in %lld ms (%.0f msg/s)\n", nthreads, nmsgs,
           total_sent, total_opens, t_sent - t0, (double)total_sent * 1000.0 / (double)(t_sent - t0 + 1));

    /* read back; Postfix delivers after its 250, so wait (generously) for every
       message that got one (more may be stored: those are counted too) */
    seen_cap = 1u << 16;
    seen_names = (char **)calloc(seen_cap, sizeof *seen_names);
    got = (unsigned char *)calloc((size_t)total, 1);
    msgid = (char (*)[128])calloc((size_t)total, sizeof *msgid);
    end = now_ms() + 180000;
    for (;;) {
        scan();
        if (found >= total_sent || now_ms() > end) break;
        usleep(100000);
    }
    usleep(300000); scan();   /* a copy delivered twice would show up now */
    printf("  read back %ld of %ld in %lld ms after the last 250\n", found, total, now_ms() - t_sent);
    CHECK_EQ_INT(found, total);
    CHECK_EQ_INT(bad, 0);
    for (i = 0; i < total; i++)
        if (got[i] != 1) {
            if (dup++ < 10) printf("  thread %ld message %ld stored %d times\n", i / nmsgs, i % nmsgs, got[i]);
        }
    CHECK_EQ_INT(dup, 0);
    /* Message-IDs: all different */
    qsort(msgid, (size_t)total, sizeof *msgid, cmp_str);
    for (dup = 0, i = 1; i < total; i++)
        if (msgid[i][0] && !strcmp(msgid[i], msgid[i - 1]) && dup++ < 5) printf("  Message-ID twice: %s\n", msgid[i]);
    CHECK_EQ_INT(dup, 0);

    for (i = 0; i < (long)seen_cap; i++) free(seen_names[i]);
    free(seen_names); free(got); free(msgid);
    smtp_trust_free(trust);
}

static int env_num(const char *k, int def, int lo, int hi)
{
    const char *v = getenv(k);
    int n = v ? atoi(v) : def;
    return n < lo ? lo : n > hi ? hi : n;
}

int main(void)
{
    static char md[600];
    const char *rundir = getenv("RUNDIR") ? getenv("RUNDIR") : "tests/.run";
    port = env_num("THREADS_PORT", 24951, 1, 65535);
    nthreads = env_num("THREADS_N", 8, 1, MAX_THREADS);
    nmsgs = env_num("THREADS_MSGS", 200, 1, MAX_MSGS);
    reopen = env_num("THREADS_REOPEN", 50, 1, MAX_MSGS);
    if (getenv("THREADS_MAILDIR")) maildir = getenv("THREADS_MAILDIR");
    else { snprintf(md, sizeof md, "%s/threads", rundir); maildir = md; }
    nonce = (unsigned long)time(NULL) * 100000ul + (unsigned long)getpid() % 100000ul;
    RUN(eight_threads_two_hundred_messages_each);
    return TEST_END();
}
