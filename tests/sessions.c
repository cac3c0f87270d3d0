/* sessions.c - sessions that last (issue 16), against real servers on
   loopback started by tests/run-integration.sh: reconnecting when the
   server dropped the connection (Postfix with smtpd_timeout=3s, aiosmtpd
   closing an idle connection without a word, hostile.py's 421 at MAIL
   FROM), never resending a message whose data went out, OAuth2 tokens that
   renew (aiosmtpd reading its accepted token from a file), transient or
   permanent results, pacing (messages per connection and per second), and
   LMTP against Dovecot's lmtpd. Every outcome is read back from the server:
   its spool, its connection and AUTH logs, the mailboxes. */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include "test.h"
#include "itest.h"
#include <ctype.h>

static char STAMP[32];   /* makes this run's subjects and texts unique */
static int CLOSED_PORT;  /* nothing listens there (tests/run-integration.sh keeps it so) */

/* ---- helpers ----------------------------------------------------------- */

/* One row of the table (scenario, what the server logged, what the
   library returned), printed for the notes. */
static void row(const char *scenario, const char *server, const char *library)
{
    printf("  | %s | %s | %s |\n", scenario, server, library);
}

/* Batch results start as this, so that one the library left unwritten fails. */
#define UNSET ((smtp_result)12345)
static void unset(smtp_result *r, size_t n) { while (n--) r[n] = UNSET; }

/* Lines of a file that hold every one of the (up to two) needles, from line
   `from` on (0-based); the file's line count into *lines when asked. */
static int count_lines(const char *path, int from, const char *a, const char *b, int *lines)
{
    char *t = slurp(path, NULL), *p, *nl;
    int n = 0, i = 0;
    if (lines) *lines = 0;
    if (!t) return 0;
    for (p = t; *p; p = nl ? nl + 1 : p + strlen(p), i++) {
        nl = strchr(p, '\n');
        if (nl) *nl = 0;
        if (i >= from && strstr(p, a) && (!b || strstr(p, b))) n++;
        if (!nl) { i++; break; }
    }
    if (lines) *lines = i;
    free(t);
    return n;
}

static int file_lines(const char *path)
{
    int n;
    count_lines(path, 0, "", NULL, &n);
    return n;
}

static const char *spool_file(const char *spool, const char *name)
{
    static char p[4][600];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s/%s", RUNDIR, spool, name);
    return p[k];
}

/* aiosmtpd's connections.log: connections opened so far */
static int aio_opens(const char *spool)
{
    return count_lines(spool_file(spool, "connections.log"), 0, "\"event\": \"open\"", NULL, NULL);
}

/* waits until the file has at least want lines (CALM_MS at most: the
   server may write its log line after its reply reached us); the count */
static int wait_lines(const char *path, int want)
{
    long long end = now_ms() + CALM_MS;
    while (file_lines(path) < want && now_ms() < end) usleep(20000);
    return file_lines(path);
}

/* How many of the aiosmtpd messages first..last (1-based) hold needle. */
static int aio_holding(const char *spool, int first, int last, const char *needle)
{
    int i, n = 0, have = aio_count(spool);
    for (i = first; i <= last && i <= have; i++) {   /* never wait for a message that is not there */
        size_t len;
        char *m = aio_msg(spool, i, "eml", &len);
        if (m && strstr(m, needle)) n++;
        free(m);
    }
    return n;
}

/* The client port that sent aiosmtpd message i (from its .json), or -1. */
static int aio_peer_port(const char *spool, int i)
{
    size_t len;
    char *j = aio_msg(spool, i, "json", &len), *p;
    int port = -1;
    if (j && (p = strstr(j, "\"peer\":[\"127.0.0.1\",")) != NULL) port = atoi(p + strlen("\"peer\":[\"127.0.0.1\","));
    free(j);
    return port;
}

/* hostile.py's scenario files */
static const char *hostile_file(const char *name)
{
    static char p[2][600];
    static int k;
    k = (k + 1) % 2;
    snprintf(p[k], sizeof p[k], "%s/hostile/%s", RUNDIR, name);
    return p[k];
}

static int hostile_opens(const char *scenario)
{
    char sc[100];
    snprintf(sc, sizeof sc, "\"scenario\": \"%s\"", scenario);
    return count_lines(hostile_file("events.log"), 0, sc, "\"event\": \"open\"", NULL);
}

/* Lines of <scenario>.messages whose subject is exactly subject (and, when
   conn_out is given, the connection number of the last of them). */
static int hostile_recorded(const char *scenario, const char *subject, int *conn_out)
{
    char path[300], needle[300], *t, *p;
    int n = 0;
    snprintf(path, sizeof path, "%s.messages", scenario);
    snprintf(needle, sizeof needle, "\"subject\": \"%s\"", subject);
    t = slurp(hostile_file(path), NULL);
    for (p = t; p && (p = strstr(p, needle)) != NULL; p++) {
        char *line = p;
        while (line > t && line[-1] != '\n') line--;
        if (conn_out && !strncmp(line, "{\"conn\": ", 9)) *conn_out = atoi(line + 9);
        n++;
    }
    free(t);
    return n;
}

