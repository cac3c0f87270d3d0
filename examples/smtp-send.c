/* smtp-send.c - a sendmail-compatible command built on smtp.h (public API only).

   A drop-in /usr/sbin/sendmail for the programs that call one (mutt,
   neomutt, s-nail, mailx, cron, git send-email, PHP's mail(), scripts),
   configured like msmtp: the same files, accounts and keys. The manual is
   examples/smtp-send.1 (man -l examples/smtp-send.1).

   The message comes on standard input and is streamed: only its header
   block is held in memory (to add Date, Message-ID and From when missing,
   to remove Bcc, and with -t to read the recipients from To, Cc and Bcc).
   Recipients come from the arguments and, with -t, from the headers. All
   or nothing: if the server refuses any recipient, nothing is sent (RSET
   instead of DATA) and the exit status is non-zero, so the caller's retry
   cannot make duplicates. Exit codes are sendmail's (sysexits.h).

   Build: cc -std=c99 -o smtp-send examples/smtp-send.c -lbearssl
   Run:   printf 'Subject: hi\n\nbody\n' | ./smtp-send -a work bob@example.com
          ./smtp-send --url 'smtps://me:secret@mail.example.com' -t < message.eml */
#define _XOPEN_SOURCE 700            /* fnmatch, syslog, gethostname, mkstemp, localtime_r */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <netdb.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/* Two calls this program wants from smtp.h that older copies lack. The
   Makefile defines the macros when smtp.h has them; without them the
   program does the same work itself (settings) or says what it skips
   (NOTIFY on RCPT). */
#ifndef SMTP_SEND_HAVE_SETTINGS_GET
#  define SMTP_SEND_HAVE_SETTINGS_GET 0
#endif
#ifndef SMTP_SEND_HAVE_RCPT_TO_OPTS
#  define SMTP_SEND_HAVE_RCPT_TO_OPTS 0
#endif
#ifndef SMTP_SEND_SYSCONFDIR
#  define SMTP_SEND_SYSCONFDIR "/etc"
#endif
#define SMTP_SEND_VERSION "1.0 (smtp.h " SMTP_VERSION_STRING ")"

enum { EX_OK_ = 0, EX_USAGE_ = 64, EX_DATAERR_ = 65, EX_NOINPUT_ = 66, EX_NOUSER_ = 67, EX_NOHOST_ = 68,
       EX_UNAVAILABLE_ = 69, EX_SOFTWARE_ = 70, EX_OSERR_ = 71, EX_OSFILE_ = 72, EX_CANTCREAT_ = 73, EX_IOERR_ = 74,
       EX_TEMPFAIL_ = 75, EX_PROTOCOL_ = 76, EX_NOPERM_ = 77, EX_CONFIG_ = 78 };

static const char *exit_name(int e)
{
    switch (e) {
    case EX_OK_: return "EX_OK"; case EX_USAGE_: return "EX_USAGE"; case EX_DATAERR_: return "EX_DATAERR";
    case EX_NOINPUT_: return "EX_NOINPUT"; case EX_NOUSER_: return "EX_NOUSER"; case EX_NOHOST_: return "EX_NOHOST";
    case EX_UNAVAILABLE_: return "EX_UNAVAILABLE"; case EX_SOFTWARE_: return "EX_SOFTWARE";
    case EX_OSERR_: return "EX_OSERR"; case EX_OSFILE_: return "EX_OSFILE"; case EX_CANTCREAT_: return "EX_CANTCREAT";
    case EX_IOERR_: return "EX_IOERR"; case EX_TEMPFAIL_: return "EX_TEMPFAIL"; case EX_PROTOCOL_: return "EX_PROTOCOL";
    case EX_NOPERM_: return "EX_NOPERM"; case EX_CONFIG_: return "EX_CONFIG"; default: return "EX_UNKNOWN";
    }
}

/* ---- small helpers ------------------------------------------------------ */

static void die_nomem(void)
{
    fputs("smtp-send: out of memory\n", stderr);
    exit(EX_OSERR_);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) die_nomem();
    return p;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) die_nomem();
    return p;
}

static char *xstrndup(const char *s, size_t n)
{
    char *d = (char *)xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

static char *xstrdup(const char *s) { return xstrndup(s, strlen(s)); }

static char *xprintf(const char *fmt, ...)
{
    va_list ap;
    int n;
    char *p;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) die_nomem();
    p = (char *)xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

/* A growing byte buffer. */
typedef struct buf { char *p; size_t len, cap; } buf;

static void buf_add(buf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t c = b->cap ? b->cap : 256;
        while (c < b->len + n + 1) c *= 2;
        b->p = (char *)xrealloc(b->p, c);
        b->cap = c;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void buf_str(buf *b, const char *s) { buf_add(b, s, strlen(s)); }

/* A growing list of strings, optionally without duplicates (hashed, so a
   list of any length stays fast). */
typedef struct strlist { char **v; size_t n, cap; size_t *hash; size_t hcap; } strlist;

static size_t str_hash(const char *s)
{
    size_t h = 5381;
    for (; *s; s++) h = h * 33 + (unsigned char)tolower((unsigned char)*s);
    return h;
}

static void list_push(strlist *l, char *s)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = (char **)xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = s;
}

/* Adds s (taking it) unless an equal address (case-insensitive) is there. */
static int list_add_unique(strlist *l, char *s)
{
    size_t i, h;
    if (l->n * 2 + 2 > l->hcap) {   /* rehash into a table twice as large */
        size_t nc = l->hcap ? l->hcap * 4 : 64;
        free(l->hash);
        l->hash = (size_t *)xmalloc(nc * sizeof *l->hash);
        for (i = 0; i < nc; i++) l->hash[i] = (size_t)-1;
        l->hcap = nc;
        for (i = 0; i < l->n; i++) {
            h = str_hash(l->v[i]) & (nc - 1);
            while (l->hash[h] != (size_t)-1) h = (h + 1) & (nc - 1);
            l->hash[h] = i;
        }
    }
    h = str_hash(s) & (l->hcap - 1);
    while (l->hash[h] != (size_t)-1) {
        if (!strcasecmp(l->v[l->hash[h]], s)) { free(s); return 0; }
        h = (h + 1) & (l->hcap - 1);
    }
    l->hash[h] = l->n;
    list_push(l, s);
    return 1;
}

static int has_8bit(const char *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) if ((unsigned char)p[i] >= 0x80) return 1;
    return 0;
}

static int yes_no(const char *v, int *out)   /* msmtp's on/off (also true/false, yes/no; "" is on) */
{
    if (!v || !*v || !strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "yes")) { *out = 1; return 0; }
    if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "no")) { *out = 0; return 0; }
    return -1;
}

/* "~/x" -> "$HOME/x"; other names unchanged (a new string either way). */
static char *expand_tilde(const char *p)
{
    const char *home = getenv("HOME");
    if (p && p[0] == '~' && (p[1] == '/' || !p[1])) {
        if (!home) { struct passwd *pw = getpwuid(getuid()); home = pw ? pw->pw_dir : ""; }
        return xprintf("%s%s", home, p + 1);
    }
    return xstrdup(p ? p : "");
}

/* Runs cmd with /bin/sh, its standard input /dev/null (ours holds the
   message), and returns the first line of its standard output without the
   line end (CR LF or LF), as msmtp's eval and passwordeval read it; *status
   is its exit status (-1 when killed). NULL when it cannot be run or prints
   nothing at all (why says which). */
static char *first_line_of(const char *cmd, int *status, char *why, size_t whyn)
{
    int pfd[2], st = 0;
    pid_t pid;
    buf b = {0};
    char c;
    ssize_t k;
    *status = -1;
    fflush(NULL);
    if (pipe(pfd) != 0) { snprintf(why, whyn, "cannot run '%s': %s", cmd, strerror(errno)); return NULL; }
    if ((pid = fork()) < 0) {
        snprintf(why, whyn, "cannot run '%s': %s", cmd, strerror(errno));
        close(pfd[0]); close(pfd[1]);
        return NULL;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_RDONLY);
        if (null < 0 || dup2(null, 0) < 0 || dup2(pfd[1], 1) < 0) _exit(127);
        close(pfd[0]); close(pfd[1]); close(null);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    for (;;) {   /* byte by byte up to the first line end: the rest is never read */
        k = read(pfd[0], &c, 1);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0 || c == '\n') break;
        if (b.len >= 65536) { k = -2; break; }
        buf_add(&b, &c, 1);
    }
    close(pfd[0]);   /* a command still writing gets SIGPIPE */
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if (k == -2) { snprintf(why, whyn, "the output of '%s' has a line over 64 KiB", cmd); free(b.p); return NULL; }
    if (k == -1 || (k == 0 && !b.p)) {
        snprintf(why, whyn, "cannot read output of '%s'%s", cmd, k ? "" : " (it printed nothing)");
        free(b.p);
        return NULL;
    }
    buf_add(&b, "", 0);
    if (b.len && b.p[b.len - 1] == '\r') b.p[--b.len] = 0;
    return b.p;
}

/* ---- msmtp configuration files -----------------------------------------
   The library's loader (smtp_config_load) gives the settings it uses to
   send. This reader gives the raw value of any key of an account (after
   defaults and inheritance, as the loader applies them), for the keys
   that concern this program (logfile, aliases, dsn_notify, ...), the
   list of accounts for -f, and which file holds an account. */

typedef struct rcline { const char *key, *val; int line, acc; } rcline;      /* acc -1: defaults */
typedef struct rcacct { const char *name, *parents; int first_line_idx, defaults_end; } rcacct;
typedef struct rcfile {
    char *path, *text;
    rcline *l; int nl;
    rcacct *a; int na;
    int loaded;
    char *evaluated;             /* with eval lines: the text with each replaced by its output, else NULL */
    int literal_password;        /* a password line of the file itself (not an eval's output) */
    char err[400];               /* rc_read's -2: why */
} rcfile;

/* Splits a line into key and value as the library does: double quotes
   group, with \" and \\ inside. -1 for an unterminated quote. */
static int rc_split(char *p, const char **key, const char **val)
{
    char *o;
    while (*p == ' ' || *p == '\t') p++;
    *key = p;
    while (*p && *p != ' ' && *p != '\t') p++;
    if (*p) *p++ = 0;
    while (*p == ' ' || *p == '\t') p++;
    *val = o = p;
    if (*p == '"') {
        for (p++; *p && *p != '"'; p++) {
            if (*p == '\\' && (p[1] == '"' || p[1] == '\\')) p++;
            *o++ = *p;
        }
        if (*p != '"') return -1;
        *o = 0;
        return 0;
    }
    for (o = p + strlen(p); o > p && (o[-1] == ' ' || o[-1] == '\t' || o[-1] == '\r'); o--) {}
    *o = 0;
    return 0;
}

/* msmtp's eval: every line "eval CMD" is replaced by the first line of
   CMD's output, when the file is read (every eval line of the file, as
   msmtp runs them). Returns the new text, or NULL with f->err. */
static char *rc_eval(rcfile *f, const char *text)
{
    buf out = {0};
    const char *p = text;
    int lineno = 0;
    while (*p) {
        const char *eol = strchr(p, '\n'), *key, *val;
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        char *line = xstrndup(p, n), *q = line;
        lineno++;
        while (*q == ' ' || *q == '\t') q++;
        if (*q && *q != '#' && rc_split(q, &key, &val) == 0) {
            if (!strcmp(key, "password")) f->literal_password = 1;
            if (!strcmp(key, "eval")) {
                char why[300], *res;
                const char *k2, *v2;
                int status;
                char *copy;
                if (!*val) {
                    snprintf(f->err, sizeof f->err, "%s:%d: eval needs a command", f->path, lineno);
                    free(line); free(out.p); return NULL;
                }
                if (!(res = first_line_of(val, &status, why, sizeof why))) {
                    snprintf(f->err, sizeof f->err, "%s:%d: eval: %s", f->path, lineno, why);
                    free(line); free(out.p); return NULL;
                }
                copy = xstrdup(res);
                q = copy;
                while (*q == ' ' || *q == '\t') q++;
                if (*q && *q != '#' && rc_split(q, &k2, &v2) == 0 && !strcmp(k2, "eval")) {
                    snprintf(f->err, sizeof f->err, "%s:%d: eval: the output of '%.200s' is another eval line", f->path,
                             lineno, val);
                    free(copy); free(res); free(line); free(out.p); return NULL;
                }
                free(copy);
                buf_str(&out, res);   /* the line's place keeps its number */
                free(res);
                if (eol) buf_add(&out, "\n", 1);
                free(line);
                p = eol ? eol + 1 : p + n;
                continue;
            }
        }
        free(line);
        buf_add(&out, p, n);
        if (eol) buf_add(&out, "\n", 1);
        p = eol ? eol + 1 : p + n;
    }
    buf_add(&out, "", 0);
    return out.p;
}

/* Reads path; 0 when read, -1 when it cannot be opened (errno set), -2
   when an eval line fails (f->err). Syntax errors are left to the
   library's loader, which names file and line. */
static int rc_read(rcfile *f, const char *path)
{
    FILE *fp = fopen(path, "r");
    buf b = {0};
    char chunk[4096], *p;
    size_t k;
    int cur = -1, in_defaults = 0, nlines = 1, lineno = 0, has_eval = 0, en = errno;
    memset(f, 0, sizeof *f);
    f->path = xstrdup(path);
    if (!fp) { errno = en; return -1; }
    while ((k = fread(chunk, 1, sizeof chunk, fp)) > 0) buf_add(&b, chunk, k);
    fclose(fp);
    buf_add(&b, "", 0);
    for (p = b.p; (p = strstr(p, "eval")) != NULL; p += 4) {   /* any line whose key is eval? */
        const char *s0 = p;
        while (s0 > b.p && (s0[-1] == ' ' || s0[-1] == '\t')) s0--;
        if ((s0 == b.p || s0[-1] == '\n') && (p[4] == ' ' || p[4] == '\t' || p[4] == '\n' || p[4] == '\r' || !p[4]))
            has_eval = 1;
    }
    if (has_eval) {
        if (!(f->evaluated = rc_eval(f, b.p))) { free(b.p); return -2; }
        free(b.p);
        f->text = xstrdup(f->evaluated);
    } else f->text = b.p;
    for (p = f->text; *p; p++) if (*p == '\n') nlines++;
    f->l = (rcline *)xmalloc((size_t)nlines * sizeof *f->l);
    f->a = (rcacct *)xmalloc((size_t)nlines * sizeof *f->a);
    for (p = f->text; p && *p;) {
        char *eol = strchr(p, '\n');
        const char *key, *val;
        if (eol) *eol = 0;
        lineno++;
        while (*p == ' ' || *p == '\t') p++;
        if (*p && *p != '#' && *p != '\r' && rc_split(p, &key, &val) == 0) {
            if (!strcmp(key, "defaults")) { in_defaults = 1; cur = -1; }
            else if (!strcmp(key, "account")) {
                char *v = (char *)val, *colon = strchr(v, ':'), *end;
                if (colon) *colon = 0;
                for (end = v + strlen(v); end > v && (end[-1] == ' ' || end[-1] == '\t');) *--end = 0;
                while (*v == ' ') v++;
                cur = f->na++;
                f->a[cur].name = v;
                f->a[cur].parents = colon ? colon + 1 : NULL;
                f->a[cur].defaults_end = f->nl;
                in_defaults = 0;
            } else if (cur >= 0 || in_defaults) {
                f->l[f->nl].key = key; f->l[f->nl].val = val; f->l[f->nl].line = lineno; f->l[f->nl].acc = cur;
                f->nl++;
            }
        }
        p = eol ? eol + 1 : NULL;
    }
    f->loaded = 1;
    return 0;
}

