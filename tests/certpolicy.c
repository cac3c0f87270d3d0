/* certpolicy.c - hostile and policy-breaking server certificates through a
   real TLS handshake, implicit TLS and after STARTTLS: each chain made by
   tests/peers/badcerts.sh and served by tests/peers/evil_tls.c (started by
   tests/run-integration.sh), each case with the outcome the library must
   give: refused with SMTP_ERR_CERT and a detail that names the reason, or
   accepted with the message read back from evil_tls's log.

   Every case runs in a child process, so a crash is reported as the
   case's result instead of ending the run: its sanitizer report goes to
   $RUNDIR/certpolicy/CASE.log and the line printed here quotes the
   summary and the top frames. One line per case and mode, then
   "N passed, N failed".

   Environment: BADCERTS (badcerts.sh's directory), EVIL_BASE and
   EVIL_CHAINS (chain number k, counted from 0 in that space-separated
   list, listens on EVIL_BASE+2k for implicit TLS and EVIL_BASE+2k+1 for
   STARTTLS), EVIL_LOGDIR (evil_tls's logs, NAME.log), RUNDIR.

   Host names other than localhost (the wildcard cases) resolve through a
   private hosts file bind-mounted over /etc/hosts in a private mount
   namespace of the child alone (unshare(CLONE_NEWNS), propagation made
   private first): the real /etc/hosts is never touched. Where that is not
   permitted the case prints SKIP. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* unshare, CLONE_NEWNS */
#endif
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wunused-function"   /* test.h's runner is used by hand here */
#pragma GCC diagnostic ignored "-Wunused-variable"
#endif
#include "test.h"
#include "itest.h"
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>

enum { PIN_NONE, PIN_DER, PIN_ENTRY };

typedef struct {
    const char *chain, *host;
    int verify, pin;
    smtp_result want;       /* SMTP_OK: a message must arrive too */
    const char *says;       /* the detail contains this (NULL: not asked) */
    const char *not_says;   /* ... and not this */
} cp_case;

#define FULL SMTP_VERIFY_FULL
#define NOHOST SMTP_VERIFY_NO_HOSTNAME
#define NONE SMTP_VERIFY_NONE
#define CERT SMTP_ERR_CERT

static const cp_case cases[] = {
    /* what must still work: the checks are not "refuse everything" */
    { "good",        "localhost",       FULL,   PIN_NONE,  SMTP_OK, NULL, NULL },
    { "good",        "127.0.0.1",       FULL,   PIN_NONE,  SMTP_OK, NULL, NULL },
    { "goodec",      "localhost",       FULL,   PIN_NONE,  SMTP_OK, NULL, NULL },
    { "good",        "localhost",       FULL,   PIN_DER,   SMTP_OK, NULL, NULL },
    /* a 9.9 KB leaf: over SMTP_CERT_MAX (8192 by default), refused by name, in every mode */
    { "big",         "localhost",       FULL,   PIN_NONE,  CERT, "SMTP_CERT_MAX", NULL },
    { "big",         "localhost",       NONE,   PIN_NONE,  CERT, "SMTP_CERT_MAX", NULL },
    /* malformed: the leaf's DER followed by garbage inside its entry; every mode */
    { "trailing",    "localhost",       FULL,   PIN_NONE,  CERT, NULL, NULL },
    { "trailing",    "localhost",       NOHOST, PIN_NONE,  CERT, NULL, NULL },
    { "trailing",    "localhost",       NONE,   PIN_NONE,  CERT, NULL, NULL },
    { "trailing",    "localhost",       FULL,   PIN_DER,   CERT, NULL, NULL },
    { "trailing",    "localhost",       FULL,   PIN_ENTRY, CERT, NULL, NULL },
    { "trailing1",   "localhost",       FULL,   PIN_NONE,  CERT, NULL, NULL },
    { "trailing1",   "localhost",       NOHOST, PIN_NONE,  CERT, NULL, NULL },
    { "trailing1",   "localhost",       NONE,   PIN_NONE,  CERT, NULL, NULL },
    { "trailing1",   "localhost",       FULL,   PIN_DER,   CERT, NULL, NULL },
    { "trailing1",   "localhost",       FULL,   PIN_ENTRY, CERT, NULL, NULL },
    { "trailing600", "localhost",       FULL,   PIN_NONE,  CERT, NULL, NULL },
    { "trailing600", "localhost",       NOHOST, PIN_NONE,  CERT, NULL, NULL },
    { "trailing600", "localhost",       NONE,   PIN_NONE,  CERT, NULL, NULL },
    { "trailing600", "localhost",       FULL,   PIN_DER,   CERT, NULL, NULL },
    { "trailing600", "localhost",       FULL,   PIN_ENTRY, CERT, NULL, NULL },
    /* a key bigger than BearSSL's decoder keeps (a random modulus: unusable) */
    { "rsa8192",     "localhost",       FULL,   PIN_NONE,  CERT, NULL, NULL },
    { "rsa8192",     "localhost",       NONE,   PIN_NONE,  CERT, NULL, NULL },
    { "rsa8192",     "localhost",       FULL,   PIN_DER,   CERT, NULL, "pinned" },   /* the pin is right */
    /* v0.6's decoder overflow steered: a 9.6 KB modulus that, on v0.6, writes
       0x41414141.. over the TLS transport's function pointers */
    { "hijack",      "localhost",       FULL,   PIN_NONE,  CERT, NULL, NULL },
    { "hijack",      "localhost",       NONE,   PIN_NONE,  CERT, NULL, NULL },
    /* policy */
    { "nc",          "localhost",       FULL,   PIN_NONE,  CERT, "name constraint", NULL },
    { "nc",          "localhost",       NOHOST, PIN_NONE,  CERT, "name constraint", NULL },
    { "eku",         "localhost",       FULL,   PIN_NONE,  CERT, "serverAuth", NULL },
    { "eku",         "localhost",       NOHOST, PIN_NONE,  CERT, "serverAuth", NULL },
    { "rsa1024",     "localhost",       FULL,   PIN_NONE,  CERT, "2048", NULL },
    { "rsa1024",     "localhost",       NOHOST, PIN_NONE,  CERT, "2048", NULL },
    { "sha1",        "localhost",       FULL,   PIN_NONE,  CERT, "SHA-1", NULL },
    { "sha1",        "localhost",       NOHOST, PIN_NONE,  CERT, "SHA-1", NULL },
    { "nosan",       "localhost",       FULL,   PIN_NONE,  CERT, "subjectAltName", NULL },
    { "wild",        "example.test",    FULL,   PIN_NONE,  CERT, "host name", NULL },
    { "wild2",       "mx.example.test", FULL,   PIN_NONE , SMTP_OK, NULL, NULL },
};

