/* proxy.c - SOCKS4, SOCKS4a, SOCKS5 and HTTP CONNECT through real proxies
   on loopback (Dante, Twisted, tinyproxy; tests/peers/proxies.sh), to
   real servers (aiosmtpd, Postfix), in cleartext, STARTTLS and implicit
   TLS. What arrived is read back. */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include "test.h"
#include "itest.h"

static void cfg_px(smtp_config *c, const char *host, int port, smtp_security mode, const char *ca,
                   smtp_proxy_type type, int pport, const char *user, const char *pass)
{
    memset(c, 0, sizeof *c);
    c->host = host; c->port = port; c->security = mode; c->ca_file = ca;
    c->helo_name = "client.test"; c->timeout_ms = CALM_MS; c->connect_timeout_ms = CALM_MS;
    c->proxy.type = type; c->proxy.host = "127.0.0.1"; c->proxy.port = pport;
    c->proxy.username = user; c->proxy.password = pass;
}

static smtp_result send_text(const char *text)
{
    smtp_message m;
    const char *to[] = { "bob@example.com", NULL };
    memset(&m, 0, sizeof m);
    m.from = "alice@example.com"; m.to = to; m.subject = "via a proxy"; m.text = text;
    return smtp_send(&S, &m);
}

/* The message text must be in the newest aiosmtpd message of spool. */
static int aio_last_has(const char *spool, const char *text)
{
    size_t len;
    char *eml = aio_msg(spool, aio_count(spool), "eml", &len);
    int ok = eml && strstr(eml, text) != NULL;
    free(eml);
    return ok;
}

TEST(socks5_with_password_starttls_and_implicit)
{
    smtp_config cfg;
    char text[80], path[700];
    snprintf(text, sizeof text, "socks5 starttls %lld", now_ms());
    cfg_px(&cfg, "localhost", AIOTLS, SMTP_SECURITY_STARTTLS, CA, SMTP_PROXY_SOCKS5, SOCKS5, "proxyuser", "proxy pass");
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_STR(smtp_tls_version(&S), "TLSv1.2");
    CHECK_EQ_INT(send_text(text), SMTP_OK);
    smtp_close(&S);
    CHECK(aio_last_has("aiotls", text));
    /* implicit TLS to Postfix, certificate checked against "localhost", not the proxy */
    snprintf(text, sizeof text, "socks5 implicit %lld", now_ms());
    cfg_px(&cfg, "localhost", PF_IMPL, SMTP_SECURITY_IMPLICIT, PF_CA, SMTP_PROXY_SOCKS5, SOCKS5, "proxyuser", "proxy pass");
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(send_text(text), SMTP_OK);
    smtp_close(&S);
    CHECK(pf_find(text, path, sizeof path));
    /* AUTO through the proxy finds implicit TLS */
    cfg.security = SMTP_SECURITY_AUTO;
    cfg.greeting_timeout_ms = 3000;   /* the STARTTLS guess waits this long; it also bounds the implicit handshake */
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(smtp_security_used(&S), SMTP_SECURITY_IMPLICIT);
    smtp_close(&S);
}

TEST(socks5_refusals)
{
    smtp_config cfg;
    cfg_px(&cfg, "127.0.0.1", AIO_PORT, SMTP_SECURITY_NONE, NULL, SMTP_PROXY_SOCKS5, SOCKS5, "proxyuser", "wrong");
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PROXY);
    CHECK_CONTAINS(smtp_error_detail(&S), "authentication failed");
    smtp_close(&S);
    cfg_px(&cfg, "127.0.0.1", AIO_PORT, SMTP_SECURITY_NONE, NULL, SMTP_PROXY_SOCKS5, SOCKS5, NULL, NULL);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PROXY);
    CHECK_CONTAINS(smtp_error_detail(&S), "user name and password");
    smtp_close(&S);
    cfg_px(&cfg, "127.0.0.1", 1, SMTP_SECURITY_NONE, NULL, SMTP_PROXY_SOCKS5, SOCKS5_NOAUTH, NULL, NULL);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PROXY);
    CHECK_CONTAINS(smtp_error_detail(&S), "127.0.0.1:1");
    smtp_close(&S);
    /* the proxy itself unreachable: a connect error naming the proxy */
    cfg_px(&cfg, "127.0.0.1", AIO_PORT, SMTP_SECURITY_NONE, NULL, SMTP_PROXY_SOCKS5, 1, NULL, NULL);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_CONNECT);
    CHECK_CONTAINS(smtp_error_detail(&S), "proxy 127.0.0.1 port 1");
    smtp_close(&S);
}