static int rc_find(const rcfile *f, const char *name)
{
    int i;
    for (i = 0; f->loaded && i < f->na; i++) if (!strcmp(f->a[i].name, name)) return i;
    return -1;
}

/* The value of key for account a: defaults before the account, then its
   parents in order (their own lines and their parents'), then its own
   lines; the last one wins. NULL when never set. */
static const char *rc_get_acc(const rcfile *f, int a, const char *key, int depth, int with_defaults)
{
    const char *v = NULL, *p;
    int i;
    if (depth > 16) return NULL;
    if (with_defaults)
        for (i = 0; i < f->a[a].defaults_end; i++)
            if (f->l[i].acc == -1 && !strcmp(f->l[i].key, key)) v = f->l[i].val;
    for (p = f->a[a].parents; p && *p;) {
        char name[128];
        size_t k = 0;
        int j;
        while (*p == ' ' || *p == ',' || *p == '\t') p++;
        while (*p && *p != ',' && *p != ' ' && *p != '\t' && k + 1 < sizeof name) name[k++] = *p++;
        name[k] = 0;
        if (!k) break;
        if ((j = rc_find(f, name)) >= 0 && j != a) {
            const char *pv = rc_get_acc(f, j, key, depth + 1, 0);
            if (pv) v = pv;
        }
    }
    for (i = 0; i < f->nl; i++)
        if (f->l[i].acc == a && !strcmp(f->l[i].key, key)) v = f->l[i].val;
    return v;
}

/* msmtp's match of an envelope sender to an account's from: a glob(7)
   pattern, or equal ignoring case, or equal once "+detail" is removed. */
static int from_matches(const char *from, const char *acc_from)
{
    const char *plus = strchr(from, '+'), *at = strchr(from, '@');
    if (strpbrk(acc_from, "?*[")) return fnmatch(acc_from, from, 0) == 0;
    if (!strcasecmp(from, acc_from)) return 1;
    if (plus && at && plus < at && !strchr(acc_from, '+')) {
        char *nodetail = xprintf("%.*s%s", (int)(plus - from), from, at);
        int m = !strcasecmp(nodetail, acc_from);
        free(nodetail);
        return m;
    }
    return 0;
}

/* ---- the command line --------------------------------------------------- */

/* Every configuration key is also a long option (--key=value or --key
   value, - and _ alike). The keys are smtp.h's (smtp_config_keys): those
   that configure the session go to smtp_settings_set; of the msmtp keys
   the library only keeps, this table says which this program applies, or
   refuses; any other is accepted and ignored, as in a file.
     K_LIB      the library applies it (smtp_config_load, smtp_settings_set)
     K_OWN      this program applies it (the library only records it)
     K_NOTED    msmtp's, accepted and ignored (nothing to do here)
     K_REFUSED  not supported: refused with a message naming the key
                (protocol: only smtp)
     K_EVAL     msmtp's eval: a command whose first output line is the line
   bare: may be given without a value (--tls means --tls=on). */
enum { K_LIB = 1, K_OWN, K_NOTED, K_REFUSED, K_EVAL };
typedef struct keyspec { const char *name; unsigned char who, bare; } keyspec;
static const keyspec OWN_KEYS[] = {
    { "logfile", K_OWN, 0 }, { "logfile_time_format", K_OWN, 0 }, { "syslog", K_OWN, 1 }, { "aliases", K_OWN, 0 },
    { "dsn_notify", K_OWN, 0 }, { "dsn_return", K_OWN, 0 }, { "set_from_header", K_OWN, 1 },
    { "set_date_header", K_OWN, 1 }, { "set_msgid_header", K_OWN, 1 }, { "remove_bcc_headers", K_OWN, 1 },
    { "undisclosed_recipients", K_OWN, 1 }, { "allow_from_override", K_OWN, 1 }, { "from_full_name", K_OWN, 0 },
    { "add_missing_from_header", K_OWN, 1 }, { "add_missing_date_header", K_OWN, 1 }, { "keepbcc", K_OWN, 1 },
    { "auto_from", K_NOTED, 1 }, { "envelope_from", K_NOTED, 1 },
    { "protocol", K_REFUSED, 0 }, { "tls_sha1_fingerprint", K_REFUSED, 0 },
    { "tls_md5_fingerprint", K_REFUSED, 0 },
    { "eval", K_EVAL, 0 },
};
#define N_OWN_KEYS (sizeof OWN_KEYS / sizeof *OWN_KEYS)

/* The key (underscores) as an option: this program's row, else smtp.h's
   key (a value of "on|off..." or "nothing" may be left out). 0 when it
   is no key. */
static int find_key(const char *key, keyspec *out)
{
    const smtp_config_key *t;
    size_t i, n;
    for (i = 0; i < N_OWN_KEYS; i++) if (!strcmp(OWN_KEYS[i].name, key)) { *out = OWN_KEYS[i]; return 1; }
    for (t = smtp_config_keys(&n), i = 0; i < n; i++)
        if (!strcmp(t[i].name, key)) {
            out->name = t[i].name;
            out->who = t[i].sends ? K_LIB : K_NOTED;
            out->bare = !strncmp(t[i].value, "on|off", 6) || !strcmp(t[i].value, "nothing");
            return 1;
        }
    return 0;
}

/* The keys smtp-send cannot honour: NULL when the value is fine, else why. */
static const char *refused_why(const char *key, const char *val)
{
    if (!strcmp(key, "protocol") && strcmp(val, "smtp"))
        return "only smtp is supported (smtp-send does not deliver by LMTP yet; the library does: cfg.protocol)";
    if (!strcmp(key, "tls_sha1_fingerprint") || !strcmp(key, "tls_md5_fingerprint"))
        return "only SHA-256 fingerprints are supported: give tls_fingerprint";
    return NULL;
}

typedef struct kv { char *key, *val; } kv;

typedef struct opts {
    int read_rcpts, read_env_from, verbose, pretend, serverinfo, host_mode, b7bit, version, help;
    const char *conf, *account, *url, *subject, *body, *cmd_from, *full_name, *envid;
    const char *attach[64]; int nattach;
    kv *lib; size_t nlib;          /* library keys from the command line, in order */
    kv *own; size_t nown;          /* our keys from the command line */
    strlist rcpts;                 /* recipients from the arguments */
} opts;

static void usage(FILE *f)
{
    fprintf(f,
"usage: smtp-send [options] [--] [recipient ...] < message\n"
"       smtp-send [options] -t [--] [recipient ...] < message\n"
"       smtp-send [options] --serverinfo | --pretend | --version | --help\n"
"\n"
"Sends the message on standard input, as sendmail and msmtp do. Settings come\n"
"from msmtp's files (-C FILE, else ~/.msmtprc or $XDG_CONFIG_HOME/msmtp/config,\n"
"and " SMTP_SEND_SYSCONFDIR "/msmtprc), the account -a NAME (else the one whose from matches -f,\n"
"else \"default\"), or --url / --host alone. See man smtp-send.\n"
"\n"
"  -t, --read-recipients  also send to To, Cc and Bcc (Resent-* when present)\n"
"  -f, -r ADDRESS         envelope sender (--from); \"\" or <> for the null sender\n"
"  -F NAME                full name for a From header that is added\n"
"  -C, --file FILE        configuration file\n"
"  -a, --account NAME     account in the configuration files\n"
"  --host HOST            use only the command line, no file (with --port ...)\n"
"  --url URL              smtp[s]://user:pass@host:port/?key=value instead of a file\n"
"  --read-envelope-from   the envelope sender is the From header's address\n"
"  -N, --dsn-notify LIST  never, or success,failure,delay (DSN, when offered)\n"
"  -R, --dsn-return RET   full or hdrs;  -V ENVID: the DSN envelope id\n"
"  -X, --logfile FILE     append a line per message (msmtp's format; - is stdout)\n"
"  -B8BITMIME | -B7BIT    the body type (8-bit goes with BODY=8BITMIME when offered)\n"
"  -v, -d, --debug        print the SMTP conversation on standard error (no secrets)\n"
"  -P, --pretend          print the settings that would be used, and exit\n"
"  -S, --serverinfo       connect and print what the server offers\n"
"  --subject T --body T --attach FILE   build the message instead of reading it\n"
"  --version, --help\n"
"  Accepted and ignored (sendmail's): -i -oi -oem -oee -odi -odb -om -m -n -G -U\n"
"  -bm -L TAG -O OPT -h N -A X -o X;  -bp and -q: there is no queue.\n"
"\n"
"Every configuration key is an option too, --key=value (- or _ alike);\n"
"[=...]: on when given alone. --eval=CMD: CMD's first output line is one.\n");
    {   /* the keys this program uses, from smtp.h's table */
        const smtp_config_key *t;
        size_t i, nk, col = 0;
        for (t = smtp_config_keys(&nk), i = 0; i < nk; i++) {
            char o[64];
            int n;
            size_t j;
            keyspec ks;
            if (!find_key(t[i].name, &ks) || ks.who == K_NOTED || ks.who == K_REFUSED || ks.who == K_EVAL) continue;
            n = snprintf(o, sizeof o, "--%s%s", ks.name, ks.bare ? "[=...]" : "");
            for (j = 2; o[j]; j++) if (o[j] == '_') o[j] = '-';
            if (col + (size_t)n + 1 > 78) { fputc('\n', f); col = 0; }
            fprintf(f, " %s", o);
            col += (size_t)n + 1;
        }
        fputc('\n', f);
    }
    fprintf(f,
"e.g. --security=none --host 127.0.0.1 --port 2525\n"
"\n"
"All or nothing: if any recipient is refused, nothing is sent.\n"
"Exit status (sysexits.h): 0 sent; 64 bad usage; 65 bad message data (or\n"
"8-bit to a server without 8BITMIME); 67 unqualified recipient without alias;\n"
"68 unknown host; 69 refused (5xx); 74 input error; 75 try again later (4xx,\n"
"timeouts, connection lost); 76 protocol error; 77 login refused; 78 bad\n"
"configuration.\n");
}

static void add_kv(kv **t, size_t *n, const char *k, const char *v)
{
    *t = (kv *)xrealloc(*t, (*n + 1) * sizeof **t);
    (*t)[*n].key = xstrdup(k);
    (*t)[*n].val = xstrdup(v);
    (*n)++;
}

/* One long option: "name" (without --), its value or NULL. Returns 0, or
   an exit code. *consumed: the next argument was taken as the value.
   depth: 1 for a line that --eval's command printed. */
static int long_option(opts *o, const char *arg, const char *next, int *consumed, int depth)
{
    char key[64];
    const char *eq = strchr(arg, '='), *val = NULL, *why;
    size_t k = eq ? (size_t)(eq - arg) : strlen(arg), j;
    keyspec spec_, *spec;
    int takes_value;
    *consumed = 0;
    if (k >= sizeof key || k == 0) { fprintf(stderr, "smtp-send: unknown option --%s (see --help)\n", arg); return EX_USAGE_; }
    memcpy(key, arg, k); key[k] = 0;
    for (j = 0; j < k; j++) if (key[j] == '-') key[j] = '_';
    /* options without a value */
    if (!strcmp(key, "help")) { o->help = 1; return 0; }
    if (!strcmp(key, "version")) { o->version = 1; return 0; }
    if (!strcmp(key, "pretend")) { o->pretend = 1; return 0; }
    if (!strcmp(key, "debug")) { o->verbose = 1; return 0; }
    if (!strcmp(key, "serverinfo")) { o->serverinfo = 1; return 0; }
    if (!strcmp(key, "read_recipients")) { o->read_rcpts = 1; return 0; }
    if (!strcmp(key, "read_envelope_from")) { o->read_env_from = 1; return 0; }
    spec = find_key(key, &spec_) ? &spec_ : NULL;
    takes_value = spec || !strcmp(key, "file") || !strcmp(key, "account") || !strcmp(key, "url") ||
                  !strcmp(key, "subject") || !strcmp(key, "body") || !strcmp(key, "attach");
    if (!takes_value) { fprintf(stderr, "smtp-send: unknown option --%.*s (see --help)\n", (int)k, arg); return EX_USAGE_; }
    if (eq) val = eq + 1;
    else if (spec && spec->bare) val = "on";
    else if (next) { val = next; *consumed = 1; }
    else { fprintf(stderr, "smtp-send: --%s needs a value\n", arg); return EX_USAGE_; }
    if (!strcmp(key, "file")) o->conf = val;
    else if (!strcmp(key, "account")) o->account = val;
    else if (!strcmp(key, "url")) o->url = val;
    else if (!strcmp(key, "subject")) o->subject = val;
    else if (!strcmp(key, "body")) o->body = val;
    else if (!strcmp(key, "attach")) {
        if (o->nattach == 64) { fprintf(stderr, "smtp-send: at most 64 attachments\n"); return EX_USAGE_; }
        o->attach[o->nattach++] = val;
    }
    else if (!strcmp(key, "from")) o->cmd_from = val;
    else if (spec->who == K_LIB) {
        if (!strcmp(key, "host")) o->host_mode = 1;
        add_kv(&o->lib, &o->nlib, key, val);
    }
    else if (spec->who == K_OWN) add_kv(&o->own, &o->nown, key, val);
    else if (spec->who == K_REFUSED) {
        if ((why = refused_why(key, val)) != NULL) { fprintf(stderr, "smtp-send: --%.*s=%s: %s\n", (int)k, arg, val, why); return EX_USAGE_; }
    }
    else if (spec->who == K_EVAL) {
        /* as the key eval in a file: the command's first output line is a line
           "key value", here applied as --key=value */
        char why_[300], *line, *kv_;
        const char *lk, *lv;
        int status, c2, e, known;
        if (depth) { fprintf(stderr, "smtp-send: --eval: a command printed another eval line\n"); return EX_USAGE_; }
        if (!*val) { fprintf(stderr, "smtp-send: --eval needs a command\n"); return EX_USAGE_; }
        if (!(line = first_line_of(val, &status, why_, sizeof why_))) { fprintf(stderr, "smtp-send: --eval: %s\n", why_); return EX_USAGE_; }
        if (rc_split(line, &lk, &lv) != 0) { fprintf(stderr, "smtp-send: --eval: '%s' printed an unterminated quote\n", val); return EX_USAGE_; }
        if (!*lk || *lk == '#') return 0;   /* an empty line or a comment: nothing */
        if (!strcmp(lk, "account") || !strcmp(lk, "defaults")) {
            fprintf(stderr, "smtp-send: --eval: '%s' printed an %s line, which belongs in a file\n", val, lk);
            return EX_USAGE_;
        }
        known = find_key(lk, &spec_);
        kv_ = xprintf("%s=%s", lk, lv);   /* kept: options point into it */
        memset(line, 0, strlen(line)); free(line);   /* it may hold a password */
        e = long_option(o, kv_, NULL, &c2, 1);
        if (e && !known) fprintf(stderr, "smtp-send: (--eval: '%s' printed a line whose key is unknown)\n", val);
        return e;
    }
    /* K_NOTED: accepted, nothing to do */
    return 0;
}