/* Postfix deliveries (PF_SHORT): .eml files holding needle */
static int pf_count(const char *needle)
{
    char dir[512], path[800];
    DIR *d;
    struct dirent *e;
    int n = 0;
    snprintf(dir, sizeof dir, "%s/postfix/mail", RUNDIR);
    d = opendir(dir);
    while (d && (e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        char *eml;
        if (l <= 4 || strcmp(e->d_name + l - 4, ".eml") != 0 || e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        eml = slurp(path, NULL);
        if (eml && strstr(eml, needle)) n++;
        free(eml);
    }
    if (d) closedir(d);
    return n;
}

/* Lines of Postfix's maillog holding needle */
static int maillog_count(const char *needle)
{
    char path[600];
    snprintf(path, sizeof path, "%s/postfix/maillog", RUNDIR);
    return count_lines(path, 0, needle, NULL, NULL);
}

/* Dovecot maildir: messages of user (new/ and cur/) holding needle */
static int maildir_count(const char *user, const char *needle)
{
    static const char *sub[] = { "new", "cur" };
    char dir[512], path[900];
    int n = 0, k;
    for (k = 0; k < 2; k++) {
        DIR *d;
        struct dirent *e;
        snprintf(dir, sizeof dir, "%s/dovecot/mail/%s/%s", RUNDIR, user, sub[k]);
        d = opendir(dir);
        while (d && (e = readdir(d)) != NULL) {
            char *m;
            if (e->d_name[0] == '.') continue;
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            m = slurp(path, NULL);
            if (m && strstr(m, needle)) n++;
            free(m);
        }
        if (d) closedir(d);
    }
    return n;
}

static void msg_init(smtp_message *m, const char **to, const char *subject, const char *text)
{
    memset(m, 0, sizeof *m);
    m->from = "alice@example.com";
    m->to = to;
    m->subject = subject;
    m->text = text;
}

static smtp_result send_subject(const char *subject, const char *text)
{
    smtp_message m;
    const char *to[2] = { "bob@example.com", NULL };
    msg_init(&m, to, subject, text);
    return smtp_send(&S, &m);
}

/* The trace of a session, kept whole (the token checks look at all of it). */
static char TRACE[1 << 16];
static size_t TRACE_LEN;
static void trace_keep(void *user, smtp_trace_dir dir, const char *data, size_t len)
{
    static const char tag[] = { '>', '<', '=', '#' };
    (void)user;
    if (TRACE_LEN + len + 4 >= sizeof TRACE) return;
    TRACE[TRACE_LEN++] = tag[dir & 3];
    TRACE[TRACE_LEN++] = ' ';            /* so a line that is one base64 word stays one word */
    memcpy(TRACE + TRACE_LEN, data, len);
    TRACE_LEN += len;
    TRACE[TRACE_LEN++] = '\n';
    TRACE[TRACE_LEN] = 0;
}

static void trace_reset(smtp_config *c)
{
    TRACE_LEN = 0; TRACE[0] = 0;
    c->trace = trace_keep;
    c->trace_user = NULL;
}

/* The library's notes (trace lines of SMTP_TRACE_INFO) that mention word,
   case-insensitively. */
static int trace_notes(const char *word)
{
    char *p = TRACE, *nl;
    int n = 0;
    for (; *p; p = nl + 1) {
        char line[1024];
        size_t i, l;
        nl = strchr(p, '\n');
        if (!nl) break;
        if (*p != '#') continue;
        l = (size_t)(nl - p) < sizeof line - 1 ? (size_t)(nl - p) : sizeof line - 1;
        for (i = 0; i < l; i++) line[i] = (char)tolower((unsigned char)p[i]);
        line[l] = 0;
        if (strstr(line, word)) n++;
    }
    return n;
}

/* base64 decoding of one word (tolerant: stops at the first non-base64
   byte); the trace check decodes every word it sees so that a token cannot
   hide in an AUTH line. */
static size_t b64_decode(const char *in, size_t n, char *out)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned acc = 0;
    int bits = 0;
    size_t i, o = 0;
    for (i = 0; i < n; i++) {
        const char *c = in[i] ? strchr(al, in[i]) : NULL;
        if (!c) break;
        acc = (acc << 6) | (unsigned)(c - al);
        bits += 6;
        if (bits >= 8) { bits -= 8; out[o++] = (char)((acc >> bits) & 0xff); }
    }
    return o;
}

/* 1 when the trace holds token, as it is or base64-encoded in any word */
static int trace_has_secret(const char *token)
{
    char *p = TRACE;
    if (strstr(TRACE, token)) return 1;
    while (*p) {
        size_t n = strcspn(p, " \n");
        if (n >= 8) {
            char dec[4096];
            size_t d = b64_decode(p, n < 5000 ? n : 5000, dec);
            dec[d] = 0;
            if (d && memmem(dec, d, token, strlen(token))) return 1;
        }
        p += n;
        if (*p) p++;
    }
    return 0;
}

/* ---- reconnect after the server dropped an idle session --------------- */

/* Postfix (smtpd_timeout=3s) answers the idle session with "421 4.4.2 ...
   Error: timeout exceeded" and closes it: the next send reads that 421 at
   MAIL FROM, reopens, and delivers once. */
TEST(postfix_idle_timeout_reconnects_and_delivers_once)
{
    smtp_config cfg;
    char text[160], sv[200], lib[200];
    smtp_result r;
    int rc, timeouts = maillog_count("timeout after");
    snprintf(text, sizeof text, "after Postfix's idle timeout %s", STAMP);
    cfg_plain(&cfg, PF_SHORT);
    trace_reset(&cfg);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(smtp_reconnects(&S), 0);
    usleep(4500 * 1000);                 /* past smtpd_timeout (3 s) */
    r = send_one(text);
    CHECK_EQ_INT(r, SMTP_OK);
    rc = smtp_reconnects(&S);
    CHECK_EQ_INT(rc, 1);
    CHECK(trace_notes("reconnect") >= 1);    /* the trace says so */
    CHECK_EQ_INT(smtp_close(&S), SMTP_OK);
    {
        char path[700];
        CHECK(pf_find(text, path, sizeof path));
    }
    usleep(1000 * 1000);                 /* a second copy would be delivered by now */
    CHECK_EQ_INT(pf_count(text), 1);
    snprintf(sv, sizeof sv, "maillog: %d idle timeout(s); delivered %d time(s)",
             maillog_count("timeout after") - timeouts, pf_count(text));
    snprintf(lib, sizeof lib, "smtp_send %s, smtp_reconnects %d", smtp_result_str(r), rc);
    row("Postfix smtpd_timeout=3s, send after 4.5 s", sv, lib);
}

/* The same with no_reconnect: the 421 is the send's error (transient), and
   nothing is delivered: a prompt message sent after it arrives, this one
   never does. */
TEST(postfix_idle_timeout_no_reconnect_is_the_error)
{
    smtp_config cfg;
    char text[160], marker[160], path[700];
    smtp_result r;
    int transient, timeouts = maillog_count("timeout after");
    snprintf(text, sizeof text, "never after the idle timeout %s", STAMP);
    snprintf(marker, sizeof marker, "prompt marker %s", STAMP);
    cfg_plain(&cfg, PF_SHORT);
    cfg.no_reconnect = 1;
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    usleep(4500 * 1000);
    r = send_one(text);
    CHECK_EQ_INT(r, SMTP_ERR_CLOSED);
    CHECK_EQ_INT(smtp_last_reply(&S)->code, 421);
    CHECK_EQ_STR(smtp_last_reply(&S)->status, "4.4.2");
    transient = smtp_is_transient(&S, r);
    CHECK_EQ_INT(transient, 1);
    CHECK_EQ_INT(smtp_reconnects(&S), 0);
    CHECK_EQ_INT(send_one(text), SMTP_ERR_CLOSED);   /* still ended: no I/O, no reopening */
    CHECK_EQ_INT(smtp_reconnects(&S), 0);
    smtp_close(&S);
    cfg.no_reconnect = 0;
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(send_one(marker), SMTP_OK);
    smtp_close(&S);
    CHECK(pf_find(marker, path, sizeof path));
    usleep(1000 * 1000);
    CHECK_EQ_INT(pf_count(text), 0);
    {
        char sv[200], lib[200];
        snprintf(sv, sizeof sv, "maillog: %d idle timeout(s); delivered %d time(s)",
                 maillog_count("timeout after") - timeouts, pf_count(text));
        snprintf(lib, sizeof lib, "%s, transient %d", smtp_result_str(r), transient);
        row("the same with no_reconnect", sv, lib);
    }
}

/* aiosmtpd (--timeout 2) closes an idle connection without a word (the
   lettre#743 case): smtp_send and smtp_send_batch reopen and go on. */
TEST(silent_close_reconnects_send_and_batch)
{
    smtp_config cfg;
    smtp_message m[3];
    smtp_result res[3];
    const char *to[2] = { "bob@example.com", NULL };
    char text[4][120];
    smtp_result r;
    int opens = aio_opens("aioidle"), before = aio_count("aioidle"), i, rc;
    for (i = 0; i < 4; i++) snprintf(text[i], sizeof text[i], "after a silent close %d %s", i, STAMP);
    cfg_plain(&cfg, AIOIDLE);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    usleep(3000 * 1000);
    r = send_subject("silent close", text[0]);
    CHECK_EQ_INT(r, SMTP_OK);
    CHECK_EQ_INT(smtp_reconnects(&S), 1);
    usleep(3000 * 1000);
    for (i = 0; i < 3; i++) msg_init(&m[i], to, "silent close batch", text[i + 1]);
    unset(res, 3);
    CHECK_EQ_INT(smtp_send_batch(&S, m, 3, res), SMTP_OK);
    for (i = 0; i < 3; i++) CHECK_EQ_INT(res[i], SMTP_OK);
    rc = smtp_reconnects(&S);
    CHECK_EQ_INT(rc, 2);
    smtp_close(&S);
    CHECK_EQ_INT(aio_wait_count("aioidle", before + 4), before + 4);
    for (i = 0; i < 4; i++) CHECK_EQ_INT(aio_holding("aioidle", before + 1, before + 4, text[i]), 1);
    CHECK_EQ_INT(aio_opens("aioidle") - opens, 3);
    {
        char sv[200], lib[200];
        snprintf(sv, sizeof sv, "%d connections, %d messages", aio_opens("aioidle") - opens, aio_count("aioidle") - before);
        snprintf(lib, sizeof lib, "send %s; batch of 3 %s %s %s; smtp_reconnects %d", smtp_result_str(r),
                 smtp_result_str(res[0]), smtp_result_str(res[1]), smtp_result_str(res[2]), rc);
        row("aiosmtpd --timeout 2, send and batch after 3 s", sv, lib);
    }
}

/* idle_check_ms: a session idle longer than that sends NOOP before the next
   MAIL (commands.log shows it); -1 never; the default (30 s) not after 2.5 s. */
TEST(idle_check_sends_noop_first)
{
    smtp_config cfg;
    char *log, *noop, *mail;
    int noops;
    cfg_plain(&cfg, AIOCOUNT);
    cfg.idle_check_ms = 1500;     /* far above the time between two sends, even on a busy machine */
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(send_subject("idle check", "first, at once"), SMTP_OK);
    noops = commands_from("aiocount", 0, "NOOP");
    CHECK_EQ_INT(send_subject("idle check", "second, at once: no NOOP"), SMTP_OK);
    CHECK_EQ_INT(commands_from("aiocount", 0, "NOOP"), noops);
    usleep(2500 * 1000);
    CHECK_EQ_INT(send_subject("idle check", "third, after 2.5 s idle"), SMTP_OK);
    CHECK_EQ_INT(commands_from("aiocount", 0, "NOOP"), noops + 1);
    CHECK_EQ_INT(smtp_reconnects(&S), 0);    /* the server answered the NOOP */
    smtp_close(&S);
    /* the NOOP came right before that MAIL */
    log = slurp(spool_file("aiocount", "commands.log"), NULL);
    noop = log ? strstr(log, "\"line\": \"NOOP") : NULL;
    while (noop && strstr(noop + 1, "\"line\": \"NOOP")) noop = strstr(noop + 1, "\"line\": \"NOOP");
    mail = noop ? strstr(noop, "\"line\": \"") : NULL;
    mail = mail ? strstr(mail + 1, "\"line\": \"") : NULL;
    CHECK(mail && !strncmp(mail, "\"line\": \"MAIL FROM:", 19));
    free(log);
    /* -1: never; 0: 30 s */
    cfg.idle_check_ms = -1;
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    usleep(2500 * 1000);
    CHECK_EQ_INT(send_subject("idle check", "idle_check_ms -1"), SMTP_OK);
    smtp_close(&S);
    cfg.idle_check_ms = 0;
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    usleep(2500 * 1000);
    CHECK_EQ_INT(send_subject("idle check", "idle_check_ms 0"), SMTP_OK);
    smtp_close(&S);
    CHECK_EQ_INT(commands_from("aiocount", 0, "NOOP"), noops + 1);
}

/* The NOOP meets a connection aiosmtpd already closed: reopened, sent once. */
TEST(idle_check_finds_the_closed_connection)
{
    smtp_config cfg;
    char text[120];
    int before = aio_count("aioidle"), opens = aio_opens("aioidle");
    snprintf(text, sizeof text, "NOOP found it closed %s", STAMP);
    cfg_plain(&cfg, AIOIDLE);
    cfg.idle_check_ms = 1000;
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    usleep(3000 * 1000);
    CHECK_EQ_INT(send_subject("noop closed", text), SMTP_OK);
    CHECK_EQ_INT(smtp_reconnects(&S), 1);
    smtp_close(&S);
    CHECK_EQ_INT(aio_wait_count("aioidle", before + 1), before + 1);
    CHECK_EQ_INT(aio_holding("aioidle", before + 1, before + 1, text), 1);
    CHECK_EQ_INT(aio_opens("aioidle") - opens, 2);
}

/* ---- hostile.py: 421 at MAIL FROM, and a close before the final reply -- */

/* Scenario 23 takes two messages per connection, then answers MAIL FROM
   with 421 and closes: a batch of 5 completes on 3 connections, each
   message recorded exactly once. */
TEST(mail_421_batch_completes_on_new_connections)
{
    smtp_config cfg;
    smtp_message m[5];
    smtp_result res[5];
    const char *to[2] = { "bob@example.com", NULL };
    char subj[5][100];
    int i, rc, opens = hostile_opens("mail421_after_2"), conn[5] = { 0 };
    for (i = 0; i < 5; i++) {
        snprintf(subj[i], sizeof subj[i], "m421 batch %d %s", i, STAMP);
        msg_init(&m[i], to, subj[i], "one of five");
    }
    cfg_plain(&cfg, hport(23));
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    unset(res, 5);
    CHECK_EQ_INT(smtp_send_batch(&S, m, 5, res), SMTP_OK);
    for (i = 0; i < 5; i++) CHECK_EQ_INT(res[i], SMTP_OK);
    rc = smtp_reconnects(&S);
    CHECK_EQ_INT(rc, 2);
    smtp_close(&S);
    for (i = 0; i < 5; i++) CHECK_EQ_INT(hostile_recorded("mail421_after_2", subj[i], &conn[i]), 1);
    CHECK(conn[0] == conn[1] && conn[2] == conn[3] && conn[0] != conn[2] && conn[4] != conn[2] && conn[4] != conn[0]);
    CHECK_EQ_INT(hostile_opens("mail421_after_2") - opens, 3);
    {
        char sv[200], lib[200];
        snprintf(sv, sizeof sv, "%d connections; the 5 messages recorded on connections %d %d %d %d %d",
                 hostile_opens("mail421_after_2") - opens, conn[0], conn[1], conn[2], conn[3], conn[4]);
        snprintf(lib, sizeof lib, "batch of 5: %s %s %s %s %s, smtp_reconnects %d", smtp_result_str(res[0]),
                 smtp_result_str(res[1]), smtp_result_str(res[2]), smtp_result_str(res[3]), smtp_result_str(res[4]), rc);
        row("hostile mail421_after_2, batch of 5", sv, lib);
    }
}

/* The same with smtp_send one message at a time. */
TEST(mail_421_send_goes_on)
{
    smtp_config cfg;
    char subj[3][100];
    int i, opens = hostile_opens("mail421_after_2");
    cfg_plain(&cfg, hport(23));
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    for (i = 0; i < 3; i++) {
        snprintf(subj[i], sizeof subj[i], "m421 send %d %s", i, STAMP);
        CHECK_EQ_INT(send_subject(subj[i], "one of three"), SMTP_OK);
    }
    CHECK_EQ_INT(smtp_reconnects(&S), 1);
    smtp_close(&S);
    for (i = 0; i < 3; i++) CHECK_EQ_INT(hostile_recorded("mail421_after_2", subj[i], NULL), 1);
    CHECK_EQ_INT(hostile_opens("mail421_after_2") - opens, 2);
}

/* With no_reconnect the 421 ends the batch: two delivered, the third the
   (transient) error, nothing more reaches the server. */
TEST(mail_421_no_reconnect_ends_the_batch)
{
    smtp_config cfg;
    smtp_message m[4];
    smtp_result res[4];
    const char *to[2] = { "bob@example.com", NULL };
    char subj[4][100];
    int i, opens = hostile_opens("mail421_after_2");
    for (i = 0; i < 4; i++) {
        snprintf(subj[i], sizeof subj[i], "m421 noreconnect %d %s", i, STAMP);
        msg_init(&m[i], to, subj[i], "one of four");
    }
    cfg_plain(&cfg, hport(23));
    cfg.no_reconnect = 1;
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    unset(res, 4);
    CHECK_EQ_INT(smtp_send_batch(&S, m, 4, res), SMTP_ERR_CLOSED);
    CHECK_EQ_INT(res[0], SMTP_OK);
    CHECK_EQ_INT(res[1], SMTP_OK);
    CHECK_EQ_INT(res[2], SMTP_ERR_CLOSED);
    CHECK_EQ_INT(res[3], SMTP_ERR_CLOSED);
    CHECK_EQ_INT(smtp_last_reply(&S)->code, 421);
    CHECK_EQ_INT(smtp_is_transient(&S, res[2]), 1);
    CHECK_EQ_INT(smtp_reconnects(&S), 0);
    smtp_close(&S);
    CHECK_EQ_INT(hostile_recorded("mail421_after_2", subj[0], NULL), 1);
    CHECK_EQ_INT(hostile_recorded("mail421_after_2", subj[1], NULL), 1);
    CHECK_EQ_INT(hostile_recorded("mail421_after_2", subj[2], NULL), 0);
    CHECK_EQ_INT(hostile_recorded("mail421_after_2", subj[3], NULL), 0);
    CHECK_EQ_INT(hostile_opens("mail421_after_2") - opens, 1);
}

/* Scenario 24 takes a "vanish" message and closes before its final reply:
   the result is SMTP_ERR_UNKNOWN_OUTCOME and it is never sent again (no
   second connection for it, one copy in the server's record). */
TEST(close_before_final_reply_never_resent)
{
    smtp_config cfg;
    char subj[100];
    int opens = hostile_opens("vanish_after_data");
    smtp_result r;
    snprintf(subj, sizeof subj, "vanish alone %s", STAMP);
    cfg_plain(&cfg, hport(24));
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    r = send_subject(subj, "its data arrives, its reply never comes");
    CHECK_EQ_INT(r, SMTP_ERR_UNKNOWN_OUTCOME);
    CHECK_EQ_INT(smtp_reconnects(&S), 0);
    smtp_close(&S);
    usleep(500 * 1000);
    CHECK_EQ_INT(hostile_recorded("vanish_after_data", subj, NULL), 1);
    CHECK_EQ_INT(hostile_opens("vanish_after_data") - opens, 1);
    {
        char sv[200];
        snprintf(sv, sizeof sv, "message data recorded %d time(s), no reply, close; %d connection(s)",
                 hostile_recorded("vanish_after_data", subj, NULL), hostile_opens("vanish_after_data") - opens);
        row("hostile vanish_after_data", sv, smtp_result_str(r));
    }
}

/* In a batch: the one before is delivered, the vanished one is the error
   and recorded once; the one after (no byte of it sent when the connection
   went) is recorded exactly as often as its result says. */
TEST(close_before_final_reply_in_a_batch)
{
    smtp_config cfg;
    smtp_message m[3];
    smtp_result res[3];
    const char *to[2] = { "bob@example.com", NULL };
    char subj[3][100];
    int i;
    snprintf(subj[0], sizeof subj[0], "kept before %s", STAMP);
    snprintf(subj[1], sizeof subj[1], "vanish in batch %s", STAMP);
    snprintf(subj[2], sizeof subj[2], "kept after %s", STAMP);
    for (i = 0; i < 3; i++) msg_init(&m[i], to, subj[i], "batch around a vanishing message");
    cfg_plain(&cfg, hport(24));
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    unset(res, 3);
    smtp_send_batch(&S, m, 3, res);
    CHECK_EQ_INT(res[0], SMTP_OK);
    CHECK_EQ_INT(res[1], SMTP_ERR_UNKNOWN_OUTCOME);
    smtp_close(&S);
    usleep(500 * 1000);
    CHECK_EQ_INT(hostile_recorded("vanish_after_data", subj[0], NULL), 1);
    CHECK_EQ_INT(hostile_recorded("vanish_after_data", subj[1], NULL), 1);
    CHECK_EQ_INT(hostile_recorded("vanish_after_data", subj[2], NULL), res[2] == SMTP_OK ? 1 : 0);
}

/* ---- OAuth2 tokens that renew ------------------------------------------ */

static const char *TOKEN_FILE;
static char TOK_OLD[80], TOK_NEW[80];
static struct {
    int calls, renews, first_renew, last_renew, fail_at;   /* fail_at: -1 never, else the call (1-based) that returns -1 */
    int always_old;
    char user[64];
} TK;

static int token_cb(void *user, const char *username, char *buf, size_t cap, int renew)
{
    const char *t;
    (void)user;
    TK.calls++;
    if (TK.calls == 1) TK.first_renew = renew;
    TK.last_renew = renew;
    if (renew) TK.renews++;
    snprintf(TK.user, sizeof TK.user, "%s", username ? username : "(null)");
    if (TK.fail_at == TK.calls) return -1;
    t = renew && !TK.always_old ? TOK_NEW : TOK_OLD;
    if (strlen(t) + 1 > cap) return -1;
    memcpy(buf, t, strlen(t) + 1);
    return (int)strlen(t);
}

static void token_setup(smtp_config *c, int port, unsigned mech)
{
    FILE *f;
    memset(&TK, 0, sizeof TK);
    TK.fail_at = -1;
    snprintf(TOK_OLD, sizeof TOK_OLD, "expired-%s", STAMP);
    snprintf(TOK_NEW, sizeof TOK_NEW, "renewed-%s", STAMP);
    f = fopen(TOKEN_FILE, "w");       /* the server accepts only the renewed one */
    if (f) { fprintf(f, "%s\n", TOK_NEW); fclose(f); }
    cfg_plain(c, port);
    c->username = "alice";
    c->allowed_auth = mech;
    c->allow_cleartext_auth = 1;
    c->token = token_cb;
    c->token_user = NULL;
    trace_reset(c);
}

/* The AUTH attempts aiosmtpd logged from line `from` on: how many, how many
   carried tok and were refused (ok false) or accepted (ok true). */
static int attempts(const char *spool, int from, const char *mech, const char *tok, int ok)
{
    char m[60], t[160];
    snprintf(m, sizeof m, "\"mech\": \"%s\", \"ok\": %s", mech, ok ? "true" : "false");
    snprintf(t, sizeof t, "\"token\": \"%s\"", tok);
    return count_lines(spool_file(spool, "auth-attempts.log"), from, m, t, NULL);
}

TEST(token_refused_then_renewed_once)
{
    static const unsigned mechs[] = { SMTP_AUTH_XOAUTH2, SMTP_AUTH_OAUTHBEARER };
    static const char *names[] = { "XOAUTH2", "OAUTHBEARER" };
    int k;
    for (k = 0; k < 2; k++) {
        smtp_config cfg;
        char text[120], want[80], *json;
        int from = file_lines(spool_file("aiotoken", "auth-attempts.log"));
        int opens = aio_opens("aiotoken"), before = aio_count("aiotoken");
        smtp_result ro, rs;
        token_setup(&cfg, AIOTOKEN, mechs[k]);
        snprintf(text, sizeof text, "renewed %s token %s", names[k], STAMP);
        ro = smtp_open(&S, &cfg);
        CHECK_EQ_INT(ro, SMTP_OK);
        CHECK_EQ_INT(TK.calls, 2);
        CHECK_EQ_INT(TK.renews, 1);
        CHECK_EQ_INT(TK.first_renew, 0);
        CHECK_EQ_INT(TK.last_renew, 1);
        CHECK_EQ_STR(TK.user, "alice");
        rs = send_one(text);
        CHECK_EQ_INT(rs, SMTP_OK);
        smtp_close(&S);
        CHECK_EQ_INT(TK.calls, 2);                /* not again for the send */
        /* the server saw the old token refused, then the new one accepted, on one connection */
        CHECK_EQ_INT(wait_lines(spool_file("aiotoken", "auth-attempts.log"), from + 2) - from, 2);
        CHECK_EQ_INT(attempts("aiotoken", from, names[k], TOK_OLD, 0), 1);
        CHECK_EQ_INT(attempts("aiotoken", from, names[k], TOK_NEW, 1), 1);
        CHECK_EQ_INT(aio_opens("aiotoken") - opens, 1);
        CHECK_EQ_INT(aio_wait_count("aiotoken", before + 1), before + 1);
        json = aio_msg("aiotoken", before + 1, "json", NULL);
        snprintf(want, sizeof want, "\"auth_mech\":\"%s\"", names[k]);
        CHECK_CONTAINS(json, want);
        CHECK_CONTAINS(json, "\"auth\":\"alice\"");
        free(json);
        CHECK_EQ_INT(aio_holding("aiotoken", before + 1, before + 1, text), 1);
        {
            char sc[100], sv[200], lib[200];
            snprintf(sc, sizeof sc, "aiosmtpd %s, first token refused", names[k]);
            snprintf(sv, sizeof sv, "old token refused %d, renewed accepted %d; %d connection(s); %d message(s)",
                     attempts("aiotoken", from, names[k], TOK_OLD, 0), attempts("aiotoken", from, names[k], TOK_NEW, 1),
                     aio_opens("aiotoken") - opens, aio_count("aiotoken") - before);
            snprintf(lib, sizeof lib, "smtp_open %s, smtp_send %s; provider called %d times, %d with renew",
                     smtp_result_str(ro), smtp_result_str(rs), TK.calls, TK.renews);
            row(sc, sv, lib);
        }
        /* neither token reached the trace, not even base64-encoded */
        CHECK(TRACE_LEN > 0);
        CHECK(!trace_has_secret(TOK_OLD));
        CHECK(!trace_has_secret(TOK_NEW));
    }
}

/* A server that closes the connection after refusing the token: the retry
   with the renewed token goes over a fresh connection. */
TEST(token_renewed_on_a_fresh_connection)
{
    smtp_config cfg;
    char text[120];
    int from = file_lines(spool_file("aiotokenclose", "auth-attempts.log"));
    int opens = aio_opens("aiotokenclose"), before = aio_count("aiotokenclose");
    token_setup(&cfg, AIOTOKEN_CLOSE, SMTP_AUTH_XOAUTH2);
    snprintf(text, sizeof text, "renewed after a close %s", STAMP);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(TK.calls, 2);
    CHECK_EQ_INT(TK.renews, 1);
    CHECK_EQ_INT(send_one(text), SMTP_OK);
    smtp_close(&S);
    CHECK_EQ_INT(attempts("aiotokenclose", from, "XOAUTH2", TOK_OLD, 0), 1);
    CHECK_EQ_INT(attempts("aiotokenclose", from, "XOAUTH2", TOK_NEW, 1), 1);
    CHECK_EQ_INT(wait_lines(spool_file("aiotokenclose", "auth-attempts.log"), from + 2) - from, 2);
    CHECK_EQ_INT(aio_opens("aiotokenclose") - opens, 2);
    CHECK_EQ_INT(aio_wait_count("aiotokenclose", before + 1), before + 1);
    CHECK_EQ_INT(aio_holding("aiotokenclose", before + 1, before + 1, text), 1);
}

/* Renewed once only: a renewed token that is refused too is the error
   (535, permanent); a provider that fails (-1) sends nothing. A static
   password (the token in cfg.password) still works. */
TEST(token_renew_limits_and_static_password)
{
    smtp_config cfg;
    smtp_result r;
    int from;
    /* the renewed token is refused as well: exactly two attempts */
    from = file_lines(spool_file("aiotoken", "auth-attempts.log"));
    token_setup(&cfg, AIOTOKEN, SMTP_AUTH_XOAUTH2);
    TK.always_old = 1;
    r = smtp_open(&S, &cfg);
    CHECK_EQ_INT(r, SMTP_ERR_AUTH);
    CHECK_EQ_INT(smtp_last_reply(&S)->code, 535);
    CHECK_EQ_INT(smtp_is_transient(&S, r), 0);
    CHECK_EQ_INT(TK.calls, 2);
    CHECK_EQ_INT(TK.renews, 1);
    smtp_close(&S);
    CHECK_EQ_INT(wait_lines(spool_file("aiotoken", "auth-attempts.log"), from + 2) - from, 2);
    CHECK_EQ_INT(attempts("aiotoken", from, "XOAUTH2", TOK_OLD, 0), 2);
    /* the provider fails at once: no AUTH goes out */
    from = file_lines(spool_file("aiotoken", "auth-attempts.log"));
    token_setup(&cfg, AIOTOKEN, SMTP_AUTH_XOAUTH2);
    TK.fail_at = 1;
    CHECK(smtp_open(&S, &cfg) < 0);
    CHECK_EQ_INT(TK.calls, 1);
    smtp_close(&S);
    CHECK_EQ_INT(file_lines(spool_file("aiotoken", "auth-attempts.log")) - from, 0);
    /* the provider fails when asked to renew: one attempt, the error */
    from = file_lines(spool_file("aiotoken", "auth-attempts.log"));
    token_setup(&cfg, AIOTOKEN, SMTP_AUTH_XOAUTH2);
    TK.fail_at = 2;
    CHECK(smtp_open(&S, &cfg) < 0);
    CHECK_EQ_INT(TK.calls, 2);
    smtp_close(&S);
    CHECK_EQ_INT(wait_lines(spool_file("aiotoken", "auth-attempts.log"), from + 1) - from, 1);
    /* no callback: cfg.password is the token, as before */
    from = file_lines(spool_file("aiotoken", "auth-attempts.log"));
    token_setup(&cfg, AIOTOKEN, SMTP_AUTH_XOAUTH2);
    cfg.token = NULL;
    cfg.password = TOK_NEW;
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(send_one("static token"), SMTP_OK);
    smtp_close(&S);
    CHECK_EQ_INT(TK.calls, 0);
    CHECK_EQ_INT(attempts("aiotoken", from, "XOAUTH2", TOK_NEW, 1), 1);
    CHECK_EQ_INT(wait_lines(spool_file("aiotoken", "auth-attempts.log"), from + 1) - from, 1);
}

/* ---- pacing -------------------------------------------------------------- */

static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

/* The 35 messages from message `first` on, grouped by the client port that
   sent them: 4 connections of 10, 10, 10 and 5. */
static void check_grouping(int first, int n)
{
    int ports[64], sizes[8] = { 0 }, distinct[8], nd = 0, i, k;
    for (i = 0; i < n; i++) {
        ports[i] = aio_peer_port("aiocount", first + i);
        for (k = 0; k < nd && distinct[k] != ports[i]; k++) {}
        if (k == nd && nd < 8) distinct[nd++] = ports[i];
        if (k < 8) sizes[k]++;
    }
    CHECK_EQ_INT(nd, 4);
    qsort(sizes, (size_t)nd, sizeof *sizes, cmp_int);
    CHECK(nd == 4 && sizes[0] == 5 && sizes[1] == 10 && sizes[2] == 10 && sizes[3] == 10);
    /* in order: each connection's messages are consecutive */
    for (i = 1, k = 0; i < n; i++) k += ports[i] != ports[i - 1];
    CHECK_EQ_INT(k, 3);
}

TEST(messages_per_connection_10_of_35)
{
    smtp_config cfg;
    smtp_message m[35];
    smtp_result res[35];
    const char *to[2] = { "bob@example.com", NULL };
    char text[35][100];
    int i, opens, before, quits, ok, rc, sent;
    cfg_plain(&cfg, AIOCOUNT);
    cfg.messages_per_connection = 10;
    /* smtp_send, 35 times */
    opens = aio_opens("aiocount"); before = aio_count("aiocount");
    quits = commands_from("aiocount", 0, "QUIT");
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    for (i = 0, ok = 0; i < 35; i++) {
        snprintf(text[i], sizeof text[i], "paced send %02d %s", i, STAMP);
        ok += send_subject("per connection", text[i]) == SMTP_OK;
    }
    CHECK_EQ_INT(ok, 35);
    sent = ok;
    rc = smtp_reconnects(&S);
    CHECK_EQ_INT(rc, 3);
    smtp_close(&S);
    CHECK_EQ_INT(aio_wait_count("aiocount", before + 35), before + 35);
    CHECK_EQ_INT(aio_opens("aiocount") - opens, 4);
    CHECK_EQ_INT(commands_from("aiocount", 0, "QUIT") - quits, 4);   /* each connection ended with QUIT */
    for (i = 0, ok = 0; i < 35; i++) ok += aio_holding("aiocount", before + 1, before + 35, text[i]) == 1;
    CHECK_EQ_INT(ok, 35);
    check_grouping(before + 1, 35);
    {
        char sv[200], lib[200];
        snprintf(sv, sizeof sv, "%d connections, %d messages", aio_opens("aiocount") - opens, aio_count("aiocount") - before);
        snprintf(lib, sizeof lib, "%d of 35 smtp_send calls OK, smtp_reconnects %d", sent, rc);
        row("messages_per_connection 10, 35 messages", sv, lib);
    }
    /* smtp_send_batch, one call */
    opens = aio_opens("aiocount"); before = aio_count("aiocount");
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    for (i = 0; i < 35; i++) {
        snprintf(text[i], sizeof text[i], "paced batch %02d %s", i, STAMP);
        msg_init(&m[i], to, "per connection batch", text[i]);
    }
    unset(res, 35);
    CHECK_EQ_INT(smtp_send_batch(&S, m, 35, res), SMTP_OK);
    for (i = 0, ok = 0; i < 35; i++) ok += res[i] == SMTP_OK;
    CHECK_EQ_INT(ok, 35);
    smtp_close(&S);
    CHECK_EQ_INT(aio_wait_count("aiocount", before + 35), before + 35);
    CHECK_EQ_INT(aio_opens("aiocount") - opens, 4);
    for (i = 0, ok = 0; i < 35; i++) ok += aio_holding("aiocount", before + 1, before + 35, text[i]) == 1;
    CHECK_EQ_INT(ok, 35);
    check_grouping(before + 1, 35);
}

/* 20 per second over 40 messages: 39 gaps of 50 ms at least, so 1.9 s at
   least (a deadline that is the feature; the upper side is not asserted). */
TEST(messages_per_second_20_of_40)
{
    smtp_config cfg;
    smtp_message m[40];
    smtp_result res[40];
    const char *to[2] = { "bob@example.com", NULL };
    char text[40][100];
    long long t0, el;
    int i, ok, before;
    cfg_plain(&cfg, AIOCOUNT);
    cfg.messages_per_second = 20;
    before = aio_count("aiocount");
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    t0 = now_ms();
    for (i = 0, ok = 0; i < 40; i++) {
        snprintf(text[i], sizeof text[i], "rate send %02d %s", i, STAMP);
        ok += send_subject("per second", text[i]) == SMTP_OK;
    }
    el = now_ms() - t0;
    smtp_close(&S);
    CHECK_EQ_INT(ok, 40);
    if (el < 1900) TEST_FAILMSG("40 sends at 20/s took %lld ms, want >= 1900", el);
    test_checks++;
    {
        char lib[100];
        snprintf(lib, sizeof lib, "40 smtp_send calls in %lld ms", el);
        row("messages_per_second 20, 40 messages", "40 messages", lib);
    }
    CHECK_EQ_INT(aio_wait_count("aiocount", before + 40), before + 40);
    /* the same through smtp_send_batch */
    before = aio_count("aiocount");
    for (i = 0; i < 40; i++) {
        snprintf(text[i], sizeof text[i], "rate batch %02d %s", i, STAMP);
        msg_init(&m[i], to, "per second batch", text[i]);
    }
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    t0 = now_ms();
    unset(res, 40);
    CHECK_EQ_INT(smtp_send_batch(&S, m, 40, res), SMTP_OK);
    el = now_ms() - t0;
    smtp_close(&S);
    for (i = 0, ok = 0; i < 40; i++) ok += res[i] == SMTP_OK;
    CHECK_EQ_INT(ok, 40);
    if (el < 1900) TEST_FAILMSG("a batch of 40 at 20/s took %lld ms, want >= 1900", el);
    test_checks++;
    {
        char lib[100];
        snprintf(lib, sizeof lib, "smtp_send_batch of 40 in %lld ms", el);
        row("messages_per_second 20, a batch of 40", "40 messages", lib);
    }
    CHECK_EQ_INT(aio_wait_count("aiocount", before + 40), before + 40);
    for (i = 0, ok = 0; i < 40; i++) ok += aio_holding("aiocount", before + 1, before + 40, text[i]) == 1;
    CHECK_EQ_INT(ok, 40);
}

/* ---- transient or permanent --------------------------------------------- */

/* The expected answer for every result code but SMTP_ERR_REPLY (which
   depends on the reply: tested below with real servers). -1: no entry, a
   code added to SMTP_RESULT_TABLE without a decision here fails. */
static int expected_transient(smtp_result r)
{
    switch (r) {
    case SMTP_OK: case SMTP_PARTIAL: return 0;          /* nothing to retry */
    case SMTP_WANT_READ: case SMTP_WANT_WRITE: return 0;   /* not a failure: the step goes on */
    case SMTP_ERR_PARAM: case SMTP_ERR_STATE: return 0; /* the caller's mistake */
    case SMTP_ERR_NOMEM: return 1;                      /* memory may be there later */
    case SMTP_ERR_RESOLVE: return 1;                    /* a connection failure (DNS) */
    case SMTP_ERR_CONNECT: case SMTP_ERR_TIMEOUT: case SMTP_ERR_IO: return 1;
    case SMTP_ERR_CLOSED: return 1;                     /* dropped, or 421 */
    case SMTP_ERR_PROTOCOL: case SMTP_ERR_TOO_LONG: return 0;   /* the same server does it again */
    case SMTP_ERR_PROXY: return 1;                      /* the proxy could not connect */
    case SMTP_ERR_TLS: return 1;                        /* handshake I/O */
    case SMTP_ERR_CERT: case SMTP_ERR_NO_STARTTLS: return 0;
    case SMTP_ERR_AUTH: case SMTP_ERR_AUTH_UNAVAILABLE: return 0;   /* 535, nothing usable */
    case SMTP_ERR_UNSUPPORTED: case SMTP_ERR_CONFIG: case SMTP_ERR_ABORTED: return 0;
    case SMTP_ERR_UNKNOWN_OUTCOME: return 1;            /* RFC 5321 6.1: treat as not delivered */
    case SMTP_ERR_AUTH_TEMP: return 1;                  /* 454 */
    default: return -1;
    }
}

TEST(is_transient_for_every_result_code)
{
#define SESSIONS_CODE(name, value, text) name,
    static const smtp_result codes[] = { SMTP_RESULT_TABLE(SESSIONS_CODE) };
#undef SESSIONS_CODE
#define SESSIONS_NAME(name, value, text) #name,
    static const char *names[] = { SMTP_RESULT_TABLE(SESSIONS_NAME) };
#undef SESSIONS_NAME
    smtp_config cfg;
    size_t i;
    /* a session that has talked to a server (its last reply a 2xx) */
    cfg_plain(&cfg, AIOCOUNT);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(smtp_noop(&S), SMTP_OK);
    for (i = 0; i < sizeof codes / sizeof *codes; i++) {
        int want = expected_transient(codes[i]), got;
        if (codes[i] == SMTP_ERR_REPLY) continue;
        test_checks++;
        if (want < 0) { TEST_FAILMSG("%s: no expectation in expected_transient()", names[i]); continue; }
        got = smtp_is_transient(&S, codes[i]);
        if (got != want) TEST_FAILMSG("smtp_is_transient(%s) == %d, expected %d", names[i], got, want);
    }
    smtp_close(&S);
    /* the same answers after the session was closed (no reply to go on) */
    for (i = 0; i < sizeof codes / sizeof *codes; i++) {
        if (codes[i] == SMTP_ERR_REPLY || expected_transient(codes[i]) < 0) continue;
        CHECK_EQ_INT(smtp_is_transient(&S, codes[i]), expected_transient(codes[i]));
    }
}

/* Real results from real servers: 4xx replies transient, 5xx permanent. */
TEST(is_transient_for_real_replies)
{
    smtp_config cfg;
    smtp_result r;
    /* Postfix: 550 to a refused recipient, 554 relay denied; the session goes on */
    cfg_plain(&cfg, PF_PORT);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(smtp_mail_from(&S, "alice@example.com"), SMTP_OK);
    r = smtp_rcpt_to(&S, "refuse-me@example.com");
    CHECK_EQ_INT(r, SMTP_ERR_REPLY);
    CHECK_EQ_INT(smtp_last_reply(&S)->code, 550);
    CHECK_EQ_INT(smtp_is_transient(&S, r), 0);
    r = smtp_rcpt_to(&S, "bob@example.net");
    CHECK_EQ_INT(r, SMTP_ERR_REPLY);
    CHECK_EQ_INT(smtp_last_reply(&S)->code, 554);
    CHECK_EQ_INT(smtp_is_transient(&S, r), 0);
    smtp_close(&S);
    /* aiosmtpd --max-rcpt 2: 452 to the third recipient; after it a 5xx again */
    cfg_plain(&cfg, AIO452_PORT);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(smtp_mail_from(&S, "alice@example.com"), SMTP_OK);
    CHECK_EQ_INT(smtp_rcpt_to(&S, "r1@example.com"), SMTP_OK);
    CHECK_EQ_INT(smtp_rcpt_to(&S, "r2@example.com"), SMTP_OK);
    r = smtp_rcpt_to(&S, "r3@example.com");
    CHECK_EQ_INT(r, SMTP_ERR_REPLY);
    CHECK_EQ_INT(smtp_last_reply(&S)->code, 452);
    CHECK_EQ_INT(smtp_is_transient(&S, r), 1);
    r = smtp_rcpt_to(&S, "refused@example.com");
    CHECK_EQ_INT(smtp_last_reply(&S)->code, 550);
    CHECK_EQ_INT(smtp_is_transient(&S, r), 0);
    smtp_close(&S);
    /* Postfix: a wrong password, 535 */
    memset(&cfg, 0, sizeof cfg);
    cfg.host = "localhost"; cfg.port = PF_SUB; cfg.security = SMTP_SECURITY_STARTTLS; cfg.ca_file = PF_CA;
    cfg.helo_name = "client.test"; cfg.timeout_ms = CALM_MS;
    cfg.username = "alice"; cfg.password = "wrong password";
    r = smtp_open(&S, &cfg);
    CHECK_EQ_INT(r, SMTP_ERR_AUTH);
    CHECK_EQ_INT(smtp_last_reply(&S)->code, 535);
    CHECK_EQ_INT(smtp_is_transient(&S, r), 0);
    smtp_close(&S);
    /* a 554 greeting (hostile 5): permanent, although the last reply read is the 221 to QUIT */
    cfg_plain(&cfg, hport(5));
    r = smtp_open(&S, &cfg);
    CHECK(r < 0);
    CHECK_EQ_INT(smtp_is_transient(&S, r), 0);
    smtp_close(&S);
    /* nothing listens: CONNECT; a silent server: TIMEOUT; an expired certificate: CERT */
    cfg_plain(&cfg, CLOSED_PORT);
    r = smtp_open(&S, &cfg);
    CHECK_EQ_INT(r, SMTP_ERR_CONNECT);
    CHECK_EQ_INT(smtp_is_transient(&S, r), 1);
    smtp_close(&S);
    cfg_plain(&cfg, hport(0));
    cfg.greeting_timeout_ms = 300;
    r = smtp_open(&S, &cfg);
    CHECK_EQ_INT(r, SMTP_ERR_TIMEOUT);
    CHECK_EQ_INT(smtp_is_transient(&S, r), 1);
    smtp_close(&S);
    memset(&cfg, 0, sizeof cfg);
    cfg.host = "localhost"; cfg.port = BAD_BASE; cfg.security = SMTP_SECURITY_STARTTLS; cfg.ca_file = CA;
    cfg.helo_name = "client.test"; cfg.timeout_ms = CALM_MS;
    r = smtp_open(&S, &cfg);
    CHECK_EQ_INT(r, SMTP_ERR_CERT);
    CHECK_EQ_INT(smtp_is_transient(&S, r), 0);
    smtp_close(&S);
}

/* ---- LMTP against Dovecot ------------------------------------------------ */

static void cfg_lmtp(smtp_config *c)
{
    cfg_plain(c, DOVECOT_LMTP);
    c->protocol = SMTP_PROTOCOL_LMTP;
}

static const smtp_rcpt_result *result_for(const smtp_rcpt_result *r, size_t n, const char *addr)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (r[i].address && !strcmp(r[i].address, addr)) return &r[i];
    return NULL;
}