static const char *BADCERTS, *LOGDIR, *CHAINS;
static int BASE;
static char HOSTS[600];

static const char *result_name(smtp_result r)
{
#define SMTP__NAME_ITEM(name, value, text) if (r == name) return #name;
    SMTP_RESULT_TABLE(SMTP__NAME_ITEM)
#undef SMTP__NAME_ITEM
    return "?";
}

static const char *verify_name(int v, int pin)
{
    static const char *n[3][3] = { { "FULL", "FULL+pin", "FULL+pin(entry)" },
                                   { "NO_HOSTNAME", "NO_HOSTNAME+pin", "NO_HOSTNAME+pin(entry)" },
                                   { "NONE", "NONE+pin", "NONE+pin(entry)" } };
    return n[v][pin];
}

/* The chain's port (implicit TLS; STARTTLS is the next one), or 0. */
static int chain_port(const char *chain)
{
    const char *p = CHAINS;
    size_t n = strlen(chain);
    int k = 0;
    while (*p) {
        size_t w;
        while (*p == ' ') p++;
        w = strcspn(p, " ");
        if (w == n && !strncmp(p, chain, n)) return BASE + 2 * k;
        if (w) k++;
        p += w;
    }
    return 0;
}

static int read_pin(const char *chain, const char *ext, char *out, size_t n)
{
    char path[700], *s;
    snprintf(path, sizeof path, "%s/%s.%s", BADCERTS, chain, ext);
    s = slurp(path, NULL);
    if (!s || strlen(s) < 64) { free(s); return -1; }
    snprintf(out, n, "%.64s", s);
    free(s);
    return 0;
}

typedef struct {
    int open_r, send_r, skipped;
    char detail[1500];
} cp_out;

/* In the child: a private mount namespace whose /etc/hosts is HOSTS. */
static int private_hosts(char *why, size_t n)
{
    if (unshare(CLONE_NEWNS) != 0) { snprintf(why, n, "unshare(CLONE_NEWNS): %s", strerror(errno)); return -1; }
    if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
        snprintf(why, n, "making / private: %s", strerror(errno)); return -1;
    }
    if (mount(HOSTS, "/etc/hosts", NULL, MS_BIND, NULL) != 0) {
        snprintf(why, n, "bind-mounting %s over /etc/hosts: %s", HOSTS, strerror(errno)); return -1;
    }
    return 0;
}