/* The sendmail and msmtp command line (GNU getopt style: options and
   recipients in any order, flags may be grouped, "--" ends the options). */
static int parse_args(opts *o, int argc, char **argv, int *early_exit)
{
    int i, only_rcpts = 0;
    *early_exit = -1;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_rcpts || a[0] != '-' || !a[1]) { list_push(&o->rcpts, xstrdup(a)); continue; }
        if (!strcmp(a, "--")) { only_rcpts = 1; continue; }
        if (a[1] == '-') {
            int consumed, e = long_option(o, a + 2, i + 1 < argc ? argv[i + 1] : NULL, &consumed, 0);
            if (e) return e;
            i += consumed;
            continue;
        }
        {
            const char *p;
            for (p = a + 1; *p; p++) {
                char c = *p;
                const char *val = NULL;
                if (strchr("frFCaXLOhVNRBobAe", c)) {   /* these take a value: the rest, or the next argument */
                    if (p[1]) val = p + 1;
                    else if (i + 1 < argc) val = argv[++i];
                    else if (c == 'o' || c == 'b') val = "";
                    else { fprintf(stderr, "smtp-send: option -%c needs a value\n", c); return EX_USAGE_; }
                }
                switch (c) {
                case 't': o->read_rcpts = 1; break;
                case 'v': case 'd': o->verbose = 1; break;
                case 'P': o->pretend = 1; break;
                case 'S': o->serverinfo = 1; break;
                case 'i': case 'm': case 'n': case 'G': case 'U': case 'I': break;   /* sendmail's; nothing to do */
                case 'q':   /* queue runs: there is no queue */
                    fprintf(stderr, "smtp-send: there is no queue: every message is sent at once\n");
                    *early_exit = EX_OK_;
                    return 0;
                case 'f': case 'r': o->cmd_from = val; break;
                case 'F': o->full_name = val; break;
                case 'C': o->conf = val; break;
                case 'a': o->account = val; break;
                case 'X': add_kv(&o->own, &o->nown, "logfile", val); break;
                case 'N': add_kv(&o->own, &o->nown, "dsn_notify", val); break;
                case 'R': add_kv(&o->own, &o->nown, "dsn_return", val); break;
                case 'V': o->envid = val; break;
                case 'B':
                    if (!strcasecmp(val, "7BIT")) o->b7bit = 1;
                    else if (!strcasecmp(val, "8BITMIME")) o->b7bit = 0;
                    else { fprintf(stderr, "smtp-send: -B%s: the body type is 7BIT or 8BITMIME\n", val); return EX_USAGE_; }
                    break;
                case 'o':   /* -oi (same as -i), -oem, -oee, -odi, -odb, -om, ...: sendmail's, nothing to do */
                case 'L': case 'O': case 'h': case 'A': case 'e':
                    break;
                case 'b':
                    if (!strcmp(val, "m") || !*val) break;
                    if (!strcmp(val, "p")) { puts("Mail queue is empty"); *early_exit = EX_OK_; return 0; }
                    if (!strcmp(val, "i")) { *early_exit = EX_OK_; return 0; }   /* newaliases: the aliases file is read as it is */
                    fprintf(stderr, "smtp-send: -b%s: only -bm (read a message from standard input) is supported\n", val);
                    return EX_USAGE_;
                default:
                    fprintf(stderr, "smtp-send: unknown option -%c (in %s; see --help)\n", c, a);
                    return EX_USAGE_;
                }
                if (val) break;   /* the value took the rest of this argument */
            }
        }
    }
    return 0;
}

/* ---- RFC 5322 address lists --------------------------------------------
   address-list of mailboxes and groups; comments (nested) and folding
   skipped; quoted strings and domain literals kept whole. Each addr-spec
   found is added to out as written (no length or count limit). */

typedef struct tok { int kind; const char *p; size_t n; } tok;   /* kind: 'a' word/atom, 'q' quoted, 'd' [literal], or the special */

static size_t next_tok(const char *v, size_t n, size_t i, tok *t)
{
    for (;;) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == '\r' || v[i] == '\n')) i++;
        if (i < n && v[i] == '(') {   /* a comment, nested, with quoted pairs */
            int depth = 0;
            for (; i < n; i++) {
                if (v[i] == '\\') { i++; continue; }
                if (v[i] == '(') depth++;
                else if (v[i] == ')' && --depth == 0) { i++; break; }
            }
            continue;
        }
        break;
    }
    if (i >= n) { t->kind = 0; return i; }
    t->p = v + i;
    if (v[i] == '"') {
        size_t b = i++;
        for (; i < n && v[i] != '"'; i++) if (v[i] == '\\') i++;
        if (i < n) i++;
        if (i > n) i = n;
        t->kind = 'q'; t->n = i - b;
        return i;
    }
    if (v[i] == '[') {
        size_t b = i;
        for (; i < n && v[i] != ']'; i++) if (v[i] == '\\') i++;
        if (i < n) i++;
        if (i > n) i = n;
        t->kind = 'd'; t->n = i - b;
        return i;
    }
    if (strchr("<>:;,@", v[i])) { t->kind = v[i]; t->n = 1; return i + 1; }
    {
        size_t b = i;
        while (i < n && !strchr(" \t\r\n()\"[<>:;,@", v[i])) i++;
        t->kind = 'a'; t->n = i - b;
        return i;
    }
}

/* Adds the addresses of one header value to out; returns how many. */
static size_t parse_address_list(const char *v, size_t n, strlist *out)
{
    size_t i = 0, found = 0;
    buf cur = {0}, angle = {0};
    int in_angle = 0, have_angle = 0, in_group = 0, at_seen = 0;
    tok t;
    for (;;) {
        i = next_tok(v, n, i, &t);
        if (t.kind == 0 || t.kind == ',' || (t.kind == ';' && !in_angle)) {
            /* the end of one mailbox: the angle address, else the words seen */
            const char *a = have_angle ? angle.p : cur.p;
            size_t al = have_angle ? angle.len : cur.len;
            if (in_angle && t.kind == ',') { buf_add(&angle, ",", 1); continue; }   /* obs-route "<@a,@b:x@y>" */
            if (a && al) {
                const char *colon = have_angle && a[0] == '@' ? (const char *)memchr(a, ':', al) : NULL;   /* drop a source route */
                if (colon) { al -= (size_t)(colon + 1 - a); a = colon + 1; }
                if (al) { list_push(out, xstrndup(a, al)); found++; }
            }
            cur.len = angle.len = 0; have_angle = in_angle = at_seen = 0;
            if (t.kind == ';') in_group = 0;
            if (t.kind == 0) break;
            continue;
        }
        if (in_angle) {
            if (t.kind == '>') { in_angle = 0; continue; }
            if (t.kind == '<') continue;
            buf_add(&angle, t.p, t.n);
            continue;
        }
        switch (t.kind) {
        case '<': in_angle = 1; have_angle = 1; angle.len = 0; break;
        case '>': break;
        case ':':   /* a group's display name ends here (unless inside an addr-spec's words) */
            if (!at_seen && !in_group) { in_group = 1; cur.len = 0; }
            else buf_add(&cur, ":", 1);
            break;
        case '@': at_seen = 1; buf_add(&cur, "@", 1); break;
        default:
            /* words of a display name or of an addr-spec: an addr-spec has no
               space between its words, so a space here means a phrase
               (display name) unless the words around it are joined by '.' or '@' */
            if (cur.len && t.p > v && (t.p[-1] == ' ' || t.p[-1] == '\t' || t.p[-1] == '\n' || t.p[-1] == ')') &&
                cur.p[cur.len - 1] != '@' && cur.p[cur.len - 1] != '.' && t.p[0] != '.' && !at_seen)
                cur.len = 0;   /* "John Smith" style words without <>: keep only the last word run */
            buf_add(&cur, t.p, t.n);
        }
    }
    free(cur.p);
    free(angle.p);
    return found;
}

/* ---- the header block --------------------------------------------------- */

static unsigned char ibuf[1 << 16];   /* standard input, read in pieces */
static size_t ipos, ilen;
static int in_eof, in_err;
static unsigned long long in_total;

static int in_fill(void)
{
    ssize_t k;
    if (in_eof) return 0;
    ipos = ilen = 0;
    do k = read(0, ibuf, sizeof ibuf); while (k < 0 && errno == EINTR);
    if (k < 0) { in_err = errno; in_eof = 1; return 0; }
    if (k == 0) { in_eof = 1; return 0; }
    ilen = (size_t)k;
    in_total += (unsigned long long)k;
    return 1;
}

static int in_peek(void) { if (ipos == ilen && !in_fill()) return -1; return ibuf[ipos]; }
static int in_get(void) { if (ipos == ilen && !in_fill()) return -1; return ibuf[ipos++]; }

typedef struct field { size_t off, len, name_len; } field;   /* a header field in hdr: its lines, CRLF included */

typedef struct message {
    buf hdr;            /* the header block as read, without the empty line */
    buf sep;            /* the empty line as read ("\n", "\r\n"), or "" */
    buf body_start;     /* the first body line when the headers ended without an empty line */
    field *f; size_t nf;
    int lf_only;        /* the headers end lines with LF alone (for the lines added) */
} message;

static int is_ftext(int c) { return c > 32 && c < 127 && c != ':'; }

/* Reads the header block from standard input: up to the empty line, the
   end of input, or a line that cannot be a header (which then starts the
   body). A leading mbox "From " line is dropped. */
static void read_headers(message *m)
{
    int first = 1, c;
    for (;;) {
        size_t start = m->hdr.len, k;
        c = in_peek();
        if (c < 0) break;
        if (c == '\n') { in_get(); buf_add(&m->sep, "\n", 1); break; }
        if (c == '\r') {
            in_get();
            if (in_peek() == '\n') { in_get(); buf_add(&m->sep, "\r\n", 2); break; }
            buf_add(&m->body_start, "\r", 1);   /* a lone CR: not a header */
            break;
        }
        if ((c == ' ' || c == '\t') && m->nf) {   /* a continuation line */
            while ((c = in_get()) >= 0) { char ch = (char)c; buf_add(&m->hdr, &ch, 1); if (c == '\n') break; }
            m->f[m->nf - 1].len = m->hdr.len - m->f[m->nf - 1].off;
            continue;
        }
        /* field name, optional blanks (obs-syntax), colon */
        while ((c = in_peek()) >= 0 && is_ftext(c)) { char ch = (char)c; in_get(); buf_add(&m->hdr, &ch, 1); }
        k = m->hdr.len - start;
        while ((c = in_peek()) == ' ' || c == '\t') { char ch = (char)c; in_get(); buf_add(&m->hdr, &ch, 1); }
        if (c == ':' && k > 0) {
            while ((c = in_get()) >= 0) { char ch = (char)c; buf_add(&m->hdr, &ch, 1); if (c == '\n') break; }
            if (m->nf % 64 == 0) m->f = (field *)xrealloc(m->f, (m->nf + 64) * sizeof *m->f);
            m->f[m->nf].off = start; m->f[m->nf].len = m->hdr.len - start; m->f[m->nf].name_len = k;
            m->nf++;
            first = 0;
            continue;
        }
        if (first && k == 4 && !memcmp(m->hdr.p + start, "From", 4) && (c == ' ' || c == '\t' || m->hdr.len > start + 4)) {
            /* mbox "From sender date" line: not part of the message */
            while ((c = in_get()) >= 0 && c != '\n') {}
            m->hdr.len = start;
            first = 0;
            continue;
        }
        /* not a header: these bytes begin the body */
        buf_add(&m->body_start, m->hdr.p + start, m->hdr.len - start);
        m->hdr.len = start;
        break;
    }
    if (m->hdr.p) m->hdr.p[m->hdr.len] = 0;
    {   /* line ends of the block: CRLF when the first line has CRLF */
        const char *nl = m->hdr.len ? (const char *)memchr(m->hdr.p, '\n', m->hdr.len) : NULL;
        m->lf_only = !(nl && nl > m->hdr.p && nl[-1] == '\r');
    }
}

static int field_is(const message *m, size_t i, const char *name)
{
    size_t n = strlen(name);
    return m->f[i].name_len == n && !strncasecmp(m->hdr.p + m->f[i].off, name, n);
}

/* The value of field i (after the colon, folding kept). */
static const char *field_value(const message *m, size_t i, size_t *n)
{
    const char *p = m->hdr.p + m->f[i].off, *c = (const char *)memchr(p, ':', m->f[i].len);
    *n = m->f[i].len - (size_t)(c + 1 - p);
    return c + 1;
}

/* ---- aliases (msmtp's format: "name: address, name2, ...", # comments,
   "default:" for every name without its own line) ----------------------- */

typedef struct alias { char *name; strlist to; } alias;