/* One unknown mailbox among three: 550 at RCPT for it, a 250 for each of
   the others after the data (Dovecot's text names the recipient), and the
   message in both known maildirs, once. */
TEST(lmtp_one_unknown_of_three)
{
    smtp_config cfg;
    smtp_message m;
    smtp_rcpt_result res[3];
    const smtp_rcpt_result *a, *n, *b;
    const char *to[4] = { "anna@lmtp.test", "nobody@lmtp.test", "bert@lmtp.test", NULL };
    smtp_result r;
    char text[120];
    snprintf(text, sizeof text, "LMTP one unknown of three %s", STAMP);
    cfg_lmtp(&cfg);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    msg_init(&m, to, "lmtp three", text);
    memset(res, 0, sizeof res);
    m.results = res; m.results_cap = 3;
    r = smtp_send(&S, &m);
    CHECK_EQ_INT(r, SMTP_PARTIAL);
    a = result_for(res, 3, to[0]); n = result_for(res, 3, to[1]); b = result_for(res, 3, to[2]);
    CHECK(a && n && b);
    if (a && n && b) {
        CHECK_EQ_INT(a->accepted, 1);
        CHECK_EQ_INT(a->code, 250);
        CHECK_CONTAINS(a->text, "<anna@lmtp.test>");      /* anna's own reply after the data */
        CHECK_EQ_INT(n->accepted, 0);
        CHECK_EQ_INT(n->code, 550);
        CHECK_EQ_STR(n->status, "5.1.1");
        CHECK_EQ_INT(b->accepted, 1);
        CHECK_EQ_INT(b->code, 250);
        CHECK_CONTAINS(b->text, "<bert@lmtp.test>");
    }
    CHECK_EQ_INT(smtp_close(&S), SMTP_OK);
    CHECK_EQ_INT(maildir_count("anna", text), 1);
    CHECK_EQ_INT(maildir_count("bert", text), 1);
    CHECK_EQ_INT(maildir_count("carl", text), 0);
    {
        char sv[200], lib[300];
        snprintf(sv, sizeof sv, "maildirs: anna %d, bert %d, carl %d", maildir_count("anna", text),
                 maildir_count("bert", text), maildir_count("carl", text));
        snprintf(lib, sizeof lib, "%s; anna %d/%d, nobody %d/%d, bert %d/%d (accepted/code)", smtp_result_str(r),
                 res[0].accepted, res[0].code, res[1].accepted, res[1].code, res[2].accepted, res[2].code);
        row("LMTP (Dovecot), anna nobody bert", sv, lib);
    }
}

