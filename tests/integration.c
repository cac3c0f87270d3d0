/* integration.c - smtp.h against real servers on loopback, started by
   tests/run-integration.sh: aiosmtpd (stores the exact DATA bytes),
   Postfix (delivers to files), and tests/peers/hostile.py (faults no
   real server makes). Every test reads back what the server received. */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include "test.h"
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "itest.h"

/* What aiosmtpd must have received for a body given to smtp_data_write:
   the normalisation rules, without the dot-stuffing (it unstuffs). */
static size_t expected_unstuffed(const char *in, size_t n, char *out)
{
    size_t i, o = 0;
    int bol = 1;
    for (i = 0; i < n; i++) {
        if (in[i] == '\r' || in[i] == '\n') {
            if (in[i] == '\r' && i + 1 < n && in[i + 1] == '\n') i++;
            out[o++] = '\r'; out[o++] = '\n'; bol = 1;
            continue;
        }
        out[o++] = in[i]; bol = 0;
    }
    if (!bol) { out[o++] = '\r'; out[o++] = '\n'; }
    return o;
}

static char body[200000], expect[400000];

static size_t tricky_body(void)
{
    size_t n;
    strcpy(body, ".first line is a dot line\n.\nbare LF\nbare CR\rCRLF\r\n\n.\n..two dots\nlong: ");
    n = strlen(body);
    memset(body + n, 'L', 5000); n += 5000;
    memcpy(body + n, "\r\n.\r\nlast line without newline", 30); n += 30;
    return n;
}

TEST(aiosmtpd_data_write_byte_exact)
{
    smtp_config cfg;
    size_t n = tricky_body(), en = expected_unstuffed(body, n, expect), piece, got_len;
    static const size_t pieces[] = { 1, 2, 3, 7, 64, 4096, 200000 };
    size_t k;
    cfg_plain(&cfg, AIO_PORT);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    for (k = 0; k < sizeof pieces / sizeof *pieces; k++) {
        int before = aio_count("aiosmtpd");
        char *got;
        size_t off;
        piece = pieces[k];
        CHECK_EQ_INT(smtp_mail_from(&S, "alice@example.com"), SMTP_OK);
        CHECK_EQ_INT(smtp_rcpt_to(&S, "bob@example.com"), SMTP_OK);
        CHECK_EQ_INT(smtp_data_begin(&S), SMTP_OK);
        for (off = 0; off < n; off += piece)
            CHECK_EQ_INT(smtp_data_write(&S, body + off, off + piece > n ? n - off : piece), SMTP_OK);
        CHECK_EQ_INT(smtp_data_end(&S), SMTP_OK);
        CHECK_EQ_INT(smtp_last_reply(&S)->code, 250);
        got = aio_msg("aiosmtpd", before + 1, "eml", &got_len);
        CHECK(got != NULL);
        if (got) CHECK_EQ_MEM(got, got_len, expect, en);
        free(got);
    }
    CHECK_EQ_INT(smtp_close(&S), SMTP_OK);
}

TEST(aiosmtpd_composer_parsed_by_python)
{
    smtp_config cfg;
    smtp_message m;
    const char *to[] = { "Bob Example <bob@example.com>", NULL };
    const char *cc[] = { "Zoë <zoe@example.org>", NULL };
    const char *bcc[] = { "hidden@example.net", NULL };
    char path[512], *json;
    size_t n = tricky_body(), len;
    int before;
    const char *subject = "Grüße — a subject with UTF-8 that is long enough to be folded over two lines ✓";
    strcpy(body + n, "\nUmlauts: äöü, and a line with trailing space \nend");
    cfg_plain(&cfg, AIO_PORT);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    memset(&m, 0, sizeof m);
    m.from = "Älice <alice@example.com>"; m.to = to; m.cc = cc; m.bcc = bcc;
    m.subject = subject; m.text = body;
    before = aio_count("aiosmtpd");
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_OK);
    json = aio_msg("aiosmtpd", before + 1, "json", &len);
    CHECK(json != NULL);
    CHECK_CONTAINS(json, "\"hidden@example.net\"");   /* bcc got it ... */
    free(json);
    snprintf(path, sizeof path, "%s/aiosmtpd/msg-%04d.eml", RUNDIR, before + 1);
    CHECK(python_check(path, subject, body));         /* ... but is not in the headers (checked there) */
    CHECK_EQ_INT(smtp_close(&S), SMTP_OK);
}

