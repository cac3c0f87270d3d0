/* fuzz_inherit.c - smtp_config_load with account inheritance graphs
   (`account A : B, C`), generated from the input, checked against a
   resolution computed here independently.
   The input describes the file: byte 0 the number of accounts (1..16),
   byte 1 the one asked for (bit 7: it is named "default" and the load
   asks for NULL); then per account three bytes and its parents: the
   number of parents (low 3 bits; bit 3 adds 8), the keys it sets (host,
   from, user, port, domain: bits 0-4), the keys of a `defaults` block
   written just before it (bits 0-4; none when 0), then one byte per
   parent: an account index modulo (count + 1), where count means a name
   that is not defined. Missing bytes are 0. Every value names its writer
   (host a3.test, port 1003, ...) so the result shows who wrote each key.
   The reference is the library's documented meaning, as msmtp does it:
   the defaults blocks above the account asked for, then each parent in
   the order given, each fully resolved itself (its own parents first,
   without defaults), then the account's own lines; later writers win. It
   is computed by memoised resolution (one pass per account), so it stays
   fast for any graph. -DFUZZ_INHERIT_ONCE=1 instead applies each
   ancestor only once, at its first visit (post-order DFS).
   Checks: a parent that is not defined, an account that inherits from
   itself, or a cycle gives SMTP_ERR_CONFIG; a chain deeper than 16 may
   (the loader's limit) or may load correctly; otherwise SMTP_OK with
   exactly the reference values of host, from, user, port and domain
   (helo_name). And bounded work: one load takes at most 2 s of CPU time,
   enforced here with a CPU timer that aborts (so the bound holds when
   libFuzzer replays a file without -timeout): a correct loader needs
   milliseconds for any 16-account file, while applying inheritance once
   per path is exponential in the depth. */
#include "fuzz.h"
#include <signal.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#ifndef FUZZ_INHERIT_ONCE
#define FUZZ_INHERIT_ONCE 0
#endif

#define MAXA 16
#define NKEY 5
static const char *const KEY[NKEY] = { "host", "from", "user", "port", "domain" };

static struct acct {
    int np, par[16], keys, dkeys;
} A[MAXA];
static int N;

/* who wrote each key: -1 nobody, 0..MAXA-1 an account, 100 + i the
   defaults block before account i */
typedef struct res { int w[NKEY]; } res;

static void value(int writer, int k, char *out, size_t n)
{
    int d = writer >= 100, i = d ? writer - 100 : writer;
    switch (k) {
    case 0: snprintf(out, n, "%s%d.test", d ? "d" : "a", i); break;
    case 1: snprintf(out, n, "%s%d@from.test", d ? "d" : "a", i); break;
    case 2: snprintf(out, n, "%s%d-user", d ? "d" : "a", i); break;
    case 3: snprintf(out, n, "%d", (d ? 2000 : 1000) + i); break;
    default: snprintf(out, n, "%s%d.helo.test", d ? "d" : "a", i); break;
    }
}

/* -1 error (undefined parent, self, cycle); 0 fine; *depth the longest chain */
static int memo_state[MAXA], memo_depth[MAXA];
static res memo[MAXA];

static int resolve(int a, int *depth)
{
    int i, k, d = 0;
    res r;
    if (memo_state[a] == 1) return -1;   /* on the stack: a cycle */
    if (memo_state[a] == 2) { *depth = memo_depth[a]; return 0; }
    if (memo_state[a] == 3) return -1;
    memo_state[a] = 1;
    for (k = 0; k < NKEY; k++) r.w[k] = -1;
    for (i = 0; i < A[a].np; i++) {
        int p = A[a].par[i], pd;
        if (p >= N || p == a || resolve(p, &pd) != 0) { memo_state[a] = 3; return -1; }
        if (pd + 1 > d) d = pd + 1;
        for (k = 0; k < NKEY; k++) if (memo[p].w[k] >= 0) r.w[k] = memo[p].w[k];
    }
    for (k = 0; k < NKEY; k++) if (A[a].keys >> k & 1) r.w[k] = a;
    memo[a] = r;
    memo_depth[a] = d;
    memo_state[a] = 2;
    *depth = d;
    return 0;
}

/* the other reading: each ancestor once, at its first visit */
static int seen[MAXA];
static void once(int a, res *r)
{
    int i, k;
    if (seen[a]) return;
    seen[a] = 1;
    for (i = 0; i < A[a].np; i++) once(A[a].par[i], r);
    for (k = 0; k < NKEY; k++) if (A[a].keys >> k & 1) r->w[k] = a;
}

static volatile int loading_n, loading_depth;

static void too_slow(int sig)
{
    char m[160];
    int k = snprintf(m, sizeof m, "inherit: loading %d accounts (depth %d) took over 2 s of CPU: "
                     "invariant failed: bounded work\n", loading_n, loading_depth);
    (void)sig;
    if (k > 0 && write(2, m, (size_t)k) < 0) {}
    abort();
}