static int aliases_load(const char *path, alias **out, size_t *n, char *err, size_t errn)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t k;
    int lnum = 0;
    *out = NULL; *n = 0;
    if (!f) { snprintf(err, errn, "%s: %s", path, strerror(errno)); return -1; }
    while ((k = getline(&line, &cap, f)) >= 0) {
        char *hash = strchr(line, '#'), *colon, *name, *e, *p;
        alias a;
        lnum++;
        if (hash) *hash = 0;
        for (p = line; *p == ' ' || *p == '\t'; p++) {}
        if (!*p || *p == '\n' || *p == '\r') continue;
        colon = strchr(p, ':');
        if (!colon || strchr(colon + 1, ':')) {
            snprintf(err, errn, "%s: line %d: a single ':' is expected", path, lnum);
            fclose(f); free(line); return -1;
        }
        *colon = 0;
        name = p;
        for (e = colon; e > name && isspace((unsigned char)e[-1]); e--) {}
        *e = 0;
        if (!*name || strchr(name, '@')) {
            snprintf(err, errn, "%s: line %d: invalid alias '%s'", path, lnum, name);
            fclose(f); free(line); return -1;
        }
        memset(&a, 0, sizeof a);
        a.name = xstrdup(name);
        for (p = colon + 1; *p;) {
            char *comma = strchr(p, ','), *b, *en;
            if (comma) *comma = 0;
            for (b = p; isspace((unsigned char)*b); b++) {}
            for (en = b + strlen(b); en > b && isspace((unsigned char)en[-1]); en--) {}
            if (en > b) list_push(&a.to, xstrndup(b, (size_t)(en - b)));
            if (!comma) break;
            p = comma + 1;
        }
        *out = (alias *)xrealloc(*out, (*n + 1) * sizeof **out);
        (*out)[(*n)++] = a;
    }
    free(line);
    fclose(f);
    return 0;
}

static void aliases_free(alias *a, size_t n)
{
    size_t i, j;
    for (i = 0; i < n; i++) {
        for (j = 0; j < a[i].to.n; j++) free(a[i].to.v[j]);
        free(a[i].to.v); free(a[i].name);
    }
    free(a);
}

static const alias *alias_find(const alias *a, size_t n, const char *name)
{
    size_t i;
    for (i = 0; i < n; i++) if (!strcmp(a[i].name, name)) return &a[i];
    for (i = 0; i < n; i++) if (!strcmp(a[i].name, "default")) return &a[i];
    return NULL;
}

static int alias_expand(const alias *a, size_t n, const char *name, strlist *out, int depth)
{
    const alias *e;
    size_t i;
    if (depth > 16) return -1;
    if (!(e = alias_find(a, n, name))) { list_add_unique(out, xstrdup(name)); return 0; }
    for (i = 0; i < e->to.n; i++) {
        const char *t = e->to.v[i];
        if (strchr(t, '@') || !strcmp(t, name)) list_add_unique(out, xstrdup(t));
        else if (alias_expand(a, n, t, out, depth + 1) != 0) return -1;
    }
    return 0;
}

/* ---- settings in effect -------------------------------------------------- */

typedef struct run {
    opts o;
    smtp_settings st;
    rcfile sysf, userf;
    const rcfile *used;           /* the file the account came from, or NULL */
    int acc;                      /* its index there */
    const char *account_name;
    char *sysconf_path;
    /* resolved */
    char *from;                   /* envelope sender */
    char *header_from;            /* the From header's address, or NULL */
    strlist rcpts;
    int set_from, set_date, set_msgid, remove_bcc, undisclosed, allow_from_override;   /* 0 off, 1 on, 2 auto */
    const char *logfile, *logfile_time_format, *syslog_facility, *aliases, *dsn_notify, *dsn_return, *full_name;
    char *helo_expanded, *ca_file, *cert_file, *key_file;
    char *pw;                     /* a password this program found (wiped at exit) */
    char *pw_from;                /* the netrc file it came from, or NULL */
    /* outcome, for the log */
    int tls_used, auth_used;
    long long mailsize;
    char smtpmsg[1200];
    int smtpstatus;
    char errmsg[700];
} run;

/* The raw value of an account key from the files (or NULL). */
static const char *file_value(const run *r, const char *key)
{
#if SMTP_SEND_HAVE_SETTINGS_GET
    if (r->used || r->o.url) return smtp_settings_get(&r->st, key);
    return NULL;
#else
    if (!r->used) return NULL;
    return rc_get_acc(r->used, r->acc, key, 0, 1);
#endif
}

/* A key of ours: the command line, else the file, else NULL. */
static const char *own_value(const run *r, const char *key)
{
    size_t i;
    const char *v = NULL;
    for (i = 0; i < r->o.nown; i++) if (!strcmp(r->o.own[i].key, key)) v = r->o.own[i].val;
    if (v) return v;
    return file_value(r, key);
}

/* %U (user), %H (host name), %C (canonical host name), %M (/etc/mailname),
   %F (the From header's address) in from and domain, as msmtp expands them. */
static char *expand_percent(const char *in, int allow_U, const char *header_from, char *err, size_t errn)
{
    buf b = {0};
    const char *p;
    for (p = in; *p; p++) {
        if (*p != '%' || !p[1] || !strchr(allow_U ? "UHCMF" : "HCM", p[1])) { buf_add(&b, p, 1); continue; }
        p++;
        if (*p == 'U') {
            struct passwd *pw = getpwuid(geteuid());
            const char *u = pw ? pw->pw_name : getenv("USER");
            buf_str(&b, u ? u : "unknown");
        } else if (*p == 'H' || *p == 'C') {
            char h[256] = "";
            gethostname(h, sizeof h - 1);
            h[sizeof h - 1] = 0;
            if (*p == 'C') {
                struct addrinfo hints, *ai = NULL;
                memset(&hints, 0, sizeof hints);
                hints.ai_flags = AI_CANONNAME;
                if (getaddrinfo(h, NULL, &hints, &ai) == 0 && ai && ai->ai_canonname) {
                    buf_str(&b, ai->ai_canonname);
                    freeaddrinfo(ai);
                    continue;
                }
                if (ai) freeaddrinfo(ai);
            }
            buf_str(&b, h);
        } else if (*p == 'M') {
            char line[256] = "";
            char *path = xprintf("%s/mailname", SMTP_SEND_SYSCONFDIR);
            FILE *f = fopen(path, "r");
            if (!f || !fgets(line, sizeof line, f) || !(line[strcspn(line, "\r\n")] = 0, line[0])) {
                snprintf(err, errn, "%%M: cannot read %s", path);
                if (f) fclose(f);
                free(path); free(b.p);
                return NULL;
            }
            fclose(f); free(path);
            buf_str(&b, line);
        } else if (*p == 'F') buf_str(&b, header_from ? header_from : "");
    }
    buf_add(&b, "", 0);
    return b.p;
}

/* ---- exit codes ----------------------------------------------------------- */

static int exit_code(smtp_result r, const smtp_session *s)
{
    int code = s ? smtp_last_reply(s)->code : 0;
    switch (r) {
    case SMTP_OK: return EX_OK_;
    case SMTP_PARTIAL: return code / 100 == 4 ? EX_TEMPFAIL_ : EX_UNAVAILABLE_;
    case SMTP_ERR_CONFIG: return EX_CONFIG_;
    case SMTP_ERR_PARAM: return EX_DATAERR_;
    case SMTP_ERR_UNSUPPORTED: return EX_DATAERR_;
    case SMTP_ERR_AUTH:   /* a refused login; a temporary AUTH failure (454, 4xx) or 538 is for later */
        return code / 100 == 4 || code == 538 ? EX_TEMPFAIL_ : EX_NOPERM_;
    case SMTP_ERR_AUTH_UNAVAILABLE:   /* no login was attempted */
        return code / 100 == 4 || code == 538 ? EX_TEMPFAIL_ : EX_UNAVAILABLE_;
    case SMTP_ERR_RESOLVE: return EX_NOHOST_;
    case SMTP_ERR_TIMEOUT: case SMTP_ERR_CONNECT: case SMTP_ERR_IO: case SMTP_ERR_CLOSED: return EX_TEMPFAIL_;
    case SMTP_ERR_PROTOCOL: return code / 100 == 4 ? EX_TEMPFAIL_ : EX_PROTOCOL_;
    case SMTP_ERR_NOMEM: return EX_OSERR_;
    case SMTP_ERR_REPLY: case SMTP_ERR_TOO_LONG: case SMTP_ERR_NO_STARTTLS: case SMTP_ERR_TLS: case SMTP_ERR_CERT:
    case SMTP_ERR_PROXY:
    default: return code / 100 == 4 ? EX_TEMPFAIL_ : EX_UNAVAILABLE_;
    }
}

/* ---- logging in msmtp's format ------------------------------------------ */

static void sanitize(char *p) { for (; *p; p++) if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\'') *p = '?'; }

static void log_outcome(run *r, int code)
{
    buf b = {0};
    size_t i;
    const char *host = r->st.cfg.host ? r->st.cfg.host : "";
    if (!r->logfile && !r->syslog_facility) return;
    buf_str(&b, "host="); buf_str(&b, host);
    buf_str(&b, r->tls_used ? " tls=on" : " tls=off");
    buf_str(&b, r->auth_used ? " auth=on " : " auth=off ");
    if (r->auth_used && r->st.cfg.username) { buf_str(&b, "user="); buf_str(&b, r->st.cfg.username); buf_str(&b, " "); }
    buf_str(&b, "from="); buf_str(&b, r->from ? r->from : "");
    buf_str(&b, " recipients=");
    for (i = 0; i < r->rcpts.n; i++) { if (i) buf_str(&b, ","); buf_str(&b, r->rcpts.v[i]); }
    buf_str(&b, " ");
    if (code == EX_OK_) { char t[32]; snprintf(t, sizeof t, "mailsize=%lld ", r->mailsize); buf_str(&b, t); }
    if (r->smtpstatus) {
        char t[32];
        snprintf(t, sizeof t, "smtpstatus=%d smtpmsg='", r->smtpstatus);
        buf_str(&b, t); buf_str(&b, r->smtpmsg); buf_str(&b, "' ");
    }
    if (code != EX_OK_ && r->errmsg[0]) { sanitize(r->errmsg); buf_str(&b, "errormsg='"); buf_str(&b, r->errmsg); buf_str(&b, "' "); }
    buf_str(&b, "exitcode="); buf_str(&b, exit_name(code));
    if (r->logfile) {
        char ts[128] = "";
        FILE *f;
        if (!r->logfile_time_format || strcmp(r->logfile_time_format, "none")) {
            time_t t = time(NULL);
            struct tm tm;
            localtime_r(&t, &tm);
            strftime(ts, sizeof ts, r->logfile_time_format ? r->logfile_time_format : "%b %d %H:%M:%S", &tm);
        }
        f = strcmp(r->logfile, "-") ? fopen(r->logfile, "a") : stdout;
        if (!f) fprintf(stderr, "smtp-send: cannot log to %s: %s\nsmtp-send: log info was: %s\n", r->logfile, strerror(errno), b.p);
        else {
            struct flock fl;
            memset(&fl, 0, sizeof fl);
            fl.l_type = F_WRLCK; fl.l_whence = SEEK_SET;
            if (f != stdout) (void)fcntl(fileno(f), F_SETLKW, &fl);
            fprintf(f, "%s%s%s\n", ts, ts[0] ? " " : "", b.p);
            if (f != stdout) fclose(f); else fflush(f);
        }
    }
    if (r->syslog_facility) {
        static const struct { const char *name; int fac; } fac[] = { { "LOG_MAIL", LOG_MAIL }, { "LOG_USER", LOG_USER },
            { "LOG_LOCAL0", LOG_LOCAL0 }, { "LOG_LOCAL1", LOG_LOCAL1 }, { "LOG_LOCAL2", LOG_LOCAL2 },
            { "LOG_LOCAL3", LOG_LOCAL3 }, { "LOG_LOCAL4", LOG_LOCAL4 }, { "LOG_LOCAL5", LOG_LOCAL5 },
            { "LOG_LOCAL6", LOG_LOCAL6 }, { "LOG_LOCAL7", LOG_LOCAL7 } };
        int facility = LOG_MAIL;
        for (i = 0; i < sizeof fac / sizeof *fac; i++) if (!strcmp(fac[i].name, r->syslog_facility)) facility = fac[i].fac;
        openlog("smtp-send", LOG_PID, facility);
        syslog(code == EX_OK_ ? LOG_INFO : LOG_ERR, "%s", b.p);
        closelog();
    }
    free(b.p);
}

/* Keeps the server's last reply for the log ("250 2.0.0 text\n..."). */
static void remember_reply(run *r, const smtp_session *s)
{
    const smtp_reply *rp = smtp_last_reply(s);
    const char *t;
    size_t o = 0;
    if (!rp || !rp->code) return;
    r->smtpstatus = rp->code;
    r->smtpmsg[0] = 0;
    for (t = rp->text ? rp->text : ""; ; ) {
        const char *nl = strchr(t, '\n');
        int n = nl ? (int)(nl - t) : (int)strlen(t);
        int k = snprintf(r->smtpmsg + o, sizeof r->smtpmsg - o, "%s%d%s%s %.*s", o ? "\\n" : "", rp->code,
                         rp->status[0] ? " " : "", rp->status, n, t);
        if (k < 0 || (size_t)k >= sizeof r->smtpmsg - o) break;
        o += (size_t)k;
        if (!nl) break;
        t = nl + 1;
    }
    sanitize(r->smtpmsg);
}

/* ---- trace and progress ------------------------------------------------- */

static buf info_lines;   /* --serverinfo: the reply lines to the last EHLO */
static char *greeting;   /* --serverinfo: the first line of the last greeting, without its code */
static int greeting_next = 1;   /* the next 220 is a greeting (not the reply to STARTTLS) */
static void trace(void *user, smtp_trace_dir dir, const char *p, size_t n)
{
    (void)user;
    if (dir == SMTP_TRACE_BODY) return;
    fprintf(stderr, "%s%.*s\n", dir == SMTP_TRACE_OUT ? "--> " : dir == SMTP_TRACE_IN ? "<-- " : "*** ", (int)n, p);
}
static void capture(void *user, smtp_trace_dir dir, const char *p, size_t n)
{
    if ((intptr_t)user) trace(NULL, dir, p, n);
    if (dir == SMTP_TRACE_IN) {
        if (greeting_next && n >= 3 && !memcmp(p, "220", 3)) {
            free(greeting);
            greeting = xstrndup(n > 4 ? p + 4 : "", n > 4 ? n - 4 : 0);
            greeting_next = 0;
        }
        buf_add(&info_lines, p, n); buf_add(&info_lines, "\n", 1);
    }
    if (dir == SMTP_TRACE_OUT) {
        greeting_next = !(n >= 8 && !strncasecmp(p, "STARTTLS", 8));   /* another connection greets after any other */
        if ((n >= 4 && !strncasecmp(p, "EHLO", 4)) || !greeting_next) info_lines.len = 0;   /* keep the last EHLO's */
    }
}