TEST(aiosmtpd_local_address_is_recorded)
{
    smtp_config cfg;
    smtp_message m;
    const char *to[] = { "bob@example.com", NULL };
    char *json;
    size_t len;
    int before = aio_count("aiosmtpd");
    cfg_plain(&cfg, AIO_PORT);
    cfg.local_address = "127.0.0.2";
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    memset(&m, 0, sizeof m);
    m.from = "alice@example.com"; m.to = to; m.text = "from 127.0.0.2";
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_OK);
    json = aio_msg("aiosmtpd", before + 1, "json", &len);
    CHECK_CONTAINS(json, "\"peer\":[\"127.0.0.2\"");
    free(json);
    smtp_close(&S);
    /* without helo_name the EHLO name is the FQDN or the address literal */
    cfg.helo_name = NULL;
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    smtp_close(&S);
}

TEST(aiosmtpd_refused_recipient)
{
    smtp_config cfg;
    smtp_message m;
    smtp_rcpt_result res[3];
    const char *to[] = { "one@example.com", "refuse-me@example.com", "three@example.com", NULL };
    char *json;
    size_t len;
    int before = aio_count("aiosmtpd");
    cfg_plain(&cfg, AIO_PORT);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    memset(&m, 0, sizeof m);
    m.from = "alice@example.com"; m.to = to; m.text = "three recipients, one refused";
    m.results = res; m.results_cap = 3;
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_PARTIAL);
    CHECK_EQ_INT(res[0].accepted, 1);
    CHECK_EQ_INT(res[1].accepted, 0);
    CHECK_EQ_INT(res[2].accepted, 1);
    CHECK_EQ_STR(res[1].address, "refuse-me@example.com");
    CHECK_EQ_INT(res[1].code, 550);
    CHECK_EQ_STR(res[1].status, "5.1.1");
    CHECK_CONTAINS(res[1].text, "Recipient address rejected");
    CHECK_CONTAINS(smtp_error_detail(&S), "refuse-me@example.com");
    json = aio_msg("aiosmtpd", before + 1, "json", &len);
    CHECK_CONTAINS(json, "\"rcpt_tos\":[\"one@example.com\",\"three@example.com\"]");
    free(json);
    /* the session goes on: a second message */
    to[1] = "two@example.com";
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_OK);
    CHECK_EQ_INT(aio_count("aiosmtpd"), before + 2);
    CHECK_EQ_INT(smtp_noop(&S), SMTP_OK);
    CHECK_EQ_INT(smtp_rset(&S), SMTP_OK);
    CHECK_EQ_INT(smtp_close(&S), SMTP_OK);
}

TEST(aiosmtpd_452_continues_in_new_transaction)
{
    smtp_config cfg;
    smtp_message m;
    const char *to[] = { "r1@example.com", "r2@example.com", "r3@example.com", "r4@example.com",
                         "r5@example.com", NULL };
    int before = aio_count("aiosmtpd452"), i;
    cfg_plain(&cfg, AIO452_PORT);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK(smtp_extensions(&S) & SMTP_EXT_PIPELINING);   /* this server offers it: the groups are pipelined */
    memset(&m, 0, sizeof m);
    m.from = "alice@example.com"; m.to = to; m.text = "five recipients, two per transaction";
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_OK);
    CHECK_EQ_INT(aio_count("aiosmtpd452"), before + 3);
    for (i = 1; i <= 3; i++) {
        size_t len;
        char *json = aio_msg("aiosmtpd452", before + i, "json", &len);
        CHECK_CONTAINS(json, i == 3 ? "\"rcpt_tos\":[\"r5@example.com\"]" : "@example.com\",\"r");
        free(json);
    }
    smtp_close(&S);
}