static void cpu_limit(int on)
{
    struct itimerval it;
    memset(&it, 0, sizeof it);
    it.it_value.tv_sec = on ? 2 : 0;
    if (on) signal(SIGVTALRM, too_slow);
    setitimer(ITIMER_VIRTUAL, &it, NULL);
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int streq(const char *a, const char *b) { return a && b && !strcmp(a, b); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    size_t pos = 2;
    int top, named_default, i, k, rc, depth = 0;
    res want;
    smtp_settings st;
    smtp_result r;
    FILE *f;
    double t0, spent;
    char name[16];
#define BYTE() (pos < size ? data[pos++] : 0)
    if (size < 2) return 0;
    N = 1 + data[0] % MAXA;
    top = data[1] % N;
    named_default = data[1] >> 7;
    memset(A, 0, sizeof A);
    for (i = 0; i < N; i++) {
        uint8_t b = BYTE();
        A[i].np = (b & 7) + ((b & 8) ? 8 : 0);
        A[i].keys = BYTE() & 31;
        A[i].dkeys = BYTE() & 31;
        for (k = 0; k < A[i].np; k++) A[i].par[k] = BYTE() % (N + 1);
    }
#undef BYTE
    if (!path[0]) snprintf(path, sizeof path, "/tmp/fuzz-inherit-%d.conf", (int)getpid());
    f = fopen(path, "wb");
    if (!f) return 0;
    fprintf(f, "# generated by fuzz_inherit\n");
    for (i = 0; i < N; i++) {
        char v[64];
        if (A[i].dkeys) {
            fprintf(f, "defaults\n");
            for (k = 0; k < NKEY; k++)
                if (A[i].dkeys >> k & 1) { value(100 + i, k, v, sizeof v); fprintf(f, "%s %s\n", KEY[k], v); }
        }
        if (named_default && i == top) fprintf(f, "account default");
        else fprintf(f, "account a%d", i);
        for (k = 0; k < A[i].np; k++) {
            int p = A[i].par[k];
            if (p == N) fprintf(f, "%sundefined", k ? ", " : " : ");
            else if (named_default && p == top) fprintf(f, "%sdefault", k ? ", " : " : ");
            else fprintf(f, "%sa%d", k ? ", " : " : ", p);
        }
        fprintf(f, "\n");
        for (k = 0; k < NKEY; k++)
            if (A[i].keys >> k & 1) { value(i, k, v, sizeof v); fprintf(f, "%s %s\n", KEY[k], v); }
    }
    fclose(f);
    chmod(path, 0600);

    /* the reference */
    memset(memo_state, 0, sizeof memo_state);
    rc = resolve(top, &depth);
    if (rc == 0) {
        res acc;
        for (k = 0; k < NKEY; k++) acc.w[k] = -1;
        for (i = 0; i <= top; i++)   /* the defaults blocks above the account */
            for (k = 0; k < NKEY; k++) if (A[i].dkeys >> k & 1) acc.w[k] = 100 + i;
        if (FUZZ_INHERIT_ONCE) {
            res o;
            for (k = 0; k < NKEY; k++) o.w[k] = -1;
            memset(seen, 0, sizeof seen);
            once(top, &o);
            for (k = 0; k < NKEY; k++) if (o.w[k] >= 0) acc.w[k] = o.w[k];
        } else
            for (k = 0; k < NKEY; k++) if (memo[top].w[k] >= 0) acc.w[k] = memo[top].w[k];
        want = acc;
    }

    snprintf(name, sizeof name, "a%d", top);
    loading_n = N; loading_depth = depth;
    t0 = cpu_now();
    cpu_limit(1);
    r = smtp_config_load(&st, path, named_default ? NULL : name);
    cpu_limit(0);
    spent = cpu_now() - t0;
    if (spent > 2.0) {
        fprintf(stderr, "inherit: loading %d accounts (depth %d) took %.2f s of CPU\n", N, depth, spent);
        FCHECK(spent <= 2.0);
    }
    FCHECK(r == SMTP_OK || r == SMTP_ERR_CONFIG || r == SMTP_ERR_NOMEM);
    if (rc != 0) {
        if (r != SMTP_ERR_CONFIG) fprintf(stderr, "inherit: a broken graph loaded\n");
        FCHECK(r == SMTP_ERR_CONFIG);
    } else if (r == SMTP_ERR_CONFIG && depth > 16) {
        /* the loader's depth limit */
    } else {
        if (r != SMTP_OK) fprintf(stderr, "inherit: %s\n", st.detail);
        FCHECK(r == SMTP_OK);
        for (k = 0; k < NKEY; k++) {
            char v[64];
            const char *got = k == 0 ? st.cfg.host : k == 1 ? st.cfg.from : k == 2 ? st.cfg.username
                            : k == 4 ? st.cfg.helo_name : NULL;
            int ok;
            if (want.w[k] >= 0) value(want.w[k], k, v, sizeof v);
            if (k == 3) ok = want.w[k] < 0 ? st.cfg.port == 0 : st.cfg.port == atoi(v);
            else ok = want.w[k] < 0 ? got == NULL : streq(got, v);
            if (!ok) {
                fprintf(stderr, "inherit: %s is \"%s\", the reference says \"%s\"\n", KEY[k],
                        k == 3 ? "(port)" : got ? got : "(unset)", want.w[k] >= 0 ? v : "(unset)");
                if (k == 3) fprintf(stderr, "inherit: port %d\n", st.cfg.port);
                FCHECK(0);
            }
        }
    }
    smtp_settings_free(&st);
    return 0;
}
