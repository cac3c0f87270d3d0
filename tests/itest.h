/* itest.h - shared by the integration tests: the ports and files of
   tests/run-integration.sh, files the servers write, waiting for them,
   the session config they start from. Include after test.h. */
#ifndef SMTP_ITEST_H
#define SMTP_ITEST_H
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wunused-function"   /* each test file uses some of these */
#pragma GCC diagnostic ignored "-Wunused-variable"
#endif
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>

static smtp_session S;
static const char *RUNDIR;
static int AIO_PORT, AIO452_PORT, AIO_NOUTF8, AIO_SIZE, AIOTLS, AIOTLS_IMPL, BAD_BASE, CLIENT_PORT,
           AIOAUTH, AIOAUTH_IMPL, AIOAUTH_PLAIN, AIOAUTH_TWO, PF_PORT, PF_SUB, PF_IMPL, PF_TLS13, PF_SMALL,
           HOSTILE, SINK_PORT, SOCKS5, SOCKS4, SOCKS5_NOAUTH, SOCKS4A, HTTP, HTTP_NOAUTH,
           PF_SHORT, DOVECOT_LMTP, AIOTOKEN, AIOTOKEN_CLOSE, AIOCOUNT, AIOIDLE;
static char CERTS[512], CA[512], PF_CA[512];   /* tests/peers/certs.sh's; Postfix's own CA */

static int env_int(const char *k, int def) { const char *v = getenv(k); return v ? atoi(v) : def; }

/* The ports, by the names tests/run-integration.sh (and tests/servers.sh)
   export them under; the defaults are its values. */
static const struct { const char *env; int *port; int def; } ITEST_PORTS[] = {
    { "AIO_PORT", &AIO_PORT, 24525 }, { "AIO452_PORT", &AIO452_PORT, 24527 },
    { "AIO_NOUTF8", &AIO_NOUTF8, 24528 }, { "AIO_SIZE", &AIO_SIZE, 24529 },
    { "AIOTLS_PORT", &AIOTLS, 24530 }, { "AIOTLS_IMPLICIT", &AIOTLS_IMPL, 24531 },
    { "BADCERT_BASE", &BAD_BASE, 24540 }, { "CLIENTCERT_PORT", &CLIENT_PORT, 24536 },
    { "AIOAUTH_PORT", &AIOAUTH, 24550 }, { "AIOAUTH_IMPLICIT", &AIOAUTH_IMPL, 24551 },
    { "AIOAUTH_PLAIN", &AIOAUTH_PLAIN, 24552 }, { "AIOAUTH_TWO", &AIOAUTH_TWO, 24553 },
    { "PF_PLAIN", &PF_PORT, 24526 }, { "PF_SUBMISSION", &PF_SUB, 24587 }, { "PF_IMPLICIT", &PF_IMPL, 24465 },
    { "PF_TLS13", &PF_TLS13, 24466 }, { "PF_SMALL", &PF_SMALL, 24588 },
    { "HOSTILE_BASE", &HOSTILE, 24600 }, { "SINK_PORT", &SINK_PORT, 24560 },
    { "PROXY_SOCKS5", &SOCKS5, 24580 }, { "PROXY_SOCKS4", &SOCKS4, 24581 },
    { "PROXY_SOCKS5_NOAUTH", &SOCKS5_NOAUTH, 24582 }, { "PROXY_SOCKS4A", &SOCKS4A, 24583 },
    { "PROXY_HTTP", &HTTP, 24584 }, { "PROXY_HTTP_NOAUTH", &HTTP_NOAUTH, 24585 },
    /* issue 16 (tests/sessions.c) */
    { "PF_SHORT", &PF_SHORT, 24731 }, { "DOVECOT_LMTP_PORT", &DOVECOT_LMTP, 24730 },
    { "AIOTOKEN_PORT", &AIOTOKEN, 24732 }, { "AIOTOKEN_CLOSE_PORT", &AIOTOKEN_CLOSE, 24733 },
    { "AIOCOUNT_PORT", &AIOCOUNT, 24734 }, { "AIOIDLE_PORT", &AIOIDLE, 24735 },
};