TEST(aiosmtpd_injection_sends_no_mail_command)
{
    smtp_config cfg;
    smtp_message m;
    const char *to[] = { "a@b\r\nRCPT TO:<x@y>", NULL };
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    int port;
    cfg_plain(&cfg, AIO_PORT);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    getsockname(S.link.fd, (struct sockaddr *)&sa, &sl);
    port = ntohs(sa.sin_port);
    memset(&m, 0, sizeof m);
    m.from = "alice@example.com"; m.to = to; m.text = "x";
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_ERR_PARAM);
    CHECK_EQ_INT(smtp_rcpt_to(&S, "a@b\r\nRCPT TO:<x@y>"), SMTP_ERR_STATE);
    CHECK_EQ_INT(smtp_noop(&S), SMTP_OK);     /* the NOOP is logged: the log is current */
    usleep(100000);
    CHECK_EQ_INT(commands_from("aiosmtpd", port, "EHLO"), 1);
    CHECK_EQ_INT(commands_from("aiosmtpd", port, "NOOP"), 1);
    CHECK_EQ_INT(commands_from("aiosmtpd", port, "MAIL"), 0);
    CHECK_EQ_INT(commands_from("aiosmtpd", port, "RCPT"), 0);
    smtp_close(&S);
}

TEST(aiosmtpd_ipv6_loopback)
{
    smtp_config cfg;
    smtp_message m;
    const char *to[] = { "bob@example.com", NULL };
    char *json;
    size_t len;
    int before = aio_count("aiosmtpd");
    if (!getenv("HAVE_IPV6")) { printf("  (no ::1 here: skipped)\n"); return; }
    cfg_plain(&cfg, AIO_PORT);
    cfg.host = "::1";
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    memset(&m, 0, sizeof m);
    m.from = "alice@example.com"; m.to = to; m.text = "over IPv6";
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_OK);
    json = aio_msg("aiosmtpd", before + 1, "json", &len);
    CHECK_CONTAINS(json, "\"peer\":[\"::1\"");
    free(json);
    smtp_close(&S);
}

TEST(connect_refused_names_the_server)
{
    smtp_config cfg;
    cfg_plain(&cfg, 1);            /* nothing listens on port 1 */
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_CONNECT);
    CHECK_CONTAINS(smtp_error_detail(&S), "127.0.0.1 port 1");
    CHECK_CONTAINS(smtp_error_detail(&S), "refused");
    CHECK_EQ_INT(smtp_close(&S), SMTP_ERR_CONNECT);
    cfg.host = "localhost";        /* every address of the name is tried */
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_CONNECT);
    smtp_close(&S);
    cfg.port = AIO_PORT;
    cfg.local_address = "::1";     /* no IPv6 local address for an IPv4 target */
    cfg.host = "127.0.0.1";
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_CONNECT);
    CHECK_CONTAINS(smtp_error_detail(&S), "same family");
    smtp_close(&S);
}

/* ---- Postfix ------------------------------------------------------------ */