/* A refusal after the data for one recipient (carl's 8 KB quota, a 12 KB
   message): 552 for carl, 250 for anna, whom the refusal must not take along. */
TEST(lmtp_refused_after_data_for_one)
{
    smtp_config cfg;
    smtp_message m;
    smtp_rcpt_result res[3];
    const smtp_rcpt_result *a, *c, *n;
    const char *to[4] = { "anna@lmtp.test", "carl@lmtp.test", "nobody@lmtp.test", NULL };
    const char *carl[2] = { "carl@lmtp.test", NULL };
    static char text[12300];
    size_t i;
    int k = snprintf(text, sizeof text, "LMTP over carl's quota %s\n", STAMP);
    for (i = (size_t)k; i < 12288; i++) text[i] = (char)(i % 64 == 63 ? '\n' : 'q');
    text[12288] = 0;
    cfg_lmtp(&cfg);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    msg_init(&m, to, "lmtp quota", text);
    memset(res, 0, sizeof res);
    m.results = res; m.results_cap = 3;
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_PARTIAL);
    a = result_for(res, 3, to[0]); c = result_for(res, 3, to[1]); n = result_for(res, 3, to[2]);
    CHECK(a && c && n);
    if (a && c && n) {
        CHECK_EQ_INT(a->accepted, 1);
        CHECK_EQ_INT(a->code, 250);
        CHECK_EQ_INT(c->accepted, 0);
        CHECK_EQ_INT(c->code, 552);
        CHECK_EQ_STR(c->status, "5.2.2");
        CHECK_CONTAINS(c->text, "<carl@lmtp.test>");
        CHECK_EQ_INT(n->accepted, 0);
        CHECK_EQ_INT(n->code, 550);
    }
    /* carl alone: refused after the data, so the message went to none */
    msg_init(&m, carl, "lmtp quota alone", text);
    memset(res, 0, sizeof res);
    m.results = res; m.results_cap = 1;
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_ERR_REPLY);
    CHECK_EQ_INT(res[0].accepted, 0);
    CHECK_EQ_INT(res[0].code, 552);
    /* the session goes on */
    CHECK_EQ_INT(smtp_noop(&S), SMTP_OK);
    CHECK_EQ_INT(smtp_close(&S), SMTP_OK);
    CHECK_EQ_INT(maildir_count("anna", "LMTP over carl's quota"), 1);
    CHECK_EQ_INT(maildir_count("carl", "LMTP over carl's quota"), 0);
}