/* Every main calls this first: RUNDIR, the ports, the CA files. */
static void itest_env(void)
{
    const char *certs = getenv("CERTS") ? getenv("CERTS") : "tests/.run/certs";
    size_t i;
    RUNDIR = getenv("RUNDIR") ? getenv("RUNDIR") : "tests/.run";
    for (i = 0; i < sizeof ITEST_PORTS / sizeof *ITEST_PORTS; i++)
        *ITEST_PORTS[i].port = env_int(ITEST_PORTS[i].env, ITEST_PORTS[i].def);
    snprintf(CERTS, sizeof CERTS, "%s", certs);
    snprintf(CA, sizeof CA, "%s/ca.pem", certs);
    snprintf(PF_CA, sizeof PF_CA, "%s/postfix/certs/ca.pem", RUNDIR);
}

/* The hostile server's scenario k (tests/peers/hostile.py). */
static int hport(int k) { return HOSTILE + k; }

/* Calm on a busy machine (make test-loaded runs everything beside
   stress-ng): every wait that is not the feature under test gets
   CALM_MS, which only matters when something is already wrong (waits
   return as soon as their condition holds). A deadline that IS the
   feature is asserted with deadline_kept: never early, and over by at most
   DEADLINE_SLACK_MS, far below what the broken behaviour would take
   (the hostile scenarios hold or trickle for 20-60 s). */
#ifndef CALM_MS   /* -DCALM_MS=N: quicker failures while a feature is being written */
#define CALM_MS 120000
#endif
#define DEADLINE_SLACK_MS 5000

static int deadline_kept(long long elapsed, long long deadline)
{
    return elapsed >= deadline && elapsed <= deadline + DEADLINE_SLACK_MS;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *p;
    long n;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END); n = ftell(f); fseek(f, 0, SEEK_SET);
    p = malloc((size_t)n + 1);
    if (fread(p, 1, (size_t)n, f) != (size_t)n) n = 0;
    p[n] = 0;
    fclose(f);
    if (len) *len = (size_t)n;
    return p;
}

static int wait_path(const char *path, int ms)
{
    long long end = now_ms() + ms;
    struct stat st;
    while (stat(path, &st) != 0) {
        if (now_ms() > end) return 0;
        usleep(10000);
    }
    return 1;
}

/* aiosmtpd spool: messages are numbered from 1 */
static int aio_count(const char *spool)
{
    char p[512];
    int n = 0;
    for (;;) {
        snprintf(p, sizeof p, "%s/%s/msg-%04d.json", RUNDIR, spool, n + 1);
        if (access(p, F_OK) != 0) return n;
        n++;
    }
}

/* Waits until the spool holds want messages (CALM_MS at most); the count. */
TEST_UNUSED static int aio_wait_count(const char *spool, int want)
{
    long long end = now_ms() + CALM_MS;
    while (aio_count(spool) < want && now_ms() < end) usleep(20000);
    return aio_count(spool);
}

/* JSON without the white space outside strings, so tests can match
   '"peer":["127.0.0.2"' whatever the indentation. */
static void json_compact(char *j)
{
    char *o = j;
    int in_str = 0;
    for (; *j; j++) {
        if (in_str) {
            *o++ = *j;
            if (*j == '\\' && j[1]) *o++ = *++j;
            else if (*j == '"') in_str = 0;
        } else if (*j == '"') { in_str = 1; *o++ = *j; }
        else if (*j != ' ' && *j != '\n' && *j != '\r' && *j != '\t') *o++ = *j;
    }
    *o = 0;
}

static char *aio_msg(const char *spool, int n, const char *ext, size_t *len)
{
    char p[512], *r;
    snprintf(p, sizeof p, "%s/%s/msg-%04d.%s", RUNDIR, spool, n, "json");
    if (!wait_path(p, CALM_MS)) return NULL;
    snprintf(p, sizeof p, "%s/%s/msg-%04d.%s", RUNDIR, spool, n, ext);
    r = slurp(p, len);
    if (r && !strcmp(ext, "json")) json_compact(r);
    return r;
}

/* One short message from alice@example.com to SEND_TO over S (auth.c
   sends to bob@example.net: Postfix relays there only after AUTH). */