static unsigned long long total_size;   /* known when standard input is a file */
static int progress_shown;
static int progress(void *user, unsigned long long sent)
{
    int i, w = 40, done = total_size ? (int)(sent * (unsigned long long)w / total_size) : 0;
    (void)user;
    if (done > w) done = w;
    fputc('\r', stderr);
    for (i = 0; i < w; i++) fputc(i < done ? '#' : '.', stderr);
    if (total_size) fprintf(stderr, " %3d%% %llu KiB", (int)(sent * 100 / total_size > 100 ? 100 : sent * 100 / total_size), sent / 1024);
    else fprintf(stderr, " %llu KiB", sent / 1024);
    progress_shown = 1;
    return 0;
}

/* ---- the message on the wire ---------------------------------------------- */

typedef struct sender {
    smtp_session *s;
    int spool_fd;                 /* -1, or a file that gets a copy for later transactions */
    long long size;               /* msmtp's mailsize: line ends count 1 */
    int last_nl, prev_cr;
    int measuring;                /* count what would go out (wire), send nothing */
    unsigned long long wire;      /* RFC 1870's size: every line end CRLF, dots not doubled */
    int wire_bol, wire_cr;
} sender;

/* Counts bytes as smtp_data_write sends them: CR LF, a bare LF and a bare
   CR are each one CRLF; no dot is doubled (RFC 1870 does not count them). */
static void wire_add(sender *w, const unsigned char *c, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if (c[i] == '\r') { w->wire += 2; w->wire_cr = 1; w->wire_bol = 1; }
        else if (c[i] == '\n') { if (!w->wire_cr) { w->wire += 2; w->wire_bol = 1; } w->wire_cr = 0; }
        else { w->wire++; w->wire_cr = 0; w->wire_bol = 0; }
    }
}

static smtp_result out(sender *w, const void *p, size_t n)
{
    const unsigned char *c = (const unsigned char *)p;
    size_t i;
    smtp_result r;
    if (!n) return SMTP_OK;
    if (w->measuring) { wire_add(w, c, n); return SMTP_OK; }
    for (i = 0; i < n; i++) if (!(c[i] == '\n' && (i ? c[i - 1] == '\r' : w->prev_cr))) w->size++;
    w->prev_cr = c[n - 1] == '\r';
    w->last_nl = c[n - 1] == '\n';
    if ((r = smtp_data_write(w->s, p, n)) != SMTP_OK) return r;
    if (w->spool_fd >= 0) {
        size_t o = 0;
        while (o < n) {
            ssize_t k = write(w->spool_fd, c + o, n - o);
            if (k < 0 && errno == EINTR) continue;
            if (k <= 0) { fprintf(stderr, "smtp-send: cannot write the spool file: %s\n", strerror(errno)); return SMTP_ERR_IO; }
            o += (size_t)k;
        }
    }
    return SMTP_OK;
}

/* RFC 2047 for a display name that is not plain ASCII; quoted when it holds specials. */
static char *encode_name(const char *name)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    buf b = {0};
    size_t n = strlen(name), i;
    if (!has_8bit(name, n)) {
        if (!strpbrk(name, "()<>[]:;@\\,.\"")) return xstrdup(name);
        buf_add(&b, "\"", 1);
        for (i = 0; i < n; i++) { if (name[i] == '"' || name[i] == '\\') buf_add(&b, "\\", 1); buf_add(&b, name + i, 1); }
        buf_add(&b, "\"", 1);
        return b.p;
    }
    buf_str(&b, "=?UTF-8?B?");
    for (i = 0; i < n; i += 3) {
        const unsigned char *u = (const unsigned char *)name;
        unsigned v = (unsigned)u[i] << 16 | (i + 1 < n ? (unsigned)u[i + 1] << 8 : 0u) | (i + 2 < n ? u[i + 2] : 0u);
        char q[4];
        q[0] = b64[v >> 18]; q[1] = b64[(v >> 12) & 63];
        q[2] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        q[3] = i + 2 < n ? b64[v & 63] : '=';
        buf_add(&b, q, 4);
    }
    buf_str(&b, "?=");
    return b.p;
}

/* The lines added before the message's own headers, as msmtp adds them:
   From, To (undisclosed recipients), Date, Message-ID. */
static void build_prepend(run *r, const message *m, buf *pre)
{
    int have_from = 0, have_date = 0, have_msgid = 0;
    size_t i;
    const char *eol = m->lf_only ? "\n" : "\r\n";
    for (i = 0; i < m->nf; i++) {
        if (field_is(m, i, "From")) have_from = 1;
        else if (field_is(m, i, "Date")) have_date = 1;
        else if (field_is(m, i, "Message-ID")) have_msgid = 1;
    }
    if (r->from[0] && (r->set_from == 1 || (r->set_from == 2 && !have_from))) {   /* none for the null sender */
        if (r->full_name && *r->full_name) {
            char *n = encode_name(r->full_name);
            buf_str(pre, "From: "); buf_str(pre, n); buf_str(pre, " <"); buf_str(pre, r->from); buf_str(pre, ">");
            free(n);
        } else { buf_str(pre, "From: "); buf_str(pre, r->from); }
        buf_str(pre, eol);
    }
    if (r->undisclosed) { buf_str(pre, "To: undisclosed-recipients:;"); buf_str(pre, eol); }
    if (r->set_date == 2 && !have_date) {
        char d[64];
        time_t t = time(NULL);
        struct tm tm;
        localtime_r(&t, &tm);
        strftime(d, sizeof d, "%a, %d %b %Y %H:%M:%S %z", &tm);
        buf_str(pre, "Date: "); buf_str(pre, d); buf_str(pre, eol);
    }
    if (r->set_msgid == 2 && !have_msgid) {
        unsigned char rnd[16];
        char id[40];
        const char *dom = r->from ? strrchr(r->from, '@') : NULL;
        int fd = open("/dev/urandom", O_RDONLY), k;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        if (fd < 0 || read(fd, rnd, sizeof rnd) != (ssize_t)sizeof rnd) {   /* time and pid then */
            unsigned long long v = (unsigned long long)ts.tv_sec * 1000000007ull ^ (unsigned long long)ts.tv_nsec ^
                                   ((unsigned long long)getpid() << 32);
            for (k = 0; k < 16; k++) rnd[k] = (unsigned char)(v >> (k % 8 * 8)) ^ (unsigned char)(k * 37);
        }
        if (fd >= 0) close(fd);
        for (k = 0; k < 16; k++) snprintf(id + 2 * k, 3, "%02x", rnd[k]);
        if (r->helo_expanded && strchr(r->helo_expanded, '.') && strcmp(r->helo_expanded, "localhost")) dom = r->helo_expanded;
        else if (dom && dom[1]) dom = dom + 1;
        else dom = r->st.cfg.host ? r->st.cfg.host : "localhost";
        buf_str(pre, "Message-ID: <"); buf_str(pre, id); buf_str(pre, "@"); buf_str(pre, dom); buf_str(pre, ">"); buf_str(pre, eol);
    }
}

/* Whether field i is left out of what is sent. */
static int field_dropped(const run *r, const message *m, size_t i)
{
    if ((r->remove_bcc || r->undisclosed) && (field_is(m, i, "Bcc") || field_is(m, i, "Resent-Bcc"))) return 1;
    if (r->set_from == 1 && field_is(m, i, "From")) return 1;
    if (r->undisclosed && (field_is(m, i, "To") || field_is(m, i, "Cc"))) return 1;
    return 0;
}

/* A header field as given, but a line over 998 octets (RFC 5322 2.1.1; many
   servers refuse longer ones) is folded before its last blank within the
   limit: a line end inserted before white space, which unfolding removes. */
static smtp_result out_field(sender *w, const char *p, size_t n, int lf_only)
{
    size_t start = 0, line_start = 0, last_ws = (size_t)-1, i;
    smtp_result e;
    for (i = 0; i < n; i++) {
        if (p[i] == '\n') { line_start = i + 1; last_ws = (size_t)-1; continue; }
        if ((p[i] == ' ' || p[i] == '\t') && i > line_start) last_ws = i;
        if (i - line_start >= 998 && last_ws != (size_t)-1) {
            if ((e = out(w, p + start, last_ws - start)) != SMTP_OK) return e;
            if ((e = out(w, lf_only ? "\n" : "\r\n", lf_only ? 1 : 2)) != SMTP_OK) return e;
            start = line_start = i = last_ws;   /* the blank begins the next line */
            last_ws = (size_t)-1;
        }
    }
    return out(w, p + start, n - start);
}

/* The part of the message before what is still on standard input: added
   lines, kept headers, the empty line, the first body bytes read. */
static smtp_result send_head(run *r, sender *w, const message *m, const buf *pre)
{
    smtp_result e;
    size_t i;
    if ((e = out(w, pre->p, pre->len)) != SMTP_OK) return e;
    for (i = 0; i < m->nf; i++)
        if (!field_dropped(r, m, i) && (e = out_field(w, m->hdr.p + m->f[i].off, m->f[i].len, m->lf_only)) != SMTP_OK)
            return e;
    if (m->sep.len) { if ((e = out(w, m->sep.p, m->sep.len)) != SMTP_OK) return e; }
    else if (m->body_start.len || ipos < ilen || !in_eof) {
        /* the headers ended on a line that is not a header: an empty line first (RFC 5322 3.5) */
        int peek = m->body_start.len ? 1 : in_peek();
        if (peek >= 0 && (e = out(w, m->lf_only ? "\n" : "\r\n", m->lf_only ? 1 : 2)) != SMTP_OK) return e;
    }
    return out(w, m->body_start.p, m->body_start.len);
}

/* The whole message once: send_head, then the body read from standard
   input as it comes. */
static smtp_result send_body(run *r, sender *w, const message *m, const buf *pre)
{
    smtp_result e;
    if ((e = send_head(r, w, m, pre)) != SMTP_OK) return e;
    for (;;) {
        if (ipos < ilen) {
            if ((e = out(w, ibuf + ipos, ilen - ipos)) != SMTP_OK) return e;
            ipos = ilen;
        }
        if (!in_fill()) break;
    }
    if (in_err) {
        snprintf(r->errmsg, sizeof r->errmsg, "cannot read standard input: %s", strerror(in_err));
        fprintf(stderr, "smtp-send: %s; nothing was sent\n", r->errmsg);
        return SMTP_ERR_IO;
    }
    if (!w->last_nl && w->size) w->size++;   /* the line end added at the end */
    return SMTP_OK;
}

/* The message's size as it will go out (RFC 1870), for SIZE= on MAIL
   FROM: known before sending only when standard input is a regular file,
   whose rest is read with pread (nothing is consumed). -1 otherwise. */
static long long measure(run *r, const message *m, const buf *pre)
{
    static unsigned char chunk[65536];
    sender w;
    struct stat sb;
    off_t off;
    ssize_t k;
    if (fstat(0, &sb) != 0 || !S_ISREG(sb.st_mode) || in_err) return -1;
    memset(&w, 0, sizeof w);
    w.measuring = 1; w.wire_bol = 1;
    if (send_head(r, &w, m, pre) != SMTP_OK) return -1;
    wire_add(&w, ibuf + ipos, ilen - ipos);   /* read already, not sent yet */
    if (!in_eof) {
        if ((off = lseek(0, 0, SEEK_CUR)) < 0) return -1;
        for (;;) {
            k = pread(0, chunk, sizeof chunk, off);
            if (k < 0 && errno == EINTR) continue;
            if (k < 0) return -1;
            if (k == 0) break;
            wire_add(&w, chunk, (size_t)k);
            off += k;
        }
    }
    if (!w.wire_bol) w.wire += 2;   /* smtp_data_end ends the last line */
    return (long long)w.wire;
}

/* Replays the spooled copy for a further transaction. */
static smtp_result send_spool(sender *w, int fd)
{
    unsigned char b[65536];
    ssize_t k;
    smtp_result e;
    if (lseek(fd, 0, SEEK_SET) != 0) return SMTP_ERR_IO;
    while ((k = read(fd, b, sizeof b)) != 0) {
        if (k < 0) { if (errno == EINTR) continue; return SMTP_ERR_IO; }
        if ((e = smtp_data_write(w->s, b, (size_t)k)) != SMTP_OK) return e;
    }
    return SMTP_OK;
}

/* xtext (RFC 3461 4) for ENVID. */
static void xtext(buf *b, const char *v)
{
    for (; *v; v++) {
        unsigned char c = (unsigned char)*v;
        if (c < 33 || c > 126 || c == '+' || c == '=') { char h[4]; snprintf(h, sizeof h, "+%02X", c); buf_add(b, h, 3); }
        else buf_add(b, v, 1);
    }
}

static smtp_result rcpt(run *r, smtp_session *s, const char *addr, const char *params)
{
    (void)r;
#if SMTP_SEND_HAVE_RCPT_TO_OPTS
    if (params && *params) return smtp_rcpt_to_opts(s, addr, params);
#else
    (void)params;
#endif
    return smtp_rcpt_to(s, addr);
}

/* ---- main ------------------------------------------------------------------ */

static smtp_session session;

static int fail(run *r, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->errmsg, sizeof r->errmsg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "smtp-send: %s\n", r->errmsg);
    return code;
}

/* Loads account from f with the library: the file itself, or when it had
   eval lines its evaluated text, from a copy in a private directory that is
   removed at once. msmtp's permission rule is kept for the copy: a
   password written in the file itself (not an eval's output) needs mode
   600 on a user file. The system file is never checked (as msmtp). */
