/* matrix.c - smtp.h against one real server: the interoperability matrix
   of issue 18. tests/interop/run.sh starts a server, runs this with the
   server's profile (tests/interop/servers/NAME.sh writes it), stops it,
   and prints one table from the result lines of every server.

   What "the same bytes" means here. smtp.h composes each message (Date,
   Message-ID, MIME); the bytes it wrote after DATA's 354 (or inside BDAT
   chunks) are captured through cfg.trace (SMTP_TRACE_BODY, one capture per
   MAIL FROM). "What was sent" is that capture turned back into the message
   as RFC 5321 defines it: for DATA the final ".\r\n" removed and the
   leading dot of each dot-stuffed line removed; for BDAT the chunks as
   they are. A stored message passes when it is exactly
       P + sent
   where P is zero or more whole header fields whose names are in the
   server's --strip list (the trace headers it adds: Received,
   Return-Path, ...). Servers that store Unix line ends (--lf) are compared
   with every CRLF of the sent bytes as LF: smtp.h never sends a bare CR or
   LF, so that mapping loses nothing. Every message carries an
   "X-Interop-Token" header that finds its stored copy.

   Output: one line per check on stdout, "CELL<TAB>server<TAB>check<TAB>cell
   <TAB>detail", and "TIME<TAB>server<TAB>check<TAB>ms<TAB>mode" for AUTO;
   commands and replies of every session go to --log.
   Exit status: 0 when no cell is FAIL. */
#define SMTP_IMPLEMENTATION
#include "smtp.h"   /* the repository's, through -I. */
#include <ctype.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

/* ---- the profile (command line) ---- */
static const char *NAME = "server", *STORE, *KIND = "files", *STRIP = "Received,Return-Path",
                  *USER = "alice", *PASS = "secret", *REFUSED, *TLS_BROKEN, *CA, *LOGFILE,
                  *FROM = "Alice <alice@example.org>", *TO1 = "bob@example.org",
                  *TO2 = "carol@example.org", *ONLY, *AUTH_MODE, *MAIN_MODE;
static int PORT_PLAIN, PORT_STARTTLS, PORT_IMPLICIT, LF, LOGIN_PLAIN, LOGIN_STARTTLS, LOGIN_IMPLICIT;
static int AUTO_LIMIT_MS = 2000, AUTH_PORT, PORT_538;
static const char *TEMPFAIL_USER;
static FILE *LOG;
static int failures;

static long long now_ms(void) { return smtp__now(); }

static void logf_(const char *fmt, ...) SMTP__PRINTF(1, 2);
static void logf_(const char *fmt, ...)
{
    va_list ap;
    if (!LOG) return;
    va_start(ap, fmt);
    vfprintf(LOG, fmt, ap);
    va_end(ap);
    fflush(LOG);
}

/* ---- captures of what was sent ---- */
typedef struct cap { char *b; size_t len, cap; int bdat; } cap;
static cap CAPS[64];
static int NCAP;
static const char *CHECK = "";

static void cap_reset(void)
{
    int i;
    for (i = 0; i < NCAP; i++) free(CAPS[i].b);
    memset(CAPS, 0, sizeof CAPS);
    NCAP = 0;
}

static void cap_add(cap *c, const char *p, size_t n)
{
    if (c->len + n + 1 > c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 65536;
        while (nc < c->len + n + 1) nc *= 2;
        c->b = realloc(c->b, nc);
        if (!c->b) { fprintf(stderr, "out of memory\n"); exit(2); }
        c->cap = nc;
    }
    memcpy(c->b + c->len, p, n);
    c->len += n;
    c->b[c->len] = 0;
}

static void trace(void *user, smtp_trace_dir dir, const char *data, size_t len)
{
    (void)user;
    if (dir == SMTP_TRACE_BODY) {
        if (NCAP > 0) cap_add(&CAPS[NCAP - 1], data, len);
        return;
    }
    if (dir == SMTP_TRACE_OUT && len >= 10 && !strncasecmp(data, "MAIL FROM:", 10)) {
        if (NCAP < (int)(sizeof CAPS / sizeof *CAPS)) NCAP++;
    }
    if (dir == SMTP_TRACE_OUT && len >= 4 && !strncasecmp(data, "BDAT", 4) && NCAP > 0)
        CAPS[NCAP - 1].bdat = 1;
    logf_("%s %s %.*s\n", CHECK, dir == SMTP_TRACE_OUT ? "C:" : dir == SMTP_TRACE_IN ? "S:" : "--",
          (int)(len > 300 ? 300 : len), data);
}

/* The message a capture carries (see the top of the file); malloc'd. */
static char *cap_message(const cap *c, size_t *out_len)
{
    char *m = malloc(c->len + 1);
    size_t i, o = 0, n = c->len;
    int bol = 1;
    if (!c->bdat && n >= 3 && !memcmp(c->b + n - 3, ".\r\n", 3) && (n == 3 || c->b[n - 4] == '\n')) n -= 3;
    for (i = 0; i < n; i++) {
        if (!c->bdat && bol && c->b[i] == '.') { bol = 0; continue; }
        m[o++] = c->b[i];
        bol = c->b[i] == '\n';
    }
    m[o] = 0;
    *out_len = o;
    return m;
}

