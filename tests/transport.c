/* transport.c - issue 15: other ways to the server than a TCP connection
   of smtp.h's own.
   - A Unix-domain socket (cfg.socket_path, msmtp's socket key) to real
     servers started by tests/servers.sh (start_unix_peers): aiosmtpd in
     cleartext, STARTTLS and implicit TLS, and Postfix's smtpd on a unix
     service.
   - The caller's own stream (cfg.transport): a transport that wraps a TCP
     socket it opened itself and counts and keeps every byte, under
     cleartext, STARTTLS and implicit TLS to aiosmtpd and Postfix.
   What arrived is read back from each server's spool; the bad paths fail
   with the field named. */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include "test.h"
#include "itest.h"

static const char *env_path(const char *name)
{
    const char *p = getenv(name);
    if (!p || !*p) { fprintf(stderr, "transport: %s is not set (run from tests/run-integration.sh)\n", name); exit(2); }
    return p;
}

static void cfg_unix(smtp_config *c, const char *path, smtp_security mode)
{
    memset(c, 0, sizeof *c);
    c->socket_path = path; c->security = mode; c->ca_file = CA;
    c->helo_name = "client.test"; c->timeout_ms = CALM_MS; c->connect_timeout_ms = CALM_MS;
}

static smtp_result send_text(const char *text)
{
    smtp_message m;
    const char *to[] = { "bob@example.com", NULL };
    memset(&m, 0, sizeof m);
    m.from = "alice@example.com"; m.to = to; m.subject = "over a Unix socket"; m.text = text;
    return smtp_send(&S, &m);
}

/* The newest message of the aiosmtpd spool holds text. */
static int aio_last_has_text(const char *spool, const char *text)
{
    size_t len;
    char *eml = aio_msg(spool, aio_count(spool), "eml", &len);
    int ok = eml && strstr(eml, text) != NULL;
    free(eml);
    return ok;
}

/* The newest message of the aiosmtpd spool holds text, and its .json says
   it came over the Unix listener path. */
static int aio_unix_last(const char *spool, const char *text, const char *path)
{
    size_t len, jl;
    int n = aio_count(spool), ok;
    char *eml = aio_msg(spool, n, "eml", &len), *json = aio_msg(spool, n, "json", &jl), want[600];
    snprintf(want, sizeof want, "unix:%s", path);
    ok = eml && json && strstr(eml, text) && strstr(json, want);
    free(eml); free(json);
    return ok;
}

TEST(aiosmtpd_cleartext_starttls_implicit)
{
    smtp_config cfg;
    char text[96];
    const char *plain = env_path("AIO_UNIX"), *tls = env_path("AIO_UNIX_TLS"), *impl = env_path("AIO_UNIX_IMPLICIT");
    int before = aio_count("aiounix");
    /* cleartext: no host at all, the peer is named by its path */
    snprintf(text, sizeof text, "unix cleartext %lld", now_ms());
    cfg_unix(&cfg, plain, SMTP_SECURITY_NONE);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK(smtp_extensions(&S) & SMTP_EXT_PIPELINING);
    CHECK_EQ_INT(send_text(text), SMTP_OK);
    CHECK_EQ_INT(smtp_close(&S), SMTP_OK);
    CHECK_EQ_INT(aio_wait_count("aiounix", before + 1), before + 1);
    CHECK(aio_unix_last("aiounix", text, plain));
    /* STARTTLS, the certificate checked against "localhost" (host unset) */
    before = aio_count("aiounixtls");
    snprintf(text, sizeof text, "unix starttls %lld", now_ms());
    cfg_unix(&cfg, tls, SMTP_SECURITY_STARTTLS);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_STR(smtp_tls_version(&S), "TLSv1.2");
    CHECK_EQ_INT(send_text(text), SMTP_OK);
    smtp_close(&S);
    CHECK_EQ_INT(aio_wait_count("aiounixtls", before + 1), before + 1);
    CHECK(aio_unix_last("aiounixtls", text, tls));
    /* implicit TLS; AUTO finds it on the socket (the probe hears no greeting) */
    snprintf(text, sizeof text, "unix implicit %lld", now_ms());
    cfg_unix(&cfg, impl, SMTP_SECURITY_AUTO);
    cfg.greeting_timeout_ms = 3000;
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(smtp_security_used(&S), SMTP_SECURITY_IMPLICIT);
    CHECK_EQ_INT(send_text(text), SMTP_OK);
    smtp_close(&S);
    CHECK_EQ_INT(aio_wait_count("aiounixtls", before + 2), before + 2);
    CHECK(aio_unix_last("aiounixtls", text, impl));
    /* a certificate for another name still fails over a socket */
    cfg_unix(&cfg, impl, SMTP_SECURITY_IMPLICIT);
    cfg.host = "mail.example.com";
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_CERT);
    smtp_close(&S);
}