TEST(postfix_delivers_intact)
{
    smtp_config cfg;
    smtp_message m;
    smtp_rcpt_result res[2];
    const char *to[] = { "bob@example.com", "refuse@example.com", NULL };
    char name[256], path[600], *eml, *env;
    size_t len, i, o;
    const char *subject = "Postfix test — Grüße";
    /* the tricky cases without the long line, so the text goes as 7bit and
       Postfix's copy can be compared byte for byte (the QP case is parsed below) */
    strcpy(body, ".first line is a dot line\n.\nbare LF\nbare CR\rCRLF\r\n\n.\n..two dots\r\n.\r\nno newline");
    cfg_plain(&cfg, PF_PORT);
    pf_snapshot();
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK(smtp_extensions(&S) & SMTP_EXT_PIPELINING);
    CHECK(smtp_extensions(&S) & SMTP_EXT_ENHANCEDSTATUSCODES);
    memset(&m, 0, sizeof m);
    m.from = "alice@example.com"; m.to = to; m.subject = subject; m.text = body;
    m.results = res; m.results_cap = 2;
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_PARTIAL);
    CHECK_EQ_INT(res[1].code, 550);
    CHECK_EQ_STR(res[1].status, "5.1.1");
    CHECK_EQ_INT(res[0].accepted, 1);
    CHECK_CONTAINS(res[0].text, "queued as");
    CHECK_EQ_INT(smtp_close(&S), SMTP_OK);
    CHECK(pf_wait_new(name, sizeof name) != NULL);
    snprintf(path, sizeof path, "%s/postfix/mail/%s", RUNDIR, name);
    env = slurp(path, &len);
    CHECK_CONTAINS(env, "recipient=bob@example.com");
    CHECK_CONTAINS(env, "sender=alice@example.com");
    free(env);
    strcpy(path + strlen(path) - 4, ".eml");
    eml = slurp(path, &len);
    CHECK(eml != NULL);
    if (!eml) return;
    CHECK_CONTAINS(eml, "Received: from client.test");
    CHECK_CONTAINS(eml, "\nTo: bob@example.com, refuse@example.com\n");
    /* Postfix stores LF line ends: the decoded text with LF must match */
    for (i = 0, o = 0; body[i]; i++) {
        if (body[i] == '\r' || body[i] == '\n') {
            if (body[i] == '\r' && body[i + 1] == '\n') i++;
            expect[o++] = '\n';
        } else expect[o++] = body[i];
    }
    expect[o++] = '\n'; expect[o] = 0;
    {
        char *b = strstr(eml, "\n\n");
        CHECK(b != NULL);
        if (b) CHECK_EQ_MEM(b + 2, strlen(b + 2), expect, o);   /* 7bit: the text as given */
    }
    CHECK(python_check(path, subject, body));
    free(eml);
    /* the same with a 5000-byte line and UTF-8: quoted-printable, decoded intact */
    pf_snapshot();
    tricky_body();
    strcat(body, "\nÜmlaut line\n");
    to[1] = NULL;
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_OK);
    CHECK_EQ_INT(smtp_close(&S), SMTP_OK);
    CHECK(pf_wait_new(name, sizeof name) != NULL);
    snprintf(path, sizeof path, "%s/postfix/mail/%s", RUNDIR, name);
    strcpy(path + strlen(path) - 4, ".eml");
    eml = slurp(path, &len);
    CHECK_CONTAINS(eml, "Content-Transfer-Encoding: quoted-printable");
    CHECK(python_check(path, subject, body));
    free(eml);
}

static char cmds[8192];
static void collect(void *u, smtp_trace_dir d, const char *p, size_t n)
{
    size_t l = strlen(cmds);
    (void)u;
    if (d == SMTP_TRACE_OUT && l + n + 2 < sizeof cmds) { memcpy(cmds + l, p, n); cmds[l + n] = '\n'; cmds[l + n + 1] = 0; }
}

/* Postfix offers CHUNKING: the body goes as BDAT (RFC 3030), no dot-stuffing,
   and arrives the same as with DATA (leading dots included). */
TEST(postfix_bdat_and_data_agree)
{
    smtp_config cfg;
    smtp_message m;
    const char *to[] = { "bob@example.com", NULL };
    char text[200], path[700], *eml[2];
    static char big[100000];
    int k;
    memset(big, 'b', sizeof big - 1);
    for (k = 0; k < 2; k++) {
        cfg_plain(&cfg, PF_PORT);
        cfg.trace = collect; cfg.no_chunking = k;
        cmds[0] = 0;
        CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
        CHECK(smtp_extensions(&S) & SMTP_EXT_CHUNKING);
        snprintf(text, sizeof text, ".leading dot %lld\n..two\n.\nend", now_ms());
        memset(&m, 0, sizeof m);
        m.from = "alice@example.com"; m.to = to; m.subject = "chunks"; m.text = text;
        CHECK_EQ_INT(smtp_send(&S, &m), SMTP_OK);
        m.text = big;                                  /* several chunks */
        CHECK_EQ_INT(smtp_send(&S, &m), SMTP_OK);
        CHECK_EQ_INT(smtp_close(&S), SMTP_OK);
        if (k == 0) { CHECK_CONTAINS(cmds, "BDAT 16352\n"); CHECK_CONTAINS(cmds, " LAST\n"); CHECK(strstr(cmds, "DATA\n") == NULL); }
        else { CHECK_CONTAINS(cmds, "DATA\n"); CHECK(strstr(cmds, "BDAT") == NULL); }
        CHECK(pf_find(text, path, sizeof path));
        eml[k] = slurp(path, NULL);
        CHECK_CONTAINS(eml[k], "\n\n.leading dot ");
        CHECK_CONTAINS(eml[k], "\n..two\n.\nend\n");
    }
    free(eml[0]); free(eml[1]);
}