static const cap *cap_find(const char *token)
{
    char needle[200];
    int i;
    snprintf(needle, sizeof needle, "X-Interop-Token: %s\r\n", token);
    for (i = 0; i < NCAP; i++)
        if (CAPS[i].b && strstr(CAPS[i].b, needle)) return &CAPS[i];
    return NULL;
}

/* ---- the server's store ---- */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *p;
    long n;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END); n = ftell(f); fseek(f, 0, SEEK_SET);
    if (n < 0) { fclose(f); return NULL; }
    p = malloc((size_t)n + 1);
    if (fread(p, 1, (size_t)n, f) != (size_t)n) n = 0;
    p[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return p;
}

/* The directory of finished messages and whether a name is one. */
static void store_dir(char *out, size_t n)
{
    if (!strcmp(KIND, "maildir")) snprintf(out, n, "%s/new", STORE);
    else snprintf(out, n, "%s", STORE);
}

static int store_name_ok(const char *dir, const char *name)
{
    char p[1200];
    size_t l = strlen(name);
    if (name[0] == '.') return 0;
    if (!strcmp(KIND, "aiosmtpd")) {   /* msg-N.eml is complete once msg-N.json is there */
        if (l < 5 || strcmp(name + l - 4, ".eml")) return 0;
        snprintf(p, sizeof p, "%s/%.*s.json", dir, (int)(l - 4), name);
        return access(p, F_OK) == 0;
    }
    if (!strcmp(KIND, "files")) return l > 4 && !strcmp(name + l - 4, ".eml");
    return 1;
}

typedef struct stored { char path[1400]; char *b; size_t len; } stored;

/* Stored messages carrying token: waits up to ms for at least one, then
   for 'settle' ms more for further copies. Returns how many (at most max). */
static int store_find(const char *token, stored *out, int max, int ms, int settle)
{
    char dir[1024], needle_crlf[200], needle_lf[200];
    long long end = now_ms() + ms, settle_end = -1;
    int found = 0;
    snprintf(needle_crlf, sizeof needle_crlf, "X-Interop-Token: %s\r\n", token);
    snprintf(needle_lf, sizeof needle_lf, "X-Interop-Token: %s\n", token);
    store_dir(dir, sizeof dir);
    for (;;) {
        DIR *d = opendir(dir);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL && found < max) {
            stored st;
            int k, dup = 0;
            if (!store_name_ok(dir, e->d_name)) continue;
            snprintf(st.path, sizeof st.path, "%s/%s", dir, e->d_name);
            for (k = 0; k < found; k++) if (!strcmp(out[k].path, st.path)) dup = 1;
            if (dup) continue;
            st.b = slurp(st.path, &st.len);
            if (!st.b) continue;
            if (strstr(st.b, needle_crlf) || strstr(st.b, needle_lf)) out[found++] = st;
            else free(st.b);
        }
        if (d) closedir(d);
        if (found && settle_end < 0) settle_end = now_ms() + settle;
        if (found >= max || (settle_end >= 0 && now_ms() >= settle_end) || now_ms() >= end) break;
        usleep(50000);
    }
    return found;
}

static void store_release(stored *s, int n)
{
    int i;
    for (i = 0; i < n; i++) { unlink(s[i].path); free(s[i].b); s[i].b = NULL; }
}

static int strip_has(const char *name, size_t n)
{
    const char *p = STRIP;
    while (*p) {
        const char *c = strchr(p, ',');
        size_t l = c ? (size_t)(c - p) : strlen(p);
        if (l == n && !strncasecmp(p, name, n)) return 1;
        if (!c) break;
        p = c + 1;
    }
    return 0;
}

/* NULL when stored == P + sent (see the top); else why not, in why. */
static const char *compare(const char *st, size_t sl, const char *sent0, size_t n0, char *why, size_t wn)
{
    char *sent = malloc(n0 + 1);
    size_t n = 0, i, p = 0;
    for (i = 0; i < n0; i++) {
        if (LF && sent0[i] == '\r' && i + 1 < n0 && sent0[i + 1] == '\n') continue;
        sent[n++] = sent0[i];
    }
    /* skip the added header fields the profile allows */
    while (p < sl) {
        size_t k = p, end;
        const char *nl;
        while (k < sl && st[k] != ':' && st[k] != '\n' && st[k] != ' ') k++;
        if (k >= sl || st[k] != ':' || !strip_has(st + p, k - p)) break;
        end = p;
        for (;;) {   /* the field and its continuation lines */
            nl = memchr(st + end, '\n', sl - end);
            if (!nl) { end = sl; break; }
            end = (size_t)(nl - st) + 1;
            if (end >= sl || (st[end] != ' ' && st[end] != '\t')) break;
        }
        if (sl - end < n) break;   /* never strip into the sent message */
        p = end;
    }
    if (sl - p == n && !memcmp(st + p, sent, n)) { free(sent); return NULL; }
    {
        size_t j = 0, m = sl - p < n ? sl - p : n;
        char a[48], b[48];
        while (j < m && st[p + j] == sent[j]) j++;
        smtp__visible(a, sizeof a, (const unsigned char *)st + p + j, sl - p - j);
        smtp__visible(b, sizeof b, (const unsigned char *)sent + j, n - j);
        snprintf(why, wn, "stored %zu+%zu bytes vs sent %zu: first difference at byte %zu of the message: "
                 "stored \"%.30s\" sent \"%.30s\"", p, sl - p, n, j, a, b);
    }
    free(sent);
    return why;
}