TEST(postfix_on_a_unix_service)
{
    smtp_config cfg;
    char text[96], path[700];
    snprintf(text, sizeof text, "postfix unix %lld", now_ms());
    cfg_unix(&cfg, env_path("PF_UNIX"), SMTP_SECURITY_STARTTLS);
    cfg.ca_file = PF_CA;
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(send_text(text), SMTP_OK);
    smtp_close(&S);
    CHECK(pf_find(text, path, sizeof path));
}

TEST(bad_socket_paths)
{
    smtp_config cfg;
    char longp[200];
    cfg_unix(&cfg, "/nonexistent/smtp.sock", SMTP_SECURITY_NONE);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_CONNECT);
    CHECK_CONTAINS(smtp_error_detail(&S), "/nonexistent/smtp.sock");
    smtp_close(&S);
    memset(longp, 'x', sizeof longp - 1); longp[0] = '/'; longp[sizeof longp - 1] = 0;
    cfg_unix(&cfg, longp, SMTP_SECURITY_NONE);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PARAM);
    CHECK_CONTAINS(smtp_error_detail(&S), "cfg.socket_path");
    smtp_close(&S);
    cfg_unix(&cfg, env_path("AIO_UNIX"), SMTP_SECURITY_NONE);
    cfg.proxy.type = SMTP_PROXY_SOCKS5; cfg.proxy.host = "127.0.0.1"; cfg.proxy.port = 1080;
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PARAM);
    CHECK_CONTAINS(smtp_error_detail(&S), "cfg.proxy");
    smtp_close(&S);
}

TEST(socket_key_in_a_config_file)
{
    smtp_settings st;
    char file[700], text[96];
    FILE *f;
    int before = aio_count("aiounix");
    snprintf(file, sizeof file, "%s/transport-msmtprc", RUNDIR);
    f = fopen(file, "w");
    CHECK(f != NULL);
    if (!f) return;
    fprintf(f, "account default\nsocket %s\ntls off\nfrom alice@example.com\n", env_path("AIO_UNIX"));
    fclose(f);
    chmod(file, 0600);
    CHECK_EQ_INT(smtp_config_load(&st, file, NULL), SMTP_OK);
    CHECK_EQ_STR(st.cfg.socket_path, env_path("AIO_UNIX"));
    st.cfg.timeout_ms = CALM_MS;
    CHECK_EQ_INT(smtp_open(&S, &st.cfg), SMTP_OK);
    snprintf(text, sizeof text, "unix from a config file %lld", now_ms());
    CHECK_EQ_INT(send_text(text), SMTP_OK);
    smtp_close(&S);
    smtp_settings_free(&st);
    CHECK_EQ_INT(aio_wait_count("aiounix", before + 1), before + 1);
    CHECK(aio_unix_last("aiounix", text, env_path("AIO_UNIX")));
}

/* ---- cfg.transport: a TCP socket of the test's own, every byte counted ---- */
#include <poll.h>
#include <netinet/in.h>
#include <sys/socket.h>

typedef struct counted {
    int fd, closes;
    size_t in, out;                  /* bytes read and written */
    char sent[1 << 20];              /* what the client wrote, for reading back */
} counted;
static counted C;

static int c_wait(int fd, short ev, int timeout_ms)
{
    struct pollfd p;
    p.fd = fd; p.events = ev; p.revents = 0;
    return poll(&p, 1, timeout_ms);
}

static int c_read(void *user, void *buf, size_t n, int timeout_ms)
{
    counted *c = (counted *)user;
    ssize_t k;
    if (c_wait(c->fd, POLLIN, timeout_ms) == 0) return SMTP_ERR_TIMEOUT;
    k = recv(c->fd, buf, n, 0);
    if (k < 0) return SMTP_ERR_IO;
    c->in += (size_t)k;
    return (int)k;   /* 0: the server closed */
}

static int c_write(void *user, const void *buf, size_t n, int timeout_ms)
{
    counted *c = (counted *)user;
    ssize_t k;
    if (n > 1000) n = 1000;   /* a stream that takes little at a time: the library must loop */
    if (c_wait(c->fd, POLLOUT, timeout_ms) == 0) return SMTP_ERR_TIMEOUT;
    k = send(c->fd, buf, n, MSG_NOSIGNAL);
    if (k < 0) return SMTP_ERR_IO;
    if (c->out + (size_t)k <= sizeof c->sent) memcpy(c->sent + c->out, buf, (size_t)k);
    c->out += (size_t)k;
    return (int)k;
}

static void c_close(void *user)
{
    counted *c = (counted *)user;
    c->closes++;
    close(c->fd);
    c->fd = -1;
}

static const smtp_transport counting = { c_read, c_write, c_close, &C };

/* A TCP connection of the test's own to 127.0.0.1:port. */
static int c_connect(int port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&C, 0, sizeof C);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET; a.sin_port = htons((unsigned short)port); a.sin_addr.s_addr = htonl(0x7f000001);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) return -1;
    C.fd = fd;
    return 0;
}

