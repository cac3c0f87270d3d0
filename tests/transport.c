/* transport.c - issue 15: SMTP over a Unix-domain socket (cfg.socket_path,
   msmtp's socket key) to real servers started by tests/servers.sh
   (start_unix_peers): aiosmtpd in cleartext, STARTTLS and implicit TLS,
   and Postfix's smtpd on a unix service. What arrived is read back from
   each server's spool; the bad paths fail with the field named. */
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

int main(void)
{
    itest_env();
    RUN(aiosmtpd_cleartext_starttls_implicit);
    RUN(postfix_on_a_unix_service);
    RUN(bad_socket_paths);
    RUN(socket_key_in_a_config_file);
    return TEST_END();
}