static const char *SEND_TO = "bob@example.com", *SEND_SUBJECT = "test";
static smtp_result send_one(const char *text)
{
    smtp_message m;
    const char *to[2];
    to[0] = SEND_TO; to[1] = NULL;
    memset(&m, 0, sizeof m);
    m.from = "alice@example.com"; m.to = to; m.subject = SEND_SUBJECT; m.text = text;
    return smtp_send(&S, &m);
}

static void cfg_plain(smtp_config *c, int port)
{
    memset(c, 0, sizeof *c);
    c->host = "127.0.0.1";
    c->port = port;
    c->security = SMTP_SECURITY_NONE;
    c->helo_name = "client.test";
    c->timeout_ms = CALM_MS;
}

/* Runs tests/check_message.py on a stored message: Python's email package
   parses it and compares subject, addresses and the decoded text. */
static int python_check(const char *eml, const char *subject, const char *text)
{
    char cmd[1024], tp[512];
    FILE *f;
    int st;
    snprintf(tp, sizeof tp, "%s/expected-text", RUNDIR);
    f = fopen(tp, "wb");
    if (!f) return 0;
    fwrite(text, 1, strlen(text), f);
    fclose(f);
    setenv("CHECK_SUBJECT", subject, 1);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/check_message.py '%s' '%s'", eml, tp);
    st = system(cmd);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* Lines of spool/commands.log sent from our port (0: any) that start with word. */
static int commands_from(const char *spool, int port, const char *word)
{
    char path[512], needle[64], *log, *p;
    int c = 0;
    snprintf(path, sizeof path, "%s/%s/commands.log", RUNDIR, spool);
    log = slurp(path, NULL);
    if (!log) return -1;
    if (port) snprintf(needle, sizeof needle, ", %d], \"line\": \"%s", port, word);
    else snprintf(needle, sizeof needle, "\"line\": \"%s", word);
    for (p = log; (p = strstr(p, needle)) != NULL; p++) c++;
    free(log);
    return c;
}

/* Postfix's deliveries: DIR/mail/QUEUEID.N.env (written last) and .eml.
   pf_snapshot lists the .env names there now; pf_wait_new waits for one
   that is not in the snapshot. Queue ids are not ordered by time. */
static char pf_seen[65536];

static void pf_snapshot(void)
{
    char dir[512];
    DIR *d;
    struct dirent *e;
    snprintf(dir, sizeof dir, "%s/postfix/mail", RUNDIR);
    pf_seen[0] = 0;
    d = opendir(dir);
    while (d && (e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".env") && strlen(pf_seen) + strlen(e->d_name) + 3 < sizeof pf_seen) {
            strcat(pf_seen, "/"); strcat(pf_seen, e->d_name); strcat(pf_seen, "/");
        }
    if (d) closedir(d);
}

static char *pf_wait_new(char *name, size_t n)
{
    long long end = now_ms() + CALM_MS;
    char dir[512], key[300];
    snprintf(dir, sizeof dir, "%s/postfix/mail", RUNDIR);
    while (now_ms() < end) {
        DIR *d = opendir(dir);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            size_t l = strlen(e->d_name);
            if (l <= 4 || strcmp(e->d_name + l - 4, ".env") != 0) continue;
            snprintf(key, sizeof key, "/%s/", e->d_name);
            if (strstr(pf_seen, key)) continue;
            snprintf(name, n, "%s", e->d_name);
            closedir(d);
            return name;
        }
        if (d) closedir(d);
        usleep(20000);
    }
    return NULL;
}

/* Waits (CALM_MS at most) for a Postfix delivery whose message holds
   needle; its .eml path into path. Deliveries are asynchronous and not
   ordered. */
static int pf_find(const char *needle, char *path, size_t n)
{
    long long end = now_ms() + CALM_MS;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/postfix/mail", RUNDIR);
    while (now_ms() < end) {
        DIR *d = opendir(dir);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            size_t l = strlen(e->d_name);
            char *eml;
            if (l <= 4 || strcmp(e->d_name + l - 4, ".env") != 0) continue;
            snprintf(path, n, "%s/%.*s.eml", dir, (int)(l - 4), e->d_name);
            eml = slurp(path, NULL);
            if (eml && strstr(eml, needle)) { free(eml); closedir(d); return 1; }
            free(eml);
        }
        if (d) closedir(d);
        usleep(20000);
    }
    return 0;
}
#endif