/* ---- result lines ---- */
static void cell(const char *check, const char *fmt, ...) SMTP__PRINTF(2, 3);
static void cell(const char *check, const char *fmt, ...)
{
    char buf[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    /* "ok", "n/a", "n/a\treason", "FAIL\tshort\tdetail" */
    if (!strncmp(buf, "FAIL", 4)) failures++;
    for (char *q = buf; *q; q++) if (*q == '\n' || *q == '\r') *q = ' ';
    printf("CELL\t%s\t%s\t%s\n", NAME, check, buf);
    fflush(stdout);
    logf_("== %s: %s\n", check, buf);
}

static int wanted(const char *check)
{
    const char *p;
    size_t n = strlen(check);
    if (!ONLY) return 1;
    for (p = ONLY; (p = strstr(p, check)) != NULL; p += n)
        if ((p == ONLY || p[-1] == ',') && (p[n] == 0 || p[n] == ',')) return 1;
    return 0;
}

/* ---- sessions ---- */
typedef enum { M_PLAIN, M_STARTTLS, M_IMPLICIT } mode;

static int mode_port(mode m) { return m == M_PLAIN ? PORT_PLAIN : m == M_STARTTLS ? PORT_STARTTLS : PORT_IMPLICIT; }
static const char *mode_name(mode m) { return m == M_PLAIN ? "plain" : m == M_STARTTLS ? "starttls" : "implicit"; }
static int mode_login(mode m) { return m == M_PLAIN ? LOGIN_PLAIN : m == M_STARTTLS ? LOGIN_STARTTLS : LOGIN_IMPLICIT; }
static mode parse_mode(const char *s)
{
    if (!s) return PORT_STARTTLS ? M_STARTTLS : PORT_IMPLICIT ? M_IMPLICIT : M_PLAIN;
    return !strcmp(s, "plain") ? M_PLAIN : !strcmp(s, "implicit") ? M_IMPLICIT : M_STARTTLS;
}

static void cfg_for(smtp_config *c, mode m)
{
    memset(c, 0, sizeof *c);
    c->host = "127.0.0.1";
    c->port = mode_port(m);
    c->security = m == M_PLAIN ? SMTP_SECURITY_NONE : m == M_STARTTLS ? SMTP_SECURITY_STARTTLS : SMTP_SECURITY_IMPLICIT;
    c->helo_name = "client.example.org";
    c->ca_file = CA;
    c->connect_timeout_ms = 10000;
    c->greeting_timeout_ms = 15000;
    c->timeout_ms = 15000;          /* a stall costs 15 s, not the 60 s default */
    c->data_timeout_ms = 20000;
    c->trace = trace;
    if (mode_login(m)) {
        c->username = USER; c->password = PASS;
        c->allow_cleartext_auth = 1;
    }
}

static const char *short_result(smtp_result r)
{
    static char b[32];
    switch (r) {
    case SMTP_OK: return "OK";
    case SMTP_PARTIAL: return "PARTIAL";
    case SMTP_ERR_TIMEOUT: return "TIMEOUT";
    case SMTP_ERR_CLOSED: return "CLOSED";
    case SMTP_ERR_REPLY: return "REPLY";
    case SMTP_ERR_TLS: return "TLS";
    case SMTP_ERR_CERT: return "CERT";
    case SMTP_ERR_AUTH: return "AUTH";
    case SMTP_ERR_AUTH_UNAVAILABLE: return "AUTH_UNAVAILABLE";
    case SMTP_ERR_PROTOCOL: return "PROTOCOL";
    case SMTP_ERR_CONNECT: return "CONNECT";
    case SMTP_ERR_IO: return "IO";
    case SMTP_ERR_NO_STARTTLS: return "NO_STARTTLS";
    default: snprintf(b, sizeof b, "%d", (int)r); return b;
    }
}

/* A failed call as a cell: short code plus the detail. */
static void cell_err(const char *check, const char *what, smtp_session *s, smtp_result r, int tls_check)
{
    const smtp_reply *rp = smtp_last_reply(s);
    if (tls_check && TLS_BROKEN && (r == SMTP_ERR_TLS || r == SMTP_ERR_CLOSED || r == SMTP_ERR_IO)) {
        cell(check, "n/a\t%s -- %s: %s", TLS_BROKEN, short_result(r), smtp_error_detail(s));
        return;
    }
    char code[16] = "";
    if (rp->code && r == SMTP_ERR_REPLY) snprintf(code, sizeof code, " %d", rp->code);
    cell(check, "FAIL\t%s %s%s\t%s: %s (last reply %d %s %s)", what, short_result(r), code,
         what, smtp_error_detail(s), rp->code, rp->status, rp->text ? rp->text : "");
}

static char TOKEN_BUF[64][80];
static const char *SHORT = "";   /* verify_stored's reason in two words */

static void message_init(smtp_message *m, smtp_header *h, int idx, const char *check, const char *const *to,
                         const char *subject, const char *text)
{
    memset(m, 0, sizeof *m);
    snprintf(TOKEN_BUF[idx], sizeof TOKEN_BUF[idx], "%s-%s-%d", NAME, check, idx);
    h->name = "X-Interop-Token";
    h->value = TOKEN_BUF[idx];
    m->headers = h; m->header_count = 1;
    m->from = FROM;
    m->to = to;
    m->subject = subject;
    m->text = text;
}

/* Checks that message idx was stored as sent: NULL or the reason. */
static const char *verify_stored(int idx, char *why, size_t wn, int *copies, int settle, int wait_ms)
{
    stored st[4];
    const cap *c = cap_find(TOKEN_BUF[idx]);
    size_t ml;
    char *m;
    int n, i;
    const char *bad = NULL;
    if (copies) *copies = 0;
    if (!c) { snprintf(why, wn, "no capture of what was sent"); return why; }
    n = store_find(TOKEN_BUF[idx], st, 4, wait_ms, settle);
    if (copies) *copies = n;
    SHORT = "bytes differ";
    if (n == 0) { SHORT = "not stored"; snprintf(why, wn, "not stored (waited %d ms)", wait_ms); return why; }
    m = cap_message(c, &ml);
    for (i = 0; i < n && !bad; i++) {
        bad = compare(st[i].b, st[i].len, m, ml, why, wn);
        if (bad) logf_("%s: %s differs: %s\n", CHECK, st[i].path, why);
    }
    free(m);
    store_release(st, n);
    return bad;
}

static const char TEXT[] =
    "Hello from the interop matrix.\n"
    ".a line that starts with a dot\n"
    ".\n"
    "..two dots\n"
    "a line with trailing space \n"
    "\n"
    "From the start of a line.\n"
    "end\n";

static smtp_session S;

/* One session in mode m, one message; verifies what was stored. */
static void check_send(const char *check, mode m, unsigned mech, int tls_check)
{
    smtp_config cfg;
    smtp_message msg;
    smtp_header h;
    const char *to[] = { TO1, NULL };
    char why[600], subj[120], tlsv[32];
    smtp_result r;
    CHECK = check;
    if (!wanted(check)) return;
    if (!mode_port(m)) { cell(check, "n/a\tno %s port", mode_name(m)); return; }
    cap_reset();
    cfg_for(&cfg, m);
    if (mech) {
        if (AUTH_PORT) cfg.port = AUTH_PORT;
        cfg.username = USER; cfg.password = PASS;
        cfg.allowed_auth = mech;
        cfg.allow_cleartext_auth = 1;
    }
    snprintf(subj, sizeof subj, "interop %s %s", NAME, check);
    message_init(&msg, &h, 0, check, to, subj, TEXT);
    r = smtp_open(&S, &cfg);
    if (r == SMTP_ERR_AUTH_UNAVAILABLE && mech && !(smtp_supported_auth(&S) & mech)) {
        cell(check, "n/a\tnot offered");
        smtp_close(&S);
        return;
    }
    if (r != SMTP_OK) { cell_err(check, "open", &S, r, tls_check); smtp_close(&S); return; }
    r = smtp_send(&S, &msg);
    if (r != SMTP_OK) { cell_err(check, "send", &S, r, 0); smtp_close(&S); return; }
    snprintf(tlsv, sizeof tlsv, "%s", smtp_tls_version(&S));
    smtp_close(&S);
    if (verify_stored(0, why, sizeof why, NULL, 300, 20000)) { cell(check, "FAIL\t%s\t%s", SHORT, why); return; }
    if (m != M_PLAIN && !tlsv[0]) { cell(check, "FAIL\tno TLS\tthe session had no TLS"); return; }
    cell(check, "ok\t%s%s%s", mode_name(m), m != M_PLAIN ? " " : "", tlsv);
}

static mode auth_mode(void) { return parse_mode(AUTH_MODE); }

static void check_badpass(void)
{
    smtp_config cfg;
    smtp_result r;
    const char *check = "badpass";
    const smtp_reply *rp;
    long long t0;
    CHECK = check;
    if (!wanted(check)) return;
    if (!AUTH_MODE) { cell(check, "n/a\tno AUTH"); return; }
    cap_reset();
    cfg_for(&cfg, auth_mode());
    if (AUTH_PORT) cfg.port = AUTH_PORT;
    cfg.username = USER; cfg.password = "wrong-password";
    cfg.allow_cleartext_auth = 1;
    t0 = now_ms();
    r = smtp_open(&S, &cfg);
    rp = smtp_last_reply(&S);
    if (r != SMTP_ERR_AUTH && TLS_BROKEN && auth_mode() != M_PLAIN &&
        (r == SMTP_ERR_TLS || r == SMTP_ERR_CLOSED || r == SMTP_ERR_IO)) {
        cell_err(check, "open", &S, r, 1);
        smtp_close(&S);
        return;
    }
    if (r == SMTP_ERR_AUTH)
        cell(check, "ok\t%d %s %s (%.1f s)", rp->code, rp->status, rp->text, (double)(now_ms() - t0) / 1000);
    else
        cell(check, "FAIL\t%s, not AUTH\tgot %s: %s (last reply %d %s %s)", short_result(r), smtp_result_str(r),
             smtp_error_detail(&S), rp->code, rp->status, rp->text);
    smtp_close(&S);
}

/* A transient refusal of AUTH (issue 18): 454 (the server's password
   check is down: Dovecot with a passdb that fails temporarily for user
   --tempfail-user) and 538 (encryption required: nodemailer's
   --port-538 refuses AUTH before STARTTLS). Neither says the password is
   wrong, so neither may be SMTP_ERR_AUTH (smtp-send's exit 77, "login
   refused"); the result must be an error that names the reply. */
static void check_auth_transient(const char *check, int code)
{
    smtp_config cfg;
    smtp_result r;
    const smtp_reply *rp;
    char want[8];
    CHECK = check;
    if (!wanted(check)) return;
    if (code == 454 && !TEMPFAIL_USER) { cell(check, "n/a\tno way to make AUTH fail temporarily"); return; }
    if (code == 538 && !PORT_538) { cell(check, "n/a\tno port that answers AUTH with 538"); return; }
    cap_reset();
    if (code == 454) {
        cfg_for(&cfg, auth_mode());
        if (AUTH_PORT) cfg.port = AUTH_PORT;
        cfg.username = TEMPFAIL_USER;
    } else {
        cfg_for(&cfg, M_PLAIN);
        cfg.port = PORT_538;
        cfg.username = USER;
    }
    cfg.password = PASS;
    cfg.allow_cleartext_auth = 1;
    r = smtp_open(&S, &cfg);
    rp = smtp_last_reply(&S);
    snprintf(want, sizeof want, "%d", code);
    if (rp->code != code)
        cell(check, "FAIL\tno %d seen\tthe server answered %d %s %s (%s: %s)", code, rp->code, rp->status, rp->text,
             smtp_result_str(r), smtp_error_detail(&S));
    else if (r == SMTP_ERR_AUTH || r >= SMTP_OK)
        cell(check, "FAIL\t%d as %s\tsmtp_open returned %s for \"%d %s %s\": %s", code, short_result(r),
             smtp_result_str(r), rp->code, rp->status, rp->text, smtp_error_detail(&S));
    else if (!strstr(smtp_error_detail(&S), want))
        cell(check, "FAIL\tdetail\tthe detail does not name the %d reply: %s", code, smtp_error_detail(&S));
    else
        cell(check, "ok\t%s: %s", smtp_result_str(r), smtp_error_detail(&S));
    smtp_close(&S);
}

/* n messages through smtp_send_batch on one session. */
static void check_batch(int n)
{
    smtp_config cfg;
    static smtp_message msgs[20];
    static smtp_header hs[20];
    static smtp_result res[20];
    static char subj[20][100];
    const char *to[] = { TO1, NULL };
    const char *check = "batch20";
    char why[600], first_bad[700] = "";
    int i, ok = 0, stored_ok = 0, copies_total = 0, dup = 0, failed_stored = 0, lost = 0;
    smtp_result r;
    long long t0, vend;
    CHECK = check;
    if (!wanted(check)) return;
    cap_reset();
    cfg_for(&cfg, parse_mode(MAIN_MODE));
    for (i = 0; i < n; i++) {
        snprintf(subj[i], sizeof subj[i], "interop %s batch message %d of %d", NAME, i + 1, n);
        message_init(&msgs[i], &hs[i], i, check, to, subj[i], TEXT);
        res[i] = SMTP_ERR_STATE;
    }
    r = smtp_open(&S, &cfg);
    if (r != SMTP_OK) { cell_err(check, "open", &S, r, 0); smtp_close(&S); return; }
    t0 = now_ms();
    r = smtp_send_batch(&S, msgs, (size_t)n, res);
    t0 = now_ms() - t0;
    logf_("batch: smtp_send_batch returned %s after %lld ms: %s\n", smtp_result_str(r), t0,
          smtp_error_detail(&S));
    smtp_close(&S);
    vend = now_ms() + 20000;   /* 20 s for all of them together */
    for (i = 0; i < n; i++) {
        int copies = 0;
        const char *bad = NULL;
        if (res[i] == SMTP_OK) ok++;
        if (!cap_find(TOKEN_BUF[i])) { snprintf(why, sizeof why, "its data was never sent"); bad = why; }
        else bad = verify_stored(i, why, sizeof why, &copies, 0, (int)(vend > now_ms() ? vend - now_ms() : 0));
        if (copies > 1) dup++;
        if (copies && !bad) stored_ok++;
        if (copies && res[i] != SMTP_OK) failed_stored++;
        if (!copies && res[i] == SMTP_OK) lost++;
        copies_total += copies;
        logf_("batch: message %d: %s; stored %d cop%s%s%s\n", i, smtp_result_str(res[i]), copies,
              copies == 1 ? "y" : "ies", bad ? ": " : "", bad ? bad : "");
        if (!first_bad[0] && (res[i] != SMTP_OK || bad || copies != 1))
            snprintf(first_bad, sizeof first_bad, "message %d: %s, %s", i, short_result(res[i]),
                     bad ? bad : copies > 1 ? "stored more than once" : "but stored");
    }
    if (ok == n && stored_ok == n && !dup)
        cell(check, "ok\t%d messages in %.2f s", n, (double)t0 / 1000);
    else
        cell(check, "FAIL\t%d/%d OK, %d stored\tsmtp_send_batch returned %s after %.1f s: %s. Results OK: %d of %d; "
             "stored: %d (byte-exact %d); reported failed but stored (a resend duplicates): %d; reported OK but "
             "not stored: %d; stored more than once: %d; first problem: %s", ok, n, copies_total, short_result(r),
             (double)t0 / 1000, smtp_error_detail(&S), ok, n, copies_total, stored_ok, failed_stored, lost, dup,
             first_bad);
}

static void check_big(void)
{
    smtp_config cfg;
    smtp_message msg;
    smtp_header h;
    const char *to[] = { TO1, NULL };
    const char *check = "5mb";
    char why[600];
    static char *big;
    size_t n = 0, want = 5u * 1024 * 1024;
    int line = 0;
    smtp_result r;
    long long t0;
    CHECK = check;
    if (!wanted(check)) return;
    if (!big) {
        big = malloc(want + 200);
        while (n < want) {
            n += (size_t)sprintf(big + n, "%s%07d the quick brown fox jumps over the lazy dog 0123456789\n",
                                 line % 100 == 0 ? "." : "", line);
            line++;
        }
    }
    cap_reset();
    cfg_for(&cfg, parse_mode(MAIN_MODE));
    message_init(&msg, &h, 0, check, to, "interop 5 MB", big);
    r = smtp_open(&S, &cfg);
    if (r != SMTP_OK) { cell_err(check, "open", &S, r, 0); smtp_close(&S); return; }
    t0 = now_ms();
    r = smtp_send(&S, &msg);
    t0 = now_ms() - t0;
    if (r != SMTP_OK) { cell_err(check, "send", &S, r, 0); smtp_close(&S); return; }
    smtp_close(&S);
    if (verify_stored(0, why, sizeof why, NULL, 300, 20000)) { cell(check, "FAIL\t%s\t%s", SHORT, why); return; }
    cell(check, "ok\t%zu bytes of text in %.2f s", n, (double)t0 / 1000);
}

/* UTF-8 subject and 8-bit body: the bytes, and what a reader decodes
   (tests/check_message.py). */
static void check_utf8(void)
{
    smtp_config cfg;
    smtp_message msg;
    smtp_header h;
    const char *to[] = { TO1, NULL };
    const char *check = "utf8";
    static const char subject[] = "Gr\xc3\xbc\xc3\x9f" "e \xe2\x80\x93 \xe6\x9d\xb1\xe4\xba\xac \xe2\x9c\x93 "
                                  "na\xc3\xafve caf\xc3\xa9 interop";
    static const char text[] = "\xc3\x9cn\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9 body: na\xc3\xafve caf\xc3\xa9\n"
                               "\xce\x95\xce\xbb\xce\xbb\xce\xb7\xce\xbd\xce\xb9\xce\xba\xce\xac\n"
                               "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\n.\xc3\xa9 dot first\n";
    char why[600], path[1100], cmd[3000];
    stored st[4];
    const cap *c;
    size_t ml;
    char *m;
    int n, rc, eightbit;
    smtp_result r;
    CHECK = check;
    if (!wanted(check)) return;
    cap_reset();
    cfg_for(&cfg, parse_mode(MAIN_MODE));
    message_init(&msg, &h, 0, check, to, subject, text);
    r = smtp_open(&S, &cfg);
    if (r != SMTP_OK) { cell_err(check, "open", &S, r, 0); smtp_close(&S); return; }
    r = smtp_send(&S, &msg);
    eightbit = (smtp_extensions(&S) & SMTP_EXT_8BITMIME) != 0;
    if (r != SMTP_OK) { cell_err(check, "send", &S, r, 0); smtp_close(&S); return; }
    smtp_close(&S);
    c = cap_find(TOKEN_BUF[0]);
    if (!c) { cell(check, "FAIL\tno capture\t"); return; }
    n = store_find(TOKEN_BUF[0], st, 4, 20000, 300);
    if (!n) { cell(check, "FAIL\tnot stored\tnot stored (waited 20000 ms)"); return; }
    m = cap_message(c, &ml);
    if (compare(st[0].b, st[0].len, m, ml, why, sizeof why)) {
        free(m); store_release(st, n);
        cell(check, "FAIL\tbytes differ\t%s", why); return;
    }
    if (eightbit != (strstr(m, "Content-Transfer-Encoding: 8bit") != NULL)) {
        free(m); store_release(st, n);
        cell(check, "FAIL\ttransfer encoding\t8BITMIME %s but the body went %s", eightbit ? "offered" : "not offered",
             eightbit ? "encoded" : "8bit");
        return;
    }
    free(m);
    /* what a reader sees: tests/check_message.py */
    snprintf(path, sizeof path, "%s/.expected-text", STORE);
    {
        FILE *f = fopen(path, "wb");
        if (f) { fwrite(text, 1, strlen(text), f); fclose(f); }
    }
    setenv("CHECK_SUBJECT", subject, 1);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/check_message.py '%s' '%s' >> '%s' 2>&1", st[0].path, path,
             LOGFILE ? LOGFILE : "/dev/null");
    rc = system(cmd);
    unlink(path);
    store_release(st, n);
    if (!WIFEXITED(rc) || WEXITSTATUS(rc) != 0) {
        cell(check, "FAIL\treader disagrees\ttests/check_message.py: subject or text decoded differently (see the log)");
        return;
    }
    cell(check, "ok\tbody %s", eightbit ? "8bit (BODY=8BITMIME)" : "quoted-printable (no 8BITMIME)");
}