static void child(const cp_case *c, smtp_security mode, int port, const char *subject, int fd)
{
    static cp_out o;
    smtp_config cfg;
    char ca[600], pin[80];
    memset(&o, 0, sizeof o);
    alarm(180);   /* a hang is a failure too (SIGALRM), never a stuck run */
    if (strcmp(c->host, "localhost") && strcmp(c->host, "127.0.0.1") &&
        private_hosts(o.detail, sizeof o.detail) != 0) {
        o.skipped = 1;
        if (write(fd, &o, sizeof o) < 0) {}
        exit(0);
    }
    snprintf(ca, sizeof ca, "%s/root.pem", BADCERTS);
    memset(&cfg, 0, sizeof cfg);
    cfg.host = c->host;
    cfg.port = port;
    cfg.security = mode;
    cfg.ca_file = ca;
    cfg.helo_name = "client.test";
    cfg.timeout_ms = CALM_MS;          /* not the feature: calm on a busy machine (alarm 180 s still ends a hang) */
    cfg.tls_verify = c->verify;
    if (c->pin != PIN_NONE) {
        if (read_pin(c->chain, c->pin == PIN_DER ? "sha256" : "entry.sha256", pin, sizeof pin) != 0) {
            snprintf(o.detail, sizeof o.detail, "no pin file for %s", c->chain);
            o.open_r = 999;
            if (write(fd, &o, sizeof o) < 0) {}
            exit(0);
        }
        cfg.tls_fingerprint = pin;
    }
    o.open_r = smtp_open(&S, &cfg);
    snprintf(o.detail, sizeof o.detail, "%s", smtp_error_detail(&S));
    o.send_r = 1;
    if (o.open_r == SMTP_OK) {
        smtp_message m;
        const char *to[] = { "bob@example.com", NULL };
        memset(&m, 0, sizeof m);
        m.from = "alice@example.com"; m.to = to; m.subject = subject;
        m.text = "certpolicy: this certificate was accepted\n";
        o.send_r = smtp_send(&S, &m);
        if (o.send_r != SMTP_OK) snprintf(o.detail, sizeof o.detail, "%s", smtp_error_detail(&S));
    }
    smtp_close(&S);
    if (write(fd, &o, sizeof o) < 0) {}
    exit(0);   /* exit, not _exit: LeakSanitizer runs */
}

/* The sanitizer's error line and top frames from a child's log, on one line. */
static void crash_summary(const char *path, char *out, size_t n)
{
    char *log = slurp(path, NULL), *p, *line, err[300] = "", frames[400] = "";
    size_t fl = 0;
    int nf = 0;
    out[0] = 0;
    if (!log) return;
    for (line = log; line && *line; line = p) {
        p = strchr(line, '\n');
        if (p) *p++ = 0;
        while (*line == ' ') line++;
        if (!err[0] && (strstr(line, "ERROR: ") || strstr(line, "runtime error"))) {
            const char *e = strstr(line, "ERROR: ");
            e = e ? e + 7 : line;
            snprintf(err, sizeof err, "%.*s", (int)strcspn(e, "("), e);
        } else if (line[0] == '#' && nf < 4 && strstr(line, " in ") && fl < sizeof frames) {
            char *in = strstr(line, " in ");
            fl += (size_t)snprintf(frames + fl, sizeof frames - fl, "%s%.*s", nf ? " < " : "",
                                   (int)strcspn(in + 4, " "), in + 4);
            nf++;
        }
    }
    free(log);
    snprintf(out, n, "%s%s%s", err, frames[0] ? "in " : "", frames);
}

static int log_has(const char *chain, const char *subject)
{
    char path[700], needle[300], *log;
    int found;
    long long end = now_ms() + CALM_MS;
    snprintf(path, sizeof path, "%s/%s.log", LOGDIR, chain);
    snprintf(needle, sizeof needle, "subject=%s\n", subject);
    for (;;) {
        log = slurp(path, NULL);
        found = log && strstr(log, needle);
        free(log);
        if (found || now_ms() > end) return found;
        usleep(20000);
    }
}