/* A batch over LMTP (Dovecot offers PIPELINING): each message's replies,
   one per accepted recipient, are counted to the right message. */
TEST(lmtp_batch)
{
    smtp_config cfg;
    smtp_message m[3];
    smtp_result res[3];
    smtp_rcpt_result rr[3][3];
    const char *to0[3] = { "anna@lmtp.test", "bert@lmtp.test", NULL };
    const char *to1[3] = { "carl@lmtp.test", "nobody@lmtp.test", NULL };
    const char *to2[4] = { "bert@lmtp.test", "anna@lmtp.test", "carl@lmtp.test", NULL };
    char text[3][120];
    int i;
    for (i = 0; i < 3; i++) snprintf(text[i], sizeof text[i], "LMTP batch %d %s", i, STAMP);
    msg_init(&m[0], to0, "lmtp batch", text[0]);
    msg_init(&m[1], to1, "lmtp batch", text[1]);
    msg_init(&m[2], to2, "lmtp batch", text[2]);
    memset(rr, 0, sizeof rr);
    for (i = 0; i < 3; i++) { m[i].results = rr[i]; m[i].results_cap = 3; }
    cfg_lmtp(&cfg);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    unset(res, 3);
    smtp_send_batch(&S, m, 3, res);
    CHECK_EQ_INT(res[0], SMTP_OK);
    CHECK_EQ_INT(res[1], SMTP_PARTIAL);
    CHECK_EQ_INT(res[2], SMTP_OK);
    CHECK_EQ_INT(rr[1][1].code, 550);
    CHECK_CONTAINS(rr[2][2].text, "<carl@lmtp.test>");
    CHECK_EQ_INT(smtp_close(&S), SMTP_OK);
    CHECK_EQ_INT(maildir_count("anna", text[0]), 1);
    CHECK_EQ_INT(maildir_count("bert", text[0]), 1);
    CHECK_EQ_INT(maildir_count("carl", text[1]), 1);
    CHECK_EQ_INT(maildir_count("anna", text[1]), 0);
    CHECK_EQ_INT(maildir_count("anna", text[2]), 1);
    CHECK_EQ_INT(maildir_count("bert", text[2]), 1);
    CHECK_EQ_INT(maildir_count("carl", text[2]), 1);
}