static void check_refused(void)
{
    smtp_config cfg;
    smtp_message msg;
    smtp_header h;
    const char *check = "refused";
    const char *to[] = { TO1, NULL, NULL, NULL };
    smtp_rcpt_result rr[3];
    char why[600];
    smtp_result r;
    CHECK = check;
    if (!wanted(check)) return;
    if (!REFUSED) { cell(check, "n/a\tthe server accepts every recipient"); return; }
    to[1] = REFUSED; to[2] = TO2;
    cap_reset();
    cfg_for(&cfg, parse_mode(MAIN_MODE));
    message_init(&msg, &h, 0, check, to, "interop one refused of three", TEXT);
    memset(rr, 0, sizeof rr);
    msg.results = rr; msg.results_cap = 3;
    r = smtp_open(&S, &cfg);
    if (r != SMTP_OK) { cell_err(check, "open", &S, r, 0); smtp_close(&S); return; }
    r = smtp_send(&S, &msg);
    logf_("refused: %s: %s\n", smtp_result_str(r), smtp_error_detail(&S));
    smtp_close(&S);
    if (r != SMTP_PARTIAL) {
        cell(check, "FAIL\t%s, not PARTIAL\tsmtp_send returned %s: %s", short_result(r), smtp_result_str(r),
             smtp_error_detail(&S));
        return;
    }
    if (!rr[0].accepted || rr[1].accepted || !rr[2].accepted || rr[1].code / 100 != 5 || rr[0].code / 100 != 2 ||
        rr[2].code / 100 != 2 || strcmp(rr[1].address, REFUSED)) {
        cell(check, "FAIL\tper-recipient results\t[%s %d %d] [%s %d %d %s] [%s %d %d]", rr[0].address, rr[0].accepted,
             rr[0].code, rr[1].address, rr[1].accepted, rr[1].code, rr[1].text, rr[2].address, rr[2].accepted,
             rr[2].code);
        return;
    }
    if (verify_stored(0, why, sizeof why, NULL, 300, 20000)) { cell(check, "FAIL\t%s\t%s", SHORT, why); return; }
    cell(check, "ok\t%d %s %s", rr[1].code, rr[1].status, rr[1].text);
}