static void run_case(const cp_case *c, smtp_security mode)
{
    const char *mname = mode == SMTP_SECURITY_IMPLICIT ? "implicit" : "starttls";
    char label[200], subject[200], logpath[700], outcome[1800], why[900];
    int port = chain_port(c->chain), fds[2], st = 0, ok = 0, got = 0;
    ssize_t k = 0, r;
    cp_out o;
    pid_t pid;
    snprintf(label, sizeof label, "%-11s %-8s %-15s %-16s", c->chain, mname, c->host, verify_name(c->verify, c->pin));
    if (!port) { printf("FAIL %s no port (not in EVIL_CHAINS)\n", label); test_failed++; return; }
    if (mode == SMTP_SECURITY_STARTTLS) port++;
    snprintf(subject, sizeof subject, "certpolicy %s %s %s %d-%lld", c->chain, mname,
             verify_name(c->verify, c->pin), (int)getpid(), now_ms());
    snprintf(logpath, sizeof logpath, "%s/certpolicy/%s-%s-%s-%s.log", RUNDIR, c->chain, mname, c->host,
             verify_name(c->verify, c->pin));
    memset(&o, 0, sizeof o);
    fflush(stdout);
    if (pipe(fds) != 0) { perror("pipe"); exit(1); }
    pid = fork();
    if (pid == 0) {
        close(fds[0]);
        if (!freopen(logpath, "w", stderr)) _exit(98);
        child(c, mode, port, subject, fds[1]);
    }
    close(fds[1]);
    while ((size_t)k < sizeof o && (r = read(fds[0], (char *)&o + k, sizeof o - (size_t)k)) > 0) k += r;
    close(fds[0]);
    waitpid(pid, &st, 0);
    got = (size_t)k == sizeof o;
    if (got && o.skipped) {
        printf("SKIP %s cannot resolve %s here: %s\n", label, c->host, o.detail);
        return;
    }
    if (!got || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        char sum[800];
        crash_summary(logpath, sum, sizeof sum);
        if (WIFSIGNALED(st))
            snprintf(outcome, sizeof outcome, "CRASH (signal %d%s) %s [%s]", WTERMSIG(st),
                     WTERMSIG(st) == SIGALRM ? ": hung" : "", sum, logpath);
        else
            snprintf(outcome, sizeof outcome, "CRASH (exit %d%s) %s [%s]", WEXITSTATUS(st),
                     got ? " after returning" : "", sum, logpath);
        if (got) {
            size_t l = strlen(outcome);
            snprintf(outcome + l, sizeof outcome - l, " returned %s", result_name((smtp_result)o.open_r));
        }
    } else {
        int delivered = o.open_r == SMTP_OK && o.send_r == SMTP_OK && log_has(c->chain, subject);
        ok = o.open_r == (int)c->want;
        if (ok && c->says && !strstr(o.detail, c->says)) ok = 0;
        if (ok && c->not_says && strstr(o.detail, c->not_says)) ok = 0;
        if (ok && c->want == SMTP_OK && !delivered) ok = 0;
        snprintf(outcome, sizeof outcome, "%s%s \"%.300s\"", result_name((smtp_result)o.open_r),
                 o.open_r == SMTP_OK ? (delivered ? ", message delivered" : ", message NOT delivered") : "",
                 o.detail);
    }
    why[0] = 0;
    if (!ok) {
        snprintf(why, sizeof why, " -- want %s", result_name(c->want));
        if (c->says) snprintf(why + strlen(why), sizeof why - strlen(why), " with \"%s\"", c->says);
        if (c->not_says) snprintf(why + strlen(why), sizeof why - strlen(why), " without \"%s\"", c->not_says);
        if (c->want == SMTP_OK) snprintf(why + strlen(why), sizeof why - strlen(why), ", delivered");
    }
    printf("%s %s %s%s\n", ok ? "ok  " : "FAIL", label, outcome, why);
    if (ok) test_passed++; else test_failed++;
}

int main(int argc, char **argv)
{
    char dir[600];
    size_t i;
    FILE *f;
    BADCERTS = getenv("BADCERTS");
    LOGDIR = getenv("EVIL_LOGDIR");
    CHAINS = getenv("EVIL_CHAINS");
    BASE = env_int("EVIL_BASE", 0);
    itest_env();
    if (!BADCERTS || !LOGDIR || !CHAINS || !BASE) {
        fprintf(stderr, "certpolicy: set BADCERTS, EVIL_LOGDIR, EVIL_CHAINS and EVIL_BASE "
                        "(tests/run-integration.sh does)\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    snprintf(dir, sizeof dir, "%s/certpolicy", RUNDIR);
    mkdir(dir, 0755);
    /* the private hosts file for the wildcard cases (absolute: it is mounted) */
    if (!realpath(dir, HOSTS)) { perror(dir); return 2; }
    strncat(HOSTS, "/hosts", sizeof HOSTS - strlen(HOSTS) - 1);
    if (!(f = fopen(HOSTS, "w"))) { perror(HOSTS); return 2; }
    fprintf(f, "127.0.0.1 localhost example.test mx.example.test\n::1 localhost\n");
    fclose(f);
    for (i = 0; i < sizeof cases / sizeof *cases; i++) {
        if (argc > 1 && strcmp(argv[1], cases[i].chain) != 0) continue;   /* certpolicy CHAIN: that one only */
        run_case(&cases[i], SMTP_SECURITY_IMPLICIT);
        run_case(&cases[i], SMTP_SECURITY_STARTTLS);
    }
    return TEST_END();
}