/* msmtp's key: "protocol lmtp" in a file (and through smtp_settings_set);
   a file so configured delivers to Dovecot. */
TEST(lmtp_config_key)
{
    smtp_settings st;
    char conf[400], text[120];
    const char *path, *to[2] = { "anna@lmtp.test", NULL };
    smtp_message m;
    snprintf(text, sizeof text, "LMTP from a config file %s", STAMP);
    snprintf(conf, sizeof conf, "account default\nhost 127.0.0.1\nport %d\ntls off\nprotocol lmtp\n"
             "from alice@example.com\n", DOVECOT_LMTP);
    path = write_conf(conf, 0600);
    CHECK(path != NULL);
    memset(&st, 0, sizeof st);
    CHECK_EQ_INT(smtp_config_load(&st, path, NULL), SMTP_OK);
    CHECK_EQ_INT(st.cfg.protocol, SMTP_PROTOCOL_LMTP);
    st.cfg.helo_name = "client.test";
    CHECK_EQ_INT(smtp_open(&S, &st.cfg), SMTP_OK);
    msg_init(&m, to, "lmtp config", text);
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_OK);
    CHECK_EQ_INT(smtp_close(&S), SMTP_OK);
    smtp_settings_free(&st);
    CHECK_EQ_INT(maildir_count("anna", text), 1);
    path = write_conf("account default\nhost 127.0.0.1\nprotocol smtp\n", 0600);
    memset(&st, 0, sizeof st);
    CHECK_EQ_INT(smtp_config_load(&st, path, NULL), SMTP_OK);
    CHECK_EQ_INT(st.cfg.protocol, SMTP_PROTOCOL_SMTP);
    smtp_settings_free(&st);
    path = write_conf("account default\nhost 127.0.0.1\nprotocol pop3\n", 0600);
    memset(&st, 0, sizeof st);
    CHECK_EQ_INT(smtp_config_load(&st, path, NULL), SMTP_ERR_CONFIG);
    CHECK_CONTAINS(st.detail, "protocol");
    smtp_settings_free(&st);
    memset(&st, 0, sizeof st);
    CHECK_EQ_INT(smtp_settings_set(&st, "protocol", "lmtp"), SMTP_OK);
    CHECK_EQ_INT(st.cfg.protocol, SMTP_PROTOCOL_LMTP);
    smtp_settings_free(&st);
    if (path) unlink(path);
}