/* Every recipient refused (two): SMTP_ERR_REPLY naming the refusals, both
   results 5xx, nothing stored. (chasquid answers the DATA that follows two
   refused RCPTs with "421 Too many errors": the refusals must still be the
   result, not the 421.) */
static void check_all_refused(void)
{
    smtp_config cfg;
    smtp_message msg;
    smtp_header h;
    const char *check = "all-refused";
    char r2[300];
    const char *to[] = { NULL, NULL, NULL };
    smtp_rcpt_result rr[2];
    stored st[2];
    const char *at;
    smtp_result r;
    int n;
    CHECK = check;
    if (!wanted(check)) return;
    if (!REFUSED || !(at = strchr(REFUSED, '@'))) { cell(check, "n/a\tthe server accepts every recipient"); return; }
    snprintf(r2, sizeof r2, "%.*s2%s", (int)(at - REFUSED), REFUSED, at);
    to[0] = REFUSED; to[1] = r2;
    cap_reset();
    cfg_for(&cfg, parse_mode(MAIN_MODE));
    message_init(&msg, &h, 0, check, to, "interop all recipients refused", TEXT);
    memset(rr, 0, sizeof rr);
    msg.results = rr; msg.results_cap = 2;
    r = smtp_open(&S, &cfg);
    if (r != SMTP_OK) { cell_err(check, "open", &S, r, 0); smtp_close(&S); return; }
    r = smtp_send(&S, &msg);
    logf_("all-refused: %s: %s\n", smtp_result_str(r), smtp_error_detail(&S));
    if (r != SMTP_ERR_REPLY) {
        cell(check, "FAIL\t%s, not REPLY\tsmtp_send returned %s: %s; results [%s %d %d %s] [%s %d %d %s]",
             short_result(r), smtp_result_str(r), smtp_error_detail(&S), rr[0].address, rr[0].accepted, rr[0].code,
             rr[0].text, rr[1].address, rr[1].accepted, rr[1].code, rr[1].text);
        smtp_close(&S);
        return;
    }
    smtp_close(&S);
    if (rr[0].accepted || rr[1].accepted || rr[0].code / 100 != 5 || rr[1].code / 100 != 5) {
        cell(check, "FAIL\tper-recipient results\t[%s %d %d %s] [%s %d %d %s]", rr[0].address, rr[0].accepted,
             rr[0].code, rr[0].text, rr[1].address, rr[1].accepted, rr[1].code, rr[1].text);
        return;
    }
    n = store_find(TOKEN_BUF[0], st, 2, 1000, 0);
    store_release(st, n);
    if (n) { cell(check, "FAIL\tstored\tthe message was stored although every recipient was refused"); return; }
    cell(check, "ok\t%d %s %s", rr[0].code, rr[0].status, rr[0].text);
}