static smtp_result load_rcfile(run *r, const rcfile *f, const char *account, int system)
{
    const char *td = getenv("TMPDIR");
    char *dir, *path, *at, d[600];
    struct stat sb;
    smtp_result e;
    int fd;
    size_t n;
    if (!f->evaluated)
        return system ? smtp_config_load_system(&r->st, f->path, account) : smtp_config_load(&r->st, f->path, account);
    memset(&r->st, 0, sizeof r->st);
    if (!system && f->literal_password && stat(f->path, &sb) == 0 && (sb.st_mode & 077)) {
        snprintf(r->st.detail, sizeof r->st.detail, "%.400s: holds a password but can be read by others (mode %03o): "
                 "chmod 600 it, as msmtp requires", f->path, (unsigned)(sb.st_mode & 0777));
        return SMTP_ERR_CONFIG;
    }
    dir = xprintf("%s/smtp-send-XXXXXX", td && *td ? td : "/tmp");
    if (!mkdtemp(dir)) {
        snprintf(r->st.detail, sizeof r->st.detail, "%.300s: cannot make a private copy after eval: %s", f->path, strerror(errno));
        free(dir);
        return SMTP_ERR_CONFIG;
    }
    path = xprintf("%s/msmtprc", dir);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    n = strlen(f->evaluated);
    if (fd < 0 || write(fd, f->evaluated, n) != (ssize_t)n) {
        snprintf(r->st.detail, sizeof r->st.detail, "%.300s: cannot write a private copy after eval: %s", f->path, strerror(errno));
        e = SMTP_ERR_CONFIG;
    } else e = SMTP_OK;
    if (fd >= 0) close(fd);
    if (e == SMTP_OK) {
        e = system ? smtp_config_load_system(&r->st, path, account) : smtp_config_load(&r->st, path, account);
        if (e != SMTP_OK && (at = strstr(r->st.detail, path)) != NULL) {   /* the messages name the real file */
            snprintf(d, sizeof d, "%.*s%s%s", (int)(at - r->st.detail), r->st.detail, f->path, at + strlen(path));
            snprintf(r->st.detail, sizeof r->st.detail, "%.500s", d);
        }
    }
    unlink(path);
    rmdir(dir);
    free(path); free(dir);
    return e;
}

/* Chooses the files and the account and loads the settings. Returns 0 or an exit code. */
static int load_settings(run *r)
{
    opts *o = &r->o;
    smtp_result e;
    size_t i;
    int rk;
    const char *home = getenv("HOME");
    char *userpath;
    memset(&r->st, 0, sizeof r->st);
    if (o->url) {
        if ((e = smtp_config_from_url(&r->st, o->url)) != SMTP_OK) return fail(r, EX_CONFIG_, "%s", r->st.detail);
    } else if (!o->host_mode) {
        r->sysconf_path = xprintf("%s/msmtprc", SMTP_SEND_SYSCONFDIR);
        if (rc_read(&r->sysf, r->sysconf_path) == -2) return fail(r, EX_CONFIG_, "%s", r->sysf.err);
        if (o->conf) {
            userpath = expand_tilde(o->conf);
            if ((rk = rc_read(&r->userf, userpath)) != 0)
                return fail(r, EX_CONFIG_, "%s", rk == -2 ? r->userf.err : xprintf("%s: %s", userpath, strerror(errno)));
        } else {
            struct stat sb;
            if (!home) { struct passwd *pw = getpwuid(getuid()); home = pw ? pw->pw_dir : "/"; }
            userpath = xprintf("%s/.msmtprc", home);
            if (stat(userpath, &sb) != 0) {   /* then $XDG_CONFIG_HOME/msmtp/config (~/.config) */
                const char *x = getenv("XDG_CONFIG_HOME");
                free(userpath);
                userpath = x && *x ? xprintf("%s/msmtp/config", x) : xprintf("%s/.config/msmtp/config", home);
            }
            if (rc_read(&r->userf, userpath) == -2) return fail(r, EX_CONFIG_, "%s", r->userf.err);
        }
        free(userpath);
        /* the account: -a; else the first whose from matches -f (user file first); else "default" */
        r->account_name = o->account;
        if (!r->account_name && o->cmd_from) {
            const rcfile *fs[2];
            int k, a;
            fs[0] = &r->userf; fs[1] = &r->sysf;
            for (k = 0; k < 2 && !r->account_name; k++)
                for (a = 0; fs[k]->loaded && a < fs[k]->na && !r->account_name; a++) {
                    const char *af = rc_get_acc(fs[k], a, "from", 0, 1);
                    if (k == 1 && rc_find(&r->userf, fs[k]->a[a].name) >= 0) continue;   /* the user file's wins */
                    if (af && from_matches(o->cmd_from, af)) r->account_name = fs[k]->a[a].name;
                }
        }
        if (!r->account_name) r->account_name = "default";
        if ((r->acc = rc_find(&r->userf, r->account_name)) >= 0) r->used = &r->userf;
        else if ((r->acc = rc_find(&r->sysf, r->account_name)) >= 0) r->used = &r->sysf;
        else {
            if (r->userf.loaded && r->sysf.loaded)
                return fail(r, EX_CONFIG_, "account %s not found in %s and %s", r->account_name, r->sysf.path, r->userf.path);
            if (r->userf.loaded || r->sysf.loaded)
                return fail(r, EX_CONFIG_, "account %s not found in %s", r->account_name,
                            r->userf.loaded ? r->userf.path : r->sysf.path);
            return fail(r, EX_CONFIG_, "account %s not found: no configuration file (give -C FILE, create ~/.msmtprc, "
                        "or use --host)", r->account_name);
        }
        e = load_rcfile(r, r->used, r->account_name, r->used == &r->sysf);
        if (e != SMTP_OK) return fail(r, EX_CONFIG_, "%s", r->st.detail);
    }
    /* the command line's library keys, after the file */
    for (i = 0; i < o->nlib; i++)
        if (smtp_settings_set(&r->st, o->lib[i].key, o->lib[i].val) != SMTP_OK)
            return fail(r, EX_USAGE_, "%s", r->st.detail);
    return 0;
}

/* Our keys, with msmtp's defaults. */
static int resolve_own(run *r)
{
    const char *v;
    int b;
    r->set_from = 2; r->set_date = 2; r->set_msgid = 2; r->remove_bcc = 1; r->allow_from_override = 1;
    r->undisclosed = 0;
#define TRI(key, field, allow_on) \
    if ((v = own_value(r, key)) != NULL) { \
        if (!strcmp(v, "auto")) r->field = 2; \
        else if (yes_no(v, &b) == 0 && (b == 0 || allow_on)) r->field = b; \
        else return fail(r, EX_CONFIG_, "%s: auto%s or off (got \"%s\")", key, allow_on ? ", on" : "", v); \
    }
    TRI("set_from_header", set_from, 1)
    TRI("set_date_header", set_date, 0)
    TRI("set_msgid_header", set_msgid, 0)
#undef TRI
    if ((v = own_value(r, "add_missing_from_header")) && yes_no(v, &b) == 0) r->set_from = b ? 2 : 0;
    if ((v = own_value(r, "add_missing_date_header")) && yes_no(v, &b) == 0) r->set_date = b ? 2 : 0;
#define BOOL(key, field) \
    if ((v = own_value(r, key)) != NULL) { \
        if (yes_no(v, &b) != 0) return fail(r, EX_CONFIG_, "%s: on or off (got \"%s\")", key, v); \
        r->field = b; \
    }
    BOOL("remove_bcc_headers", remove_bcc)
    BOOL("undisclosed_recipients", undisclosed)
    BOOL("allow_from_override", allow_from_override)
#undef BOOL
    if ((v = own_value(r, "keepbcc")) && yes_no(v, &b) == 0 && b) r->remove_bcc = 0;
    {   /* keys the file may hold that cannot be honoured: refused by name, never ignored */
        size_t i;
        const char *why;
        for (i = 0; i < N_OWN_KEYS; i++)
            if (OWN_KEYS[i].who == K_REFUSED && (v = file_value(r, OWN_KEYS[i].name)) &&
                (why = refused_why(OWN_KEYS[i].name, v)))
                return fail(r, EX_CONFIG_, "%s%s%s \"%s\": %s", r->used ? r->used->path : "", r->used ? ": " : "",
                            OWN_KEYS[i].name, v, why);
    }
    if ((v = own_value(r, "logfile")) && *v) r->logfile = expand_tilde(v);
    r->logfile_time_format = own_value(r, "logfile_time_format");
    if ((v = own_value(r, "syslog")) && *v && strcmp(v, "off")) r->syslog_facility = !strcmp(v, "on") ? "LOG_MAIL" : v;
    if ((v = own_value(r, "aliases")) && *v) r->aliases = expand_tilde(v);
    if ((v = own_value(r, "dsn_notify")) && *v && strcmp(v, "off")) {
        char *u = xstrdup(v), *p;
        for (p = u; *p; p++) *p = (char)toupper((unsigned char)*p);
        for (p = strtok(u, ","); p; p = strtok(NULL, ","))
            if (strcmp(p, "NEVER") && strcmp(p, "SUCCESS") && strcmp(p, "FAILURE") && strcmp(p, "DELAY"))
                return fail(r, EX_USAGE_, "dsn_notify: never, or a list of success, failure, delay (got \"%s\")", v);
        free(u);
        u = xstrdup(v);
        for (p = u; *p; p++) *p = (char)toupper((unsigned char)*p);
        r->dsn_notify = u;
    }
    if ((v = own_value(r, "dsn_return")) && *v && strcmp(v, "off")) {
        if (!strcasecmp(v, "full")) r->dsn_return = "FULL";
        else if (!strcasecmp(v, "hdrs") || !strcasecmp(v, "headers")) r->dsn_return = "HDRS";
        else return fail(r, EX_USAGE_, "dsn_return: full or hdrs (got \"%s\")", v);
    }
    r->full_name = r->o.full_name ? r->o.full_name : own_value(r, "from_full_name");
    /* file names: ~/ expanded */
    if (r->st.cfg.ca_file && r->st.cfg.ca_file[0] == '~') r->st.cfg.ca_file = r->ca_file = expand_tilde(r->st.cfg.ca_file);
    if (r->st.cfg.tls_cert_file && r->st.cfg.tls_cert_file[0] == '~')
        r->st.cfg.tls_cert_file = r->cert_file = expand_tilde(r->st.cfg.tls_cert_file);
    if (r->st.cfg.tls_key_file && r->st.cfg.tls_key_file[0] == '~')
        r->st.cfg.tls_key_file = r->key_file = expand_tilde(r->st.cfg.tls_key_file);
    if (r->st.cfg.helo_name && strchr(r->st.cfg.helo_name, '%')) {
        char err[200];
        if (!(r->helo_expanded = expand_percent(r->st.cfg.helo_name, 0, NULL, err, sizeof err))) return fail(r, EX_CONFIG_, "domain: %s", err);
        r->st.cfg.helo_name = r->helo_expanded;
    } else if (r->st.cfg.helo_name) r->helo_expanded = xstrdup(r->st.cfg.helo_name);
    return 0;
}

/* ftp(1)'s ~/.netrc as msmtp reads it: tokens separated by white space,
   ' or " quoting, # to the end of the line; "machine M login L password
   P" entries (user = login, passwd = password; account ignored). The
   first entry whose machine is host (compared exactly, as msmtp) and whose
   login is user gives its password. As in msmtp, entries without a login
   and the "default" entry never match. "macdef" skips the rest of its line
   and the lines after it up to an empty one. NULL when the file cannot be
   read or nothing matches. */
static char *netrc_password(const char *path, const char *host, const char *user)
{
    FILE *f = fopen(path, "r");
    char *line = NULL, *res = NULL;
    size_t cap = 0;
    enum { T_NONE, T_MACHINE, T_LOGIN, T_PASSWORD, T_ACCOUNT } want = T_NONE;
    char *m = NULL, *l = NULL, *pw = NULL;
    int in_entry = 0, in_macro = 0, done = 0;
    if (!f) return NULL;
#define NETRC_END() do { \
        if (in_entry && m && l && !strcmp(m, host) && !strcmp(l, user)) { res = pw; pw = NULL; done = 1; } \
        free(m); free(l); if (pw) { memset(pw, 0, strlen(pw)); free(pw); } m = l = pw = NULL; \
    } while (0)
    while (!done && getline(&line, &cap, f) >= 0) {
        char *p = line;
        if (in_macro) { if (strspn(line, " \t\r\n") == strlen(line)) in_macro = 0; continue; }
        while (*p && !done) {
            char *word, *o, q = 0;
            while (*p && isspace((unsigned char)*p)) p++;
            if (!*p || *p == '#') break;
            word = o = p;
            for (; *p && (q || !isspace((unsigned char)*p)); p++) {
                if (q) { if (*p == q) q = 0; else *o++ = *p; }
                else if (*p == '"' || *p == '\'') q = *p;
                else *o++ = *p;
            }
            if (*p) p++;
            *o = 0;
            switch (want) {
            case T_MACHINE: NETRC_END(); in_entry = 1; m = xstrdup(word); want = T_NONE; continue;
            case T_LOGIN: if (in_entry) { free(l); l = xstrdup(word); } want = T_NONE; continue;
            case T_PASSWORD:
                if (in_entry) { if (pw) { memset(pw, 0, strlen(pw)); free(pw); } pw = xstrdup(word); }
                memset(word, 0, strlen(word));
                want = T_NONE;
                continue;
            case T_ACCOUNT: want = T_NONE; continue;
            case T_NONE: break;
            }
            if (!strcmp(word, "machine")) want = T_MACHINE;
            else if (!strcmp(word, "default")) { NETRC_END(); in_entry = 1; }   /* an entry without machine: never matches */
            else if (!strcmp(word, "login") || !strcmp(word, "user")) want = T_LOGIN;
            else if (!strcmp(word, "password") || !strcmp(word, "passwd")) want = T_PASSWORD;
            else if (!strcmp(word, "account")) want = T_ACCOUNT;
            else if (!strcmp(word, "macdef")) { in_macro = 1; break; }   /* its name, then lines up to an empty one */
        }
    }
    if (!done) NETRC_END();
#undef NETRC_END
    if (line) { memset(line, 0, cap); free(line); }
    fclose(f);
    return res;
}

/* The password when the settings give a user but none: passwordeval, else
   ~/.netrc, else SYSCONFDIR/netrc (msmtp's order; keyrings are not read). */