static void cfg_own(smtp_config *c, smtp_security mode, const char *ca)
{
    memset(c, 0, sizeof *c);
    c->transport = &counting; c->host = "localhost"; c->security = mode; c->ca_file = ca;
    c->helo_name = "client.test"; c->timeout_ms = CALM_MS;
}

TEST(own_transport_cleartext_starttls_implicit)
{
    smtp_config cfg;
    char text[96], big[5000], path[700];
    size_t i;
    int before;
    /* cleartext to aiosmtpd: the message is in what the transport carried, and in the spool */
    for (i = 0; i + 1 < sizeof big; i++) big[i] = (char)('a' + i % 26);
    big[sizeof big - 1] = 0;
    snprintf(text, sizeof text, "own transport cleartext %lld", now_ms());
    before = aio_count("aiosmtpd");
    CHECK_EQ_INT(c_connect(AIO_PORT), 0);
    cfg_own(&cfg, SMTP_SECURITY_NONE, NULL);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(send_text(text), SMTP_OK);
    CHECK_EQ_INT(smtp_close(&S), SMTP_OK);
    CHECK_EQ_INT(C.closes, 1);
    CHECK(C.in > 0 && C.out > 0);
    CHECK(memmem(C.sent, C.out, text, strlen(text)) != NULL);
    CHECK(memmem(C.sent, C.out, "QUIT\r\n", 6) != NULL);
    CHECK_EQ_INT(aio_wait_count("aiosmtpd", before + 1), before + 1);
    /* STARTTLS to aiosmtpd, a body larger than one write: after STARTTLS nothing is readable */
    snprintf(text, sizeof text, "own transport starttls %lld ", now_ms());
    before = aio_count("aiotls");
    CHECK_EQ_INT(c_connect(AIOTLS), 0);
    cfg_own(&cfg, SMTP_SECURITY_STARTTLS, CA);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_STR(smtp_tls_version(&S), "TLSv1.2");
    {
        char msg[sizeof text + sizeof big];
        snprintf(msg, sizeof msg, "%s%s", text, big);
        CHECK_EQ_INT(send_text(msg), SMTP_OK);
    }
    smtp_close(&S);
    CHECK(memmem(C.sent, C.out, "STARTTLS\r\n", 10) != NULL);
    CHECK(memmem(C.sent, C.out, text, strlen(text)) == NULL);      /* encrypted on the way */
    CHECK(memmem(C.sent, C.out, "MAIL FROM", 9) == NULL);
    CHECK(C.out > sizeof big);
    CHECK_EQ_INT(aio_wait_count("aiotls", before + 1), before + 1);
    CHECK(aio_last_has_text("aiotls", text));
    /* implicit TLS to Postfix */
    snprintf(text, sizeof text, "own transport implicit %lld", now_ms());
    CHECK_EQ_INT(c_connect(PF_IMPL), 0);
    cfg_own(&cfg, SMTP_SECURITY_IMPLICIT, PF_CA);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(send_text(text), SMTP_OK);
    smtp_close(&S);
    CHECK(memmem(C.sent, C.out, "EHLO", 4) == NULL);
    CHECK(pf_find(text, path, sizeof path));
}

/* A stream that breaks its contract or fails is an error, never trusted. */
static int liar_read(void *user, void *buf, size_t n, int timeout_ms)
{
    (void)user; (void)buf; (void)timeout_ms;
    return (int)n + 5;   /* claims more than it was given room for */
}

static int dead_write(void *user, const void *buf, size_t n, int timeout_ms)
{
    (void)user; (void)buf; (void)n; (void)timeout_ms;
    return 0;   /* the peer is gone */
}

TEST(own_transport_contract)
{
    static const smtp_transport liar = { liar_read, c_write, NULL, &C };
    static const smtp_transport dead = { c_read, dead_write, NULL, &C };
    static const smtp_transport half = { c_read, NULL, NULL, &C };
    smtp_config cfg;
    CHECK_EQ_INT(c_connect(AIO_PORT), 0);
    cfg_own(&cfg, SMTP_SECURITY_NONE, NULL);
    cfg.transport = &liar;
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_IO);
    smtp_close(&S);
    cfg.transport = &dead;
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_CLOSED);   /* the greeting came; EHLO could not go */
    smtp_close(&S);
    close(C.fd);
    cfg.transport = &half;
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PARAM);
    CHECK_CONTAINS(smtp_error_detail(&S), "cfg.transport");
    smtp_close(&S);
    cfg.transport = &counting; cfg.messages_per_connection = 5;
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PARAM);
    smtp_close(&S);
}

int main(void)
{
    itest_env();
    RUN(own_transport_cleartext_starttls_implicit);
    RUN(own_transport_contract);
    RUN(aiosmtpd_cleartext_starttls_implicit);
    RUN(postfix_on_a_unix_service);
    RUN(bad_socket_paths);
    RUN(socket_key_in_a_config_file);
    return TEST_END();
}