/* AUTO on a port with the default timeouts: the time to a usable session. */
static void check_auto(const char *check, mode expect)
{
    smtp_config cfg;
    smtp_result r;
    long long t0, ms;
    smtp_security used;
    CHECK = check;
    if (!wanted(check)) return;
    if (!mode_port(expect)) { cell(check, "n/a\tno %s port", mode_name(expect)); return; }
    cap_reset();
    memset(&cfg, 0, sizeof cfg);
    cfg.host = "127.0.0.1";
    cfg.port = mode_port(expect);
    cfg.security = SMTP_SECURITY_AUTO;   /* every timeout at its default */
    cfg.helo_name = "client.example.org";
    cfg.ca_file = CA;
    cfg.trace = trace;
    t0 = now_ms();
    r = smtp_open(&S, &cfg);
    ms = now_ms() - t0;
    used = smtp_security_used(&S);
    printf("TIME\t%s\t%s\t%lld\t%s\n", NAME, check, ms,
           r != SMTP_OK ? smtp_result_str(r) : used == SMTP_SECURITY_IMPLICIT ? "implicit" : "starttls");
    if (r != SMTP_OK && TLS_BROKEN) {   /* whatever the last attempt's error was */
        cell(check, "n/a\t%s -- %s: %s", TLS_BROKEN, short_result(r), smtp_error_detail(&S));
        smtp_close(&S);
        return;
    }
    if (r != SMTP_OK) { cell_err(check, "open", &S, r, 1); smtp_close(&S); return; }
    smtp_close(&S);
    if ((expect == M_IMPLICIT) != (used == SMTP_SECURITY_IMPLICIT))
        cell(check, "FAIL\twrong mode\tAUTO on the %s port ended in %s", mode_name(expect),
             used == SMTP_SECURITY_IMPLICIT ? "implicit TLS" : "STARTTLS");
    else if (ms > AUTO_LIMIT_MS)
        cell(check, "FAIL\t%.1f s\tAUTO took %lld ms to a %s session (limit %d ms)", (double)ms / 1000, ms,
             mode_name(expect), AUTO_LIMIT_MS);
    else
        cell(check, "ok\t%lld ms", ms);
}

