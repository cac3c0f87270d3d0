/* itest.h - shared by the integration tests: files the servers write,
   waiting for them, and the session config they start from. */
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
static int AIO_PORT, AIO452_PORT, PF_PORT, HOSTILE;

static long long now_ms(void) { return smtp__now(); }

/* Calm on a busy machine (make test-loaded runs everything beside
   stress-ng): every wait that is not the feature under test gets
   CALM_MS, which only matters when something is already wrong (waits
   return as soon as their condition holds). A deadline that IS the
   feature is asserted with deadline_kept: never early, and over by at most
   DEADLINE_SLACK_MS, far below what the broken behaviour would take
   (the hostile scenarios hold or trickle for 20-60 s). */
#define CALM_MS 120000
#define DEADLINE_SLACK_MS 5000

static int deadline_kept(long long elapsed, long long deadline)
{
    return elapsed >= deadline && elapsed <= deadline + DEADLINE_SLACK_MS;
}

static int env_int(const char *k, int def) { const char *v = getenv(k); return v ? atoi(v) : def; }

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