TEST(postfix_batch_pipelined)
{
    smtp_config cfg;
    smtp_message m[20];
    smtp_result res[20];
    static char texts[20][64];
    const char *to[] = { "bob@example.com", NULL }, *to_bad[] = { "refuse@example.com", NULL };
    char path[700];
    int i;
    cfg_plain(&cfg, PF_PORT);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    memset(m, 0, sizeof m);
    for (i = 0; i < 20; i++) {
        snprintf(texts[i], sizeof texts[i], "batch message %d of %lld", i, now_ms());
        m[i].from = "alice@example.com"; m[i].to = i == 7 ? to_bad : to; m[i].text = texts[i];
    }
    CHECK_EQ_INT(smtp_send_batch(&S, m, 20, res), SMTP_ERR_REPLY);
    for (i = 0; i < 20; i++) CHECK_EQ_INT(res[i], i == 7 ? SMTP_ERR_REPLY : SMTP_OK);
    CHECK_EQ_INT(smtp_close(&S), SMTP_OK);
    for (i = 0; i < 20; i++) if (i != 7) CHECK(pf_find(texts[i], path, sizeof path));
}

/* ---- the hostile server: faults no real server makes ------------------- */

TEST(hostile_greeting_never_sent)
{
    smtp_config cfg;
    long long t0, el;
    cfg_plain(&cfg, hport(0));
    cfg.greeting_timeout_ms = 300;
    t0 = now_ms();
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_TIMEOUT);
    el = now_ms() - t0;
    printf("  greeting timeout 300 ms ended after %lld ms\n", el);
    CHECK(deadline_kept(el, 300));              /* the server holds the socket 60 s */
    CHECK_CONTAINS(smtp_error_detail(&S), "no greeting");
    smtp_close(&S);
}

TEST(hostile_reply_trickled)
{
    smtp_config cfg;
    long long t0, el;
    cfg_plain(&cfg, hport(1));
    cfg.timeout_ms = 500;
    t0 = now_ms();
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_TIMEOUT);
    el = now_ms() - t0;
    printf("  trickled reply, timeout 500 ms, ended after %lld ms\n", el);
    CHECK(deadline_kept(el, 500));              /* the whole reply takes 30 s */
    CHECK_CONTAINS(smtp_error_detail(&S), "EHLO");
    smtp_close(&S);
}

TEST(hostile_greeting_trickled)
{
    smtp_config cfg;
    long long t0, el;
    cfg_plain(&cfg, hport(6));
    cfg.greeting_timeout_ms = 400;
    t0 = now_ms();
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_TIMEOUT);
    el = now_ms() - t0;
    printf("  trickled greeting, timeout 400 ms, ended after %lld ms\n", el);
    CHECK(deadline_kept(el, 400));              /* the whole greeting takes 20 s */
    smtp_close(&S);
}

TEST(hostile_100k_reply_line)
{
    smtp_config cfg;
    cfg_plain(&cfg, hport(2));
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_TOO_LONG);
    CHECK_CONTAINS(smtp_error_detail(&S), "longer than");
    CHECK_EQ_INT(smtp_noop(&S), SMTP_ERR_TOO_LONG);   /* sticky */
    smtp_close(&S);
    cfg_plain(&cfg, hport(7));                      /* an endless multi-line reply */
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_TOO_LONG);
    smtp_close(&S);
}

/* Larger than every socket buffer on the way (loopback autotuning grows
   them to several MB): the server's drop must come before the end of the
   message can be handed to the kernel, or the outcome is rightly unknown. */
static void big_message(smtp_message *m, const char **to)
{
    static char big[32 << 20];
    memset(big, 'a', sizeof big - 1);
    {
        size_t i;
        for (i = 80; i < sizeof big - 1; i += 80) big[i] = '\n';
    }
    memset(m, 0, sizeof *m);
    m->from = "alice@example.com"; m->to = to; m->text = big;
}