static void usage(void)
{
    fprintf(stderr, "usage: matrix --name N --store DIR [--kind files|maildir|aiosmtpd] [--plain P] [--starttls P]\n"
            "  [--implicit P] [--ca FILE] [--strip H1,H2] [--lf] [--refused ADDR] [--auth-mode plain|starttls|implicit]\n"
            "  [--auth-port P] [--port-538 P] [--tempfail-user U] [--login plain,starttls,implicit] [--user U --pass P] [--tls-broken REASON] [--main MODE]\n"
            "  [--from A] [--to1 A] [--to2 A] [--only c1,c2] [--log FILE] [--auto-limit MS]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int i;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(s) (!strcmp(a, s) && v && ++i)
        if (OPT("--name")) NAME = v;
        else if (OPT("--store")) STORE = v;
        else if (OPT("--kind")) KIND = v;
        else if (OPT("--plain")) PORT_PLAIN = atoi(v);
        else if (OPT("--starttls")) PORT_STARTTLS = atoi(v);
        else if (OPT("--implicit")) PORT_IMPLICIT = atoi(v);
        else if (OPT("--ca")) CA = v;
        else if (OPT("--strip")) STRIP = v;
        else if (!strcmp(a, "--lf")) LF = 1;
        else if (OPT("--refused")) REFUSED = v;
        else if (OPT("--auth-mode")) AUTH_MODE = v;
        else if (OPT("--main")) MAIN_MODE = v;
        else if (OPT("--auth-port")) AUTH_PORT = atoi(v);
        else if (OPT("--port-538")) PORT_538 = atoi(v);
        else if (OPT("--tempfail-user")) TEMPFAIL_USER = v;
        else if (OPT("--login")) {
            LOGIN_PLAIN = strstr(v, "plain") != NULL;
            LOGIN_STARTTLS = strstr(v, "starttls") != NULL;
            LOGIN_IMPLICIT = strstr(v, "implicit") != NULL;
        }
        else if (OPT("--user")) USER = v;
        else if (OPT("--pass")) PASS = v;
        else if (OPT("--tls-broken")) TLS_BROKEN = v;
        else if (OPT("--from")) FROM = v;
        else if (OPT("--to1")) TO1 = v;
        else if (OPT("--to2")) TO2 = v;
        else if (OPT("--only")) ONLY = v;
        else if (OPT("--log")) LOGFILE = v;
        else if (OPT("--auto-limit")) AUTO_LIMIT_MS = atoi(v);
        else usage();
#undef OPT
    }
    if (!STORE) usage();
    if (LOGFILE && !(LOG = fopen(LOGFILE, "a"))) { perror(LOGFILE); return 2; }

    check_send("plain", M_PLAIN, 0, 0);
    check_send("starttls", M_STARTTLS, 0, 1);
    check_send("implicit", M_IMPLICIT, 0, 1);
    if (AUTH_MODE) {
        check_send("auth-plain", auth_mode(), SMTP_AUTH_PLAIN, auth_mode() != M_PLAIN);
        check_send("auth-login", auth_mode(), SMTP_AUTH_LOGIN, auth_mode() != M_PLAIN);
        check_send("auth-cram", auth_mode(), SMTP_AUTH_CRAM_MD5, auth_mode() != M_PLAIN);
    } else {
        CHECK = "auth";
        if (wanted("auth-plain")) cell("auth-plain", "n/a\tno AUTH");
        if (wanted("auth-login")) cell("auth-login", "n/a\tno AUTH");
        if (wanted("auth-cram")) cell("auth-cram", "n/a\tno AUTH");
    }
    check_badpass();
    check_auth_transient("auth-454", 454);
    check_auth_transient("auth-538", 538);
    check_batch(20);
    check_big();
    check_utf8();
    check_refused();
    check_all_refused();
    check_auto("auto-implicit", M_IMPLICIT);
    check_auto("auto-starttls", M_STARTTLS);
    cap_reset();
    if (LOG) fclose(LOG);
    return failures ? 1 : 0;
}