static int get_password(run *r)
{
    char why[300], *pw = NULL, *path;
    const char *home = getenv("HOME");
    int status;
    if (!r->st.cfg.username || r->st.cfg.password) return 0;
    if (r->st.passwordeval) {
        if (!(pw = first_line_of(r->st.passwordeval, &status, why, sizeof why)))
            return fail(r, EX_CONFIG_, "passwordeval: %s", why);
        if (status != 0 || !*pw) {
            memset(pw, 0, strlen(pw)); free(pw);
            return fail(r, EX_CONFIG_, "passwordeval: the command failed or printed nothing");
        }
        r->st.cfg.password = r->pw = pw;
        return 0;
    }
    if (!r->st.cfg.host) return 0;
    if (!home) { struct passwd *pwd = getpwuid(getuid()); home = pwd ? pwd->pw_dir : "/"; }
    path = xprintf("%s/.netrc", home);
    if (!(pw = netrc_password(path, r->st.cfg.host, r->st.cfg.username))) {
        free(path);
        path = xprintf("%s/netrc", SMTP_SEND_SYSCONFDIR);
        pw = netrc_password(path, r->st.cfg.host, r->st.cfg.username);
    }
    if (pw) {
        r->st.cfg.password = r->pw = pw;
        r->pw_from = path;
        return 0;
    }
    free(path);
    return fail(r, EX_CONFIG_, "user %s has no password for %s: set password or passwordeval, or add "
                "\"machine %s login %s password ...\" to ~/.netrc or %s/netrc", r->st.cfg.username, r->st.cfg.host,
                r->st.cfg.host, r->st.cfg.username, SMTP_SEND_SYSCONFDIR);
}

static void print_pretend(run *r)
{
    const smtp_config *c = &r->st.cfg;
    static const char *const sec[] = { "auto (TLS required, mode probed)", "none (cleartext)", "starttls",
                                       "starttls-if-available", "implicit" };
    if (r->used) printf("loaded configuration file %s\naccount = %s\n", r->used->path, r->account_name);
    else if (r->o.url) printf("settings from --url\n");
    else printf("settings from the command line (--host)\n");
    printf("host = %s\nport = %d%s\n", c->host ? c->host : "(not set)", c->port, c->port ? "" : " (from the security mode)");
    printf("security = %s\n", sec[c->security <= SMTP_SECURITY_IMPLICIT ? c->security : 0]);
    printf("from = %s\n", r->from ? r->from : (c->from ? c->from : "(not set)"));
    printf("domain = %s\n", c->helo_name ? c->helo_name : "(not set)");
    printf("user = %s\npassword = %s\n", c->username ? c->username : "(not set)",
           c->password ? "*" : r->st.passwordeval ? "(passwordeval)" : "(not set)");
    printf("passwordeval = %s\n", r->st.passwordeval ? r->st.passwordeval : "(not set)");
    printf("allow_cleartext_auth = %s\n", c->allow_cleartext_auth ? "on" : "off");
    printf("tls_trust_file = %s\ntls_fingerprint = %s\n", c->ca_file ? c->ca_file : "system",
           c->tls_fingerprint ? c->tls_fingerprint : "(not set)");
    printf("tls_certcheck = %s\n", c->tls_verify == SMTP_VERIFY_NONE ? "off" : "on");
    printf("tls_cert_file = %s\ntls_key_file = %s\n", c->tls_cert_file ? c->tls_cert_file : "(not set)",
           c->tls_key_file ? c->tls_key_file : "(not set)");
    printf("proxy_host = %s\nproxy_port = %d\n", c->proxy.host ? c->proxy.host : "(not set)", c->proxy.port);
    printf("source_ip = %s\n", c->local_address ? c->local_address : "(not set)");
    printf("timeout = %d s\n", c->timeout_ms > 0 ? c->timeout_ms / 1000 : c->timeout_ms < 0 ? 0 : 60);
    printf("aliases = %s\nlogfile = %s\nsyslog = %s\n", r->aliases ? r->aliases : "(not set)",
           r->logfile ? r->logfile : "(not set)", r->syslog_facility ? r->syslog_facility : "off");
    printf("dsn_notify = %s\ndsn_return = %s\n", r->dsn_notify ? r->dsn_notify : "(not set)", r->dsn_return ? r->dsn_return : "(not set)");
    printf("set_from_header = %s\nset_date_header = %s\nset_msgid_header = %s\n",
           r->set_from == 2 ? "auto" : r->set_from ? "on" : "off", r->set_date ? "auto" : "off", r->set_msgid ? "auto" : "off");
    printf("remove_bcc_headers = %s\nundisclosed_recipients = %s\nallow_from_override = %s\n",
           r->remove_bcc ? "on" : "off", r->undisclosed ? "on" : "off", r->allow_from_override ? "on" : "off");
    if (r->rcpts.n) {
        size_t i;
        printf("recipients =");
        for (i = 0; i < r->rcpts.n; i++) printf("%s%s", i ? ", " : " ", r->rcpts.v[i]);
        printf("\n");
    }
}

/* Whether the EHLO reply lines (as captured) offer keyword, one smtp.h
   does not look for itself. */
static int ehlo_has(const char *lines, const char *keyword)
{
    size_t n = strlen(keyword);
    const char *p;
    int first = 1;
    for (p = lines ? lines : ""; *p; first = 0) {   /* the first line names the server */
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (!first && len >= 4 + n && !strncasecmp(p + 4, keyword, n) && (len == 4 + n || p[4 + n] == ' ')) return 1;
        p += len + (nl ? 1 : 0);
    }
    return 0;
}

/* --serverinfo: msmtp's report (its headings and order), from what the
   library tells: the greeting, the TLS version and cipher suite and how the
   certificate was checked, the capabilities smtp.h knows, then the EHLO
   reply as the server wrote it. */
static int serverinfo(run *r)
{
    smtp_result e;
    unsigned ext, auth;
    unsigned long size;
    int starttls_used;
    const char *p;
    r->st.cfg.trace = capture;
    r->st.cfg.trace_user = (void *)(intptr_t)r->o.verbose;
    /* no login: what the server offers is the question */
    r->st.cfg.username = NULL;
    e = smtp_open(&session, &r->st.cfg);
    if (e != SMTP_OK) {
        fprintf(stderr, "smtp-send: %s: %s\n", smtp_result_str(e), smtp_error_detail(&session));
        smtp_close(&session);
        return exit_code(e, &session);
    }
    ext = smtp_extensions(&session);
    auth = smtp_supported_auth(&session);
    size = smtp_size_limit(&session);
    starttls_used = smtp_tls_version(&session)[0] && smtp_security_used(&session) != SMTP_SECURITY_IMPLICIT;
    printf("SMTP server at %s, port %d:\n", r->st.cfg.host, smtp_port_used(&session));
    if (greeting && *greeting) printf("    %s\n", greeting);
    if (smtp_tls_version(&session)[0]) {
        const smtp_config *c = &r->st.cfg;
        printf("TLS session parameters:\n    %s, %s (%s)%s\n", smtp_tls_version(&session), smtp_tls_cipher(&session),
               starttls_used ? "STARTTLS" : "implicit TLS", smtp_tls_resumed(&session) ? ", resumed" : "");
        printf("TLS certificate information:\n    Verification:\n        %s\n",
               c->tls_verify == SMTP_VERIFY_NONE ? "none (tls_certcheck off)"
               : c->tls_fingerprint ? (c->tls_verify == SMTP_VERIFY_NO_HOSTNAME
                                       ? "pinned: the SHA-256 of the certificate or its key is tls_fingerprint (host name not checked)"
                                       : "pinned: the SHA-256 of the certificate or its key is tls_fingerprint, and it names the host")
               : c->tls_verify == SMTP_VERIFY_NO_HOSTNAME ? "the chain leads to a trusted CA (host name not checked)"
               : "the chain leads to a trusted CA and the certificate names the host");
        {
            smtp_peer_cert pc;
            int i;
            if (smtp_tls_peer_cert(&session, &pc) == SMTP_OK) {   /* msmtp's layout, and the key and names */
                printf("    Subject:\n        %s\n    Issuer:\n        %s\n", pc.subject, pc.issuer);
                printf("    Validity:\n        Activation time: %s\n        Expiration time: %s\n", pc.not_before,
                       pc.not_after);
                printf("    Fingerprints:\n        SHA256: ");
                for (i = 0; i < 32; i++) printf("%02X%s", pc.sha256[i], i < 31 ? ":" : "\n");
                printf("        SHA256 of the public key (a tls_fingerprint pins either): ");
                for (i = 0; i < 32; i++) printf("%02X%s", pc.spki_sha256[i], i < 31 ? ":" : "\n");
                printf("    Key:\n        %s\n    Names:\n        %s\n    Chain:\n        %d certificate%s\n",
                       pc.key, pc.names[0] ? pc.names : "(none)", pc.chain_length, pc.chain_length == 1 ? "" : "s");
            } else printf("    (a resumed session: the certificate was not sent again)\n");
        }
    }
    if (!ext && !starttls_used) printf("No special capabilities.\n");
    else {
        printf("Capabilities:\n");
        if (ext & SMTP_EXT_SIZE) {
            printf("    SIZE %lu:\n        Maximum message size is ", size);
            if (!size) printf("unlimited\n");
            else if (size > 1024 * 1024) printf("%lu bytes = %.2f MiB\n", size, (double)size / (1024.0 * 1024.0));
            else if (size > 1024) printf("%lu bytes = %.2f KiB\n", size, (double)size / 1024.0);
            else printf("%lu bytes\n", size);
        }
        if (ext & SMTP_EXT_PIPELINING) printf("    PIPELINING:\n        Support for command grouping for faster transmission\n");
        if (ext & SMTP_EXT_SMTPUTF8) printf("    SMTPUTF8:\n        Support for Internationalized Email\n");
        if (ehlo_has(info_lines.p, "ETRN")) printf("    ETRN:\n        Support for RMQS (Remote Message Queue Starting)\n");
        if (ext & SMTP_EXT_8BITMIME) printf("    8BITMIME:\n        8-bit messages are sent with BODY=8BITMIME\n");
        if (ext & SMTP_EXT_CHUNKING) printf("    CHUNKING:\n        Support for BDAT\n");
        if (ext & SMTP_EXT_DSN) printf("    DSN:\n        Support for Delivery Status Notifications\n");
        if (ext & SMTP_EXT_ENHANCEDSTATUSCODES) printf("    ENHANCEDSTATUSCODES:\n        Status codes of RFC 3463 in replies\n");
        if (starttls_used || (ext & SMTP_EXT_STARTTLS))
            printf("    STARTTLS:\n        Support for TLS encryption via the STARTTLS command\n");
        if (ext & SMTP_EXT_AUTH) {
            printf("    AUTH:\n        Supported authentication methods:\n        ");
            if (auth & SMTP_AUTH_PLAIN) printf("PLAIN ");
            if (auth & SMTP_AUTH_OAUTHBEARER) printf("OAUTHBEARER ");
            if (auth & SMTP_AUTH_CRAM_MD5) printf("CRAM-MD5 ");
            if (auth & SMTP_AUTH_LOGIN) printf("LOGIN ");
            if (auth & SMTP_AUTH_XOAUTH2) printf("XOAUTH2 ");
            printf("\n");
        }
        if ((ext & SMTP_EXT_STARTTLS) && !smtp_tls_version(&session)[0])
            printf("This server might advertise more or other capabilities when TLS is active.\n");
    }
    printf("EHLO reply:\n");
    for (p = info_lines.p ? info_lines.p : ""; *p;) {   /* "250-x" lines, as written */
        const char *nl = strchr(p, '\n');
        int n = nl ? (int)(nl - p) : (int)strlen(p);
        printf("    %.*s\n", n, p);
        p += n + (nl ? 1 : 0);
    }
    smtp_close(&session);
    return EX_OK_;
}

/* The message built from --subject, --body, --attach, through the library's composer. */
static int send_composed(run *r)
{
    smtp_message m;
    smtp_attachment at[64];
    const char **to;
    int i;
    smtp_result e;
    memset(&m, 0, sizeof m);
    memset(at, 0, sizeof at);
    to = (const char **)xmalloc((r->rcpts.n + 1) * sizeof *to);
    for (i = 0; i < (int)r->rcpts.n; i++) to[i] = r->rcpts.v[i];
    to[r->rcpts.n] = NULL;
    for (i = 0; i < r->o.nattach; i++) at[i].path = r->o.attach[i];
    m.from = r->full_name ? xprintf("%s <%s>", r->full_name, r->from) : r->from;
    m.envelope_from = r->from;
    m.to = to;
    m.subject = r->o.subject;
    m.text = r->o.body ? r->o.body : "";
    m.attachments = r->o.nattach ? at : NULL;
    m.attachment_count = (size_t)r->o.nattach;
    m.dsn_notify = r->dsn_notify; m.dsn_ret = r->dsn_return; m.dsn_envid = r->o.envid;
    e = smtp_open(&session, &r->st.cfg);
    r->tls_used = e == SMTP_OK && smtp_tls_version(&session)[0];
    r->auth_used = e == SMTP_OK && r->st.cfg.username;
    if (e == SMTP_OK) e = smtp_send(&session, &m);
    remember_reply(r, &session);
    if (e == SMTP_PARTIAL) e = SMTP_ERR_REPLY;
    if (e != SMTP_OK) {
        snprintf(r->errmsg, sizeof r->errmsg, "%.690s", smtp_error_detail(&session));
        fprintf(stderr, "smtp-send: %s: %s\n", smtp_result_str(e), r->errmsg);
    }
    i = exit_code(e, &session);
    smtp_close(&session);
    free(to);
    return i;
}