TEST(hostile_drop_during_data_is_not_success)
{
    smtp_config cfg;
    smtp_message m;
    smtp_rcpt_result res[1];
    const char *to[] = { "bob@example.com", NULL };
    long long t0;
    cfg_plain(&cfg, hport(3));
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    big_message(&m, to);
    m.results = res; m.results_cap = 1; res[0].accepted = 7;
    t0 = now_ms();
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_ERR_CLOSED);   /* seen as the drop, not as a timeout */
    CHECK(now_ms() - t0 < CALM_MS / 2);
    CHECK_EQ_INT(res[0].accepted, 0);          /* not delivered, and said why: nothing counted as sent */
    CHECK_EQ_INT(res[0].code, 0);
    CHECK_CONTAINS(res[0].text, "closed the connection");
    CHECK_CONTAINS(smtp_error_detail(&S), "closed the connection");
    CHECK_EQ_INT(smtp_close(&S), SMTP_ERR_CLOSED);
    cfg_plain(&cfg, hport(4));                  /* closed right after 354 */
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_ERR_CLOSED);
    smtp_close(&S);
}

TEST(hostile_bad_replies)
{
    static const int ports[] = { 8, 9, 12, 11 };   /* bad code, 999, mixed codes, extra reply */
    smtp_config cfg;
    size_t i;
    for (i = 0; i < sizeof ports / sizeof *ports; i++) {
        cfg_plain(&cfg, hport(ports[i]));
        CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PROTOCOL);
        smtp_close(&S);
    }
}

TEST(hostile_554_greeting)
{
    smtp_config cfg;
    cfg_plain(&cfg, hport(5));
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_REPLY);
    CHECK_CONTAINS(smtp_error_detail(&S), "554 5.3.2 no service here");
    CHECK_EQ_INT(smtp_last_reply(&S)->code, 221);   /* we said QUIT, as RFC 5321 3.1 asks */
    smtp_close(&S);
}

TEST(hostile_helo_fallback_and_quit_never_answered)
{
    smtp_config cfg;
    smtp_message m;
    const char *to[] = { "bob@example.com", NULL };
    long long t0, el;
    cfg_plain(&cfg, hport(13));
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(smtp_extensions(&S), 0);
    memset(&m, 0, sizeof m);
    m.from = "alice@example.com"; m.to = to; m.text = "via HELO";
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_OK);
    smtp_close(&S);
    cfg_plain(&cfg, hport(10));
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_OK);
    S.cfg.timeout_ms = 300;                      /* the deadline under test is QUIT's alone */
    t0 = now_ms();
    CHECK_EQ_INT(smtp_close(&S), SMTP_OK);       /* the message went; QUIT's silence is no error */
    el = now_ms() - t0;
    printf("  QUIT never answered, timeout 300 ms, close took %lld ms\n", el);
    CHECK(deadline_kept(el, 300));               /* the server holds the socket 60 s */
}

int main(void)
{
    itest_env();
    RUN(aiosmtpd_data_write_byte_exact);
    RUN(aiosmtpd_composer_parsed_by_python);
    RUN(aiosmtpd_local_address_is_recorded);
    RUN(aiosmtpd_refused_recipient);
    RUN(aiosmtpd_452_continues_in_new_transaction);
    RUN(aiosmtpd_injection_sends_no_mail_command);
    RUN(aiosmtpd_ipv6_loopback);
    RUN(connect_refused_names_the_server);
    RUN(postfix_delivers_intact);
    RUN(postfix_batch_pipelined);
    RUN(postfix_bdat_and_data_agree);
    /* timing tests, one at a time */
    RUN(hostile_greeting_never_sent);
    RUN(hostile_reply_trickled);
    RUN(hostile_greeting_trickled);
    RUN(hostile_100k_reply_line);
    RUN(hostile_drop_during_data_is_not_success);
    RUN(hostile_bad_replies);
    RUN(hostile_554_greeting);
    RUN(hostile_helo_fallback_and_quit_never_answered);
    return TEST_END();
}