TEST(socks5_ipv6_target_and_proxy)
{
    smtp_config cfg;
    char text[80], *json;
    size_t len;
    if (!getenv("HAVE_IPV6")) { printf("  (no ::1 here: skipped)\n"); return; }
    snprintf(text, sizeof text, "socks5 to ::1 %lld", now_ms());
    cfg_px(&cfg, "::1", AIO_PORT, SMTP_SECURITY_NONE, NULL, SMTP_PROXY_SOCKS5, SOCKS5_NOAUTH, NULL, NULL);
    cfg.proxy.host = "::1";
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(send_text(text), SMTP_OK);
    smtp_close(&S);
    CHECK(aio_last_has("aiosmtpd", text));
    json = aio_msg("aiosmtpd", aio_count("aiosmtpd"), "json", &len);
    CHECK_CONTAINS(json, "\"peer\":[\"::1\"");          /* the proxy reached the server over IPv6 */
    free(json);
}

TEST(socks4_and_socks4a)
{
    smtp_config cfg;
    char text[80], path[600], *log;
    snprintf(text, sizeof text, "socks4 %lld", now_ms());
    cfg_px(&cfg, "localhost", AIO_PORT, SMTP_SECURITY_NONE, NULL, SMTP_PROXY_SOCKS4, SOCKS4, "someone", NULL);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);        /* the client resolved localhost to 127.0.0.1 */
    CHECK_EQ_INT(send_text(text), SMTP_OK);
    smtp_close(&S);
    CHECK(aio_last_has("aiosmtpd", text));
    /* SOCKS4a: the name travels, Twisted resolves it; STARTTLS checks "localhost" */
    snprintf(text, sizeof text, "socks4a %lld", now_ms());
    cfg_px(&cfg, "localhost", AIOTLS, SMTP_SECURITY_STARTTLS, CA, SMTP_PROXY_SOCKS4A, SOCKS4A, NULL, NULL);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(send_text(text), SMTP_OK);
    smtp_close(&S);
    CHECK(aio_last_has("aiotls", text));
    snprintf(path, sizeof path, "%s/proxies/socks4a-requests.log", RUNDIR);
    log = slurp(path, NULL);
    CHECK_CONTAINS(log, "localhost");
    free(log);
    /* local_address binds the connection to the proxy; the user id travels */
    cfg_px(&cfg, "localhost", AIO_PORT, SMTP_SECURITY_NONE, NULL, SMTP_PROXY_SOCKS4A, SOCKS4A, "tester", NULL);
    cfg.local_address = "127.0.0.2";
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    smtp_close(&S);
    log = slurp(path, NULL);
    CHECK_CONTAINS(log, "\"userid\": \"tester\", \"command\": 1, \"reply\": 90, \"peer\": \"127.0.0.2\"");
    free(log);
    cfg_px(&cfg, "127.0.0.1", 1, SMTP_SECURITY_NONE, NULL, SMTP_PROXY_SOCKS4A, SOCKS4A, NULL, NULL);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PROXY);
    CHECK_CONTAINS(smtp_error_detail(&S), "91");
    smtp_close(&S);
}

TEST(http_connect_with_basic_auth)
{
    smtp_config cfg;
    char text[80], path[700];
    snprintf(text, sizeof text, "http starttls %lld", now_ms());
    cfg_px(&cfg, "localhost", AIOTLS, SMTP_SECURITY_STARTTLS, CA, SMTP_PROXY_HTTP, HTTP, "proxyuser", "proxypass");
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(send_text(text), SMTP_OK);
    smtp_close(&S);
    CHECK(aio_last_has("aiotls", text));
    snprintf(text, sizeof text, "http implicit %lld", now_ms());
    cfg_px(&cfg, "localhost", PF_IMPL, SMTP_SECURITY_IMPLICIT, PF_CA, SMTP_PROXY_HTTP, HTTP, "proxyuser", "proxypass");
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(send_text(text), SMTP_OK);
    smtp_close(&S);
    CHECK(pf_find(text, path, sizeof path));
    /* cleartext: the greeting may arrive in the proxy's segment and must not be lost */
    cfg_px(&cfg, "127.0.0.1", AIO_PORT, SMTP_SECURITY_NONE, NULL, SMTP_PROXY_HTTP, HTTP, "proxyuser", "proxypass");
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    smtp_close(&S);
    cfg.proxy.password = "wrong";
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PROXY);
    CHECK_CONTAINS(smtp_error_detail(&S), "authentication failed");
    smtp_close(&S);
    cfg.proxy.username = NULL; cfg.proxy.password = NULL;
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PROXY);
    CHECK_CONTAINS(smtp_error_detail(&S), "407");
    CHECK_CONTAINS(smtp_error_detail(&S), "wants credentials");
    smtp_close(&S);
}

int main(void)
{
    itest_env();
    RUN(socks5_with_password_starttls_and_implicit);
    RUN(socks5_refusals);
    RUN(socks5_ipv6_target_and_proxy);
    RUN(socks4_and_socks4a);
    RUN(http_connect_with_basic_auth);
    return TEST_END();
}