int main(void)
{
    itest_env();
    CLOSED_PORT = env_int("CLOSED_PORT", 24736);
    TOKEN_FILE = getenv("OAUTH_TOKEN_FILE") ? getenv("OAUTH_TOKEN_FILE") : "tests/.run/oauth-token";
    snprintf(STAMP, sizeof STAMP, "%ld-%lld", (long)getpid(), now_ms());
    RUN(postfix_idle_timeout_reconnects_and_delivers_once);
    RUN(postfix_idle_timeout_no_reconnect_is_the_error);
    RUN(silent_close_reconnects_send_and_batch);
    RUN(idle_check_sends_noop_first);
    RUN(idle_check_finds_the_closed_connection);
    RUN(mail_421_batch_completes_on_new_connections);
    RUN(mail_421_send_goes_on);
    RUN(mail_421_no_reconnect_ends_the_batch);
    RUN(close_before_final_reply_never_resent);
    RUN(close_before_final_reply_in_a_batch);
    RUN(token_refused_then_renewed_once);
    RUN(token_renewed_on_a_fresh_connection);
    RUN(token_renew_limits_and_static_password);
    RUN(messages_per_connection_10_of_35);
    RUN(messages_per_second_20_of_40);
    RUN(is_transient_for_every_result_code);
    RUN(is_transient_for_real_replies);
    RUN(lmtp_one_unknown_of_three);
    RUN(lmtp_refused_after_data_for_one);
    RUN(lmtp_batch);
    RUN(lmtp_config_key);
    return TEST_END();
}