/* The recipients, the envelope, the transactions. */
static int deliver(run *r, message *m)
{
    smtp_session *s = &session;
    smtp_result e;
    buf pre = {0}, mparams = {0}, rparams = {0};
    size_t i, nb = 0, b_start = 0;
    size_t *batch = NULL;          /* start index of each batch (452 split) */
    int utf8_env, code, spool = -1;
    unsigned ext;
    sender w;

    build_prepend(r, m, &pre);
    if (r->st.cfg.progress == NULL && isatty(2)) {
        struct stat sb;
        if (fstat(0, &sb) == 0 && S_ISREG(sb.st_mode)) total_size = (unsigned long long)sb.st_size;
        r->st.cfg.progress = progress;
    }
    e = smtp_open(s, &r->st.cfg);
    if (e != SMTP_OK) goto failed;
    r->tls_used = smtp_tls_version(s)[0] != 0;
    r->auth_used = r->st.cfg.username != NULL;
    ext = smtp_extensions(s);
    /* 8-bit: BODY=8BITMIME whenever the server offers it (the body is only
       known as it streams); SMTPUTF8 when an address needs it */
    utf8_env = has_8bit(r->from, strlen(r->from));
    for (i = 0; i < r->rcpts.n && !utf8_env; i++) utf8_env = has_8bit(r->rcpts.v[i], strlen(r->rcpts.v[i]));
    if (utf8_env && !(ext & SMTP_EXT_SMTPUTF8)) {
        smtp_close(s);
        return fail(r, EX_DATAERR_, "an address is not ASCII and the server does not offer SMTPUTF8; nothing was sent");
    }
    if ((ext & SMTP_EXT_8BITMIME) && !r->o.b7bit) buf_str(&mparams, "BODY=8BITMIME");
    else if (has_8bit(m->hdr.p ? m->hdr.p : "", m->hdr.len) || has_8bit(pre.p ? pre.p : "", pre.len)) {
        smtp_close(s);
        return fail(r, EX_DATAERR_, "the message has 8-bit bytes and the server offers neither 8BITMIME nor SMTPUTF8%s; "
                    "nothing was sent", r->o.b7bit ? " (or -B7BIT was given)" : "");
    }
    if (utf8_env) buf_str(&mparams, mparams.len ? " SMTPUTF8" : "SMTPUTF8");
    if (ext & SMTP_EXT_DSN) {
        if (r->dsn_return) { buf_str(&mparams, mparams.len ? " RET=" : "RET="); buf_str(&mparams, r->dsn_return); }
        if (r->o.envid) { buf_str(&mparams, mparams.len ? " ENVID=" : "ENVID="); xtext(&mparams, r->o.envid); }
        if (r->dsn_notify) { buf_str(&rparams, "NOTIFY="); buf_str(&rparams, r->dsn_notify); }
        if (r->dsn_notify && !SMTP_SEND_HAVE_RCPT_TO_OPTS && r->o.verbose)
            fprintf(stderr, "smtp-send: note: NOTIFY=%s not sent (this smtp.h has no smtp_rcpt_to_opts)\n", r->dsn_notify);
    } else if ((r->dsn_return || r->o.envid || r->dsn_notify) && r->o.verbose)
        fprintf(stderr, "smtp-send: note: the server does not offer DSN: -N, -R and -V are not used\n");

    if (ext & SMTP_EXT_SIZE) {   /* SIZE= (RFC 1870) when the size is known before sending */
        long long size = measure(r, m, &pre);
        unsigned long limit = smtp_size_limit(s);
        if (size >= 0 && limit && (unsigned long long)size > limit) {
            smtp_close(s);
            free(pre.p); free(mparams.p); free(rparams.p);
            return fail(r, EX_UNAVAILABLE_, "the message is %lld bytes and the server takes at most %lu (SIZE); "
                        "nothing was sent", size, limit);
        }
        if (size >= 0) {
            char t[40];
            snprintf(t, sizeof t, "%sSIZE=%lld", mparams.len ? " " : "", size);
            buf_str(&mparams, t);
        }
    }
    /* every recipient first; a 452 (too many recipients) closes a batch,
       the rest go to further transactions; any other refusal: nothing is sent */
    e = smtp_mail_from_opts(s, r->from, mparams.p);
    for (i = 0; e == SMTP_OK && i < r->rcpts.n; i++) {
        e = rcpt(r, s, r->rcpts.v[i], rparams.p);
        if (e == SMTP_ERR_REPLY && smtp_last_reply(s)->code == 452 && i > b_start) {
            batch = (size_t *)xrealloc(batch, (nb + 1) * sizeof *batch);
            batch[nb++] = b_start;
            b_start = i;
            if ((e = smtp_rset(s)) == SMTP_OK) e = smtp_mail_from_opts(s, r->from, mparams.p);
            i--;   /* this recipient again, in the new transaction */
            continue;
        }
        if (e == SMTP_ERR_REPLY || e == SMTP_ERR_PARAM) {
            int c = e == SMTP_ERR_PARAM ? EX_DATAERR_ : exit_code(e, s);
            remember_reply(r, s);
            snprintf(r->errmsg, sizeof r->errmsg, "recipient %.200s refused: %.460s", r->rcpts.v[i], smtp_error_detail(s));
            fprintf(stderr, "smtp-send: %s\nsmtp-send: nothing was sent (all or nothing: a refused recipient stops "
                    "the message)\n", r->errmsg);
            if (e == SMTP_ERR_REPLY) (void)smtp_rset(s);
            smtp_close(s);
            free(batch); free(pre.p); free(mparams.p); free(rparams.p);
            return c;
        }
    }
    if (e != SMTP_OK) goto failed;
    /* the open transaction (the last batch) first, keeping a copy for the earlier batches */
    if (nb) {
        char tmp[] = "/tmp/smtp-send-spool-XXXXXX";
        const char *td = getenv("TMPDIR");
        char *path = td && *td ? xprintf("%s/smtp-send-spool-XXXXXX", td) : xstrdup(tmp);
        spool = mkstemp(path);
        if (spool >= 0) unlink(path);
        free(path);
        if (spool < 0) { smtp_close(s); return fail(r, EX_CANTCREAT_, "cannot create a spool file for the next transactions: %s", strerror(errno)); }
    }
    memset(&w, 0, sizeof w);
    w.s = s; w.spool_fd = spool;
    e = smtp_data_begin(s);
    if (e == SMTP_OK) e = send_body(r, &w, m, &pre);
    if (e == SMTP_OK) {
        if (progress_shown) fprintf(stderr, "\r%-60s", "the message is sent; waiting for the server's reply...");
        e = smtp_data_end(s);
        if (progress_shown) fputc('\n', stderr);
    }
    if (e != SMTP_OK) goto failed;
    r->mailsize = w.size;
    remember_reply(r, s);
    /* the batches a 452 split off, replayed from the spool */
    for (code = 0; code < (int)nb; code++) {
        size_t end = (size_t)code + 1 < nb ? batch[code + 1] : b_start;
        e = smtp_mail_from_opts(s, r->from, mparams.p);
        for (i = batch[code]; e == SMTP_OK && i < end; i++) e = rcpt(r, s, r->rcpts.v[i], rparams.p);
        if (e == SMTP_OK) e = smtp_data_begin(s);
        if (e == SMTP_OK) e = send_spool(&w, spool);
        if (e == SMTP_OK) e = smtp_data_end(s);
        if (e != SMTP_OK) {
            size_t k;
            fprintf(stderr, "smtp-send: a later transaction failed after the message was delivered to:");
            for (k = b_start; k < r->rcpts.n; k++) fprintf(stderr, " %s", r->rcpts.v[k]);
            for (k = 0; k < (size_t)code; k++) {
                size_t j, ke = k + 1 < nb ? batch[k + 1] : b_start;
                for (j = batch[k]; j < ke; j++) fprintf(stderr, " %s", r->rcpts.v[j]);
            }
            fputc('\n', stderr);
            goto failed;
        }
    }
    if (spool >= 0) close(spool);
    smtp_close(s);
    free(batch); free(pre.p); free(mparams.p); free(rparams.p);
    return EX_OK_;
failed:
    remember_reply(r, s);
    if (!r->errmsg[0]) snprintf(r->errmsg, sizeof r->errmsg, "%.690s", smtp_error_detail(s));
    if (e != SMTP_ERR_IO || !in_err) fprintf(stderr, "smtp-send: %s: %s\n", smtp_result_str(e), smtp_error_detail(s));
    if (e == SMTP_ERR_AUTH_UNAVAILABLE && !r->st.cfg.allow_cleartext_auth && !smtp_tls_version(s)[0])
        fprintf(stderr, "smtp-send: (to send the password without TLS anyway: allow_cleartext_auth on, or --allow-cleartext-auth)\n");
    code = in_err && e == SMTP_ERR_IO ? EX_IOERR_ : exit_code(e, s);
    if (spool >= 0) close(spool);
    smtp_close(s);
    free(batch); free(pre.p); free(mparams.p); free(rparams.p);
    return code;
}

int main(int argc, char **argv)
{
    static run R;
    static message m;   /* static: what it holds stays reachable until exit */
    run *r = &R;
    int code, early;
    size_t i;
    const char *v;

    if ((code = parse_args(&r->o, argc, argv, &early)) != 0) return code;
    if (early >= 0) return early;
    if (r->o.help) { usage(stdout); return EX_OK_; }
    if (r->o.version) {
        printf("smtp-send %s\nTLS: %s\nSystem configuration file name: %s/msmtprc\n"
               "User configuration file name: ~/.msmtprc (else $XDG_CONFIG_HOME/msmtp/config)\n", SMTP_SEND_VERSION,
#ifdef SMTP_NO_TLS
               "none",
#else
               "BearSSL (TLS 1.0 to 1.2)",
#endif
               SMTP_SEND_SYSCONFDIR);
        return EX_OK_;
    }
    if ((code = load_settings(r)) != 0) goto done;
    if ((code = resolve_own(r)) != 0) goto done;
    if (!r->st.cfg.host) { code = fail(r, EX_CONFIG_, "no server: give -C/-a, --url or --host (see --help)"); goto done; }
    if (r->o.serverinfo) {
        if (r->o.pretend) print_pretend(r);
        code = serverinfo(r);
        goto done;
    }

    /* the message: the header block (always: Date, Message-ID, From, Bcc), or built from --subject ... */
    if (!(r->o.subject || r->o.body || r->o.nattach) && !r->o.pretend) {
        if (isatty(0)) fprintf(stderr, "smtp-send: reading the message from standard input (end with Ctrl-D)\n");
        read_headers(&m);
        if (in_err) { code = fail(r, EX_IOERR_, "cannot read standard input: %s", strerror(in_err)); goto done; }
    }
    /* recipients: the arguments, then -t's headers (the first Resent- block when there is one) */
    {
        strlist raw = {0};
        size_t resent_first = (size_t)-1, resent_end = 0;
        for (i = 0; i < r->o.rcpts.n; i++) {
            size_t before = raw.n;
            parse_address_list(r->o.rcpts.v[i], strlen(r->o.rcpts.v[i]), &raw);   /* "Name <a@b>" and "a, b" too */
            if (raw.n == before) list_push(&raw, xstrdup(r->o.rcpts.v[i]));
        }
        for (i = 0; i < m.nf; i++) {
            if (m.f[i].name_len > 7 && !strncasecmp(m.hdr.p + m.f[i].off, "Resent-", 7)) {
                if (resent_first == (size_t)-1) resent_first = i;
                if (resent_end == 0 || resent_end == i) resent_end = i + 1;
            }
        }
        for (i = 0; i < m.nf; i++) {
            const char *fv;
            size_t fn;
            if (field_is(&m, i, "From") && !r->header_from) {
                strlist one = {0};
                fv = field_value(&m, i, &fn);
                if (parse_address_list(fv, fn, &one)) r->header_from = xstrdup(one.v[0]);
                for (fn = 0; fn < one.n; fn++) free(one.v[fn]);
                free(one.v);
            }
            if (!r->o.read_rcpts) continue;
            if (resent_first != (size_t)-1) {
                if (i < resent_first || i >= resent_end) continue;
                if (!field_is(&m, i, "Resent-To") && !field_is(&m, i, "Resent-Cc") && !field_is(&m, i, "Resent-Bcc")) continue;
            } else if (!field_is(&m, i, "To") && !field_is(&m, i, "Cc") && !field_is(&m, i, "Bcc")) continue;
            fv = field_value(&m, i, &fn);
            parse_address_list(fv, fn, &raw);
        }
        /* aliases: every recipient without '@' */
        if (r->aliases) {
            alias *al;
            size_t nal;
            char err[600];
            if (aliases_load(r->aliases, &al, &nal, err, sizeof err) != 0) { code = fail(r, EX_CONFIG_, "%s", err); goto done; }
            for (i = 0; i < raw.n; i++) {
                if (strchr(raw.v[i], '@')) list_add_unique(&r->rcpts, raw.v[i]);
                else {
                    int loop = alias_expand(al, nal, raw.v[i], &r->rcpts, 0);
                    if (loop) code = fail(r, EX_CONFIG_, "%s: alias %s expands in a loop", r->aliases, raw.v[i]);
                    free(raw.v[i]);
                    if (loop) { aliases_free(al, nal); free(raw.v); goto done; }
                }
            }
            aliases_free(al, nal);
        } else for (i = 0; i < raw.n; i++) list_add_unique(&r->rcpts, raw.v[i]);
        free(raw.v);
        for (i = 0; i < r->rcpts.n; i++)
            if (!strchr(r->rcpts.v[i], '@') && strcasecmp(r->rcpts.v[i], "postmaster")) {
                code = fail(r, EX_NOUSER_, "recipient \"%s\" has no domain%s: give a full address, or map it in an aliases "
                            "file (the 'aliases' key, e.g. \"aliases /etc/aliases\" with \"%s: you@example.com\")",
                            r->rcpts.v[i], r->aliases ? " and no alias" : "", r->rcpts.v[i]);
                goto done;
            }
    }
    /* the envelope sender: -f (when the account allows it), --read-envelope-from,
       the account's from, the From header */
    {
        const char *cf = r->o.cmd_from;
        char err[200];
        if (cf && !r->allow_from_override && r->st.cfg.from) cf = NULL;
        if (r->o.read_env_from) {
            if (!r->header_from) { code = fail(r, EX_USAGE_, "--read-envelope-from: no From header in the message"); goto done; }
            cf = r->header_from;
        }
        if (cf) r->from = xstrdup(!strcmp(cf, "<>") ? "" : cf);
        else if (r->st.cfg.from) {
            if (!(r->from = expand_percent(r->st.cfg.from, 1, r->header_from, err, sizeof err))) {
                code = fail(r, EX_CONFIG_, "from: %s", err);
                goto done;
            }
        } else if (r->header_from && strchr(r->header_from, '@')) r->from = xstrdup(r->header_from);
        if (!r->from && !r->o.pretend) {
            code = fail(r, EX_CONFIG_, "no envelope sender: set 'from' in the account, give -f ADDRESS, or put a From: header in the message");
            goto done;
        }
    }
    if (r->o.pretend) { print_pretend(r); code = EX_OK_; goto done; }
    if (r->rcpts.n == 0) { code = fail(r, EX_USAGE_, "no recipients (give them as arguments, or -t with To/Cc/Bcc headers)"); goto done; }
    if ((code = get_password(r)) != 0) goto done;
    if (r->o.verbose) {
        r->st.cfg.trace = trace;
        if (r->st.notes && *r->st.notes) fputs(r->st.notes, stderr);
        if (r->pw_from) fprintf(stderr, "smtp-send: the password for %s is from %s\n", r->st.cfg.username, r->pw_from);
    }
    code = (r->o.subject || r->o.body || r->o.nattach) ? send_composed(r) : deliver(r, &m);
done:
    if (((v = r->logfile) != NULL || r->syslog_facility) && !r->o.pretend && !r->o.serverinfo) log_outcome(r, code);
    smtp_settings_free(&r->st);
    if (r->pw) { memset(r->pw, 0, strlen(r->pw)); free(r->pw); }
    return code;
}
