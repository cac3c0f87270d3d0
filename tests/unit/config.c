/* config.c - unit tests of smtp.h's >>config: address checks, the TLS
   version setters, what smtp_open refuses before connecting, the msmtp
   configuration file, URLs and smtp_settings_set. */
#include "unit.h"

TEST(addresses)
{
    const char *a, *bad;
    size_t n;
    CHECK(smtp__addr("bob@example.com", 1, &a, &n) == NULL && n == 15);
    CHECK(smtp__addr("Bob Smith <bob@example.com>", 1, &a, &n) == NULL && n == 15 && !strncmp(a, "bob@", 4));
    CHECK(smtp__addr("  bob@example.com  ", 1, &a, &n) == NULL && n == 15);
    CHECK(smtp__addr("\"A <b>\" <c@d>", 1, &a, &n) == NULL && n == 3);
    CHECK(smtp__addr("", 0, &a, &n) == NULL && n == 0);          /* null sender */
    CHECK(smtp__addr("<>", 0, &a, &n) == NULL && n == 0);
    CHECK(smtp__addr("", 1, &a, &n) != NULL);
    CHECK(smtp__addr("postmaster", 1, &a, &n) == NULL);
    CHECK(smtp__addr("PostMaster", 1, &a, &n) == NULL);
    CHECK(smtp__addr("postmaster", 0, &a, &n) != NULL);
    CHECK((bad = smtp__addr("a@b\r\nRCPT TO:<x@y>", 1, &a, &n)) != NULL);
    CHECK_CONTAINS(bad, "control");
    CHECK(smtp__addr("nobody", 1, &a, &n) != NULL);
    CHECK(smtp__addr("@b", 1, &a, &n) != NULL);
    CHECK(smtp__addr("a@", 1, &a, &n) != NULL);
    CHECK(smtp__addr("a b@c", 1, &a, &n) != NULL);
    CHECK(smtp__addr("x <a@b", 1, &a, &n) != NULL);
    CHECK(smtp__addr("x <a@b> y", 1, &a, &n) != NULL);
    {
        char big[300];
        memset(big, 'a', sizeof big);
        memcpy(big + 250, "@b.co", 6);             /* 255 octets */
        CHECK(smtp__addr(big, 1, &a, &n) != NULL);
        big[249] = 0; big[248] = 'c';
        memcpy(big + 240, "@b.co", 5);             /* 249 octets */
        CHECK(smtp__addr(big, 1, &a, &n) == NULL);
    }
}

TEST(tls_version_setters)
{
    smtp_config c;
    memset(&c, 0, sizeof c);
    CHECK_EQ_INT(smtp_config_set_tls_versions(&c, SMTP_TLS_1_2 | SMTP_TLS_1_3), SMTP_OK);
    CHECK_EQ_INT(c.tls_versions, SMTP_TLS_1_2);
    CHECK_EQ_INT(smtp_config_set_tls_versions(&c, SMTP_TLS_1_3), SMTP_OK);
    CHECK_EQ_INT(c.tls_versions, SMTP_TLS_1_2);
    CHECK_EQ_INT(smtp_config_set_tls_versions(&c, SMTP_TLS_1_0 | SMTP_TLS_1_2), SMTP_OK);
    CHECK_EQ_INT(c.tls_versions, SMTP_TLS_1_0 | SMTP_TLS_1_1 | SMTP_TLS_1_2);
    CHECK_EQ_INT(smtp_config_set_tls_versions(&c, SMTP_TLS_1_1), SMTP_OK);
    CHECK_EQ_INT(c.tls_versions, SMTP_TLS_1_1);
    CHECK_EQ_INT(smtp_config_set_tls_versions(&c, 1u << 4), SMTP_ERR_PARAM);
    CHECK_EQ_INT(smtp_config_set_tls_versions(&c, 0), SMTP_ERR_PARAM);
    CHECK_EQ_INT(c.tls_versions, SMTP_TLS_1_1);                 /* unchanged by the failures */
    CHECK_EQ_INT(smtp_config_set_tls_versions_unsafe(&c, SMTP_TLS_1_3), SMTP_OK);
    CHECK_EQ_INT(c.tls_versions, SMTP_TLS_1_3);
    CHECK_EQ_INT(smtp_config_set_tls_versions_unsafe(&c, SMTP_TLS_1_3 | 1u << 9), SMTP_ERR_PARAM);
}

TEST(unsupported_and_bad_config)
{
    smtp_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.host = "127.0.0.1";
#ifdef SMTP_NO_TLS
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_UNSUPPORTED);     /* AUTO is TLS */
    CHECK_CONTAINS(smtp_error_detail(&S), "SMTP_SECURITY_NONE");
    smtp_close(&S);
    cfg.security = SMTP_SECURITY_IMPLICIT;
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_UNSUPPORTED);
    CHECK_CONTAINS(smtp_error_detail(&S), "SMTP_NO_TLS");
    smtp_close(&S);
    {
        smtp_trust *t = (smtp_trust *)&cfg;
        CHECK_EQ_INT(smtp_trust_load_system(&t, NULL, 0), SMTP_ERR_UNSUPPORTED);
        CHECK(t == NULL);
    }
#else
    smtp_config_set_tls_versions_unsafe(&cfg, SMTP_TLS_1_2 | SMTP_TLS_1_3);
    cfg.port = 1;
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_UNSUPPORTED);     /* before connecting */
    CHECK_CONTAINS(smtp_error_detail(&S), "TLS 1.3");
    smtp_close(&S);
    cfg.tls_versions = 0;
#endif
    cfg.security = SMTP_SECURITY_NONE;
    cfg.proxy.type = SMTP_PROXY_SOCKS5;
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PARAM);
    CHECK_CONTAINS(smtp_error_detail(&S), "cfg.proxy.host");
    {
        static char long_user[300];
        memset(long_user, 'u', 256);
        cfg.proxy.host = "127.0.0.1"; cfg.proxy.port = 1080; cfg.proxy.username = long_user;
        CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PARAM);          /* RFC 1929: 255 at most */
        CHECK_CONTAINS(smtp_error_detail(&S), "255");
        cfg.proxy.username = "a\r\nb";
        CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PARAM);
        cfg.proxy.type = SMTP_PROXY_HTTP; cfg.proxy.username = "a:b";
        CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PARAM);          /* Basic: no ':' in the user */
        cfg.proxy.type = SMTP_PROXY_SOCKS4; cfg.proxy.username = "id"; cfg.proxy.password = "pw";
        CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PARAM);          /* SOCKS4 has no password */
        cfg.proxy.password = NULL; cfg.proxy.port = 0;
        CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PARAM);
        cfg.proxy.port = 1080; cfg.host = "::1";
        CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PARAM);          /* SOCKS4 is IPv4 only */
        cfg.host = "127.0.0.1"; cfg.proxy.username = NULL; cfg.proxy.host = NULL;
    }
    cfg.proxy.type = SMTP_PROXY_NONE;
    cfg.username = "u";
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PARAM);        /* no password */
    CHECK_CONTAINS(smtp_error_detail(&S), "cfg.password");
    cfg.password = "p\r\nMAIL FROM:<x@y>";
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PARAM);
    cfg.password = NULL;
    CHECK_EQ_INT(smtp_open(&S, NULL), SMTP_ERR_PARAM);
    cfg.username = NULL; cfg.host = "a\r\nb";
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PARAM);
    cfg.host = "127.0.0.1"; cfg.helo_name = "two words";
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PARAM);
    CHECK_CONTAINS(smtp_error_detail(&S), "helo_name");
    CHECK_EQ_INT(smtp_close(&S), SMTP_ERR_PARAM);   /* the error that ended it */
}

static const char *CONF =
    "# an msmtp file\n"
    "defaults\n"
    "auth on\n"
    "tls on\n"
    "tls_trust_file /etc/ssl/certs/ca-certificates.crt\n"
    "logfile ~/.msmtp.log\n"
    "timeout 20\n"
    "\n"
    "account base\n"
    "host mail.example.com\n"
    "port 587\n"
    "from base@example.com\n"
    "user \"base user\"\n"
    "password \"pa ss\\\"word\"\n"
    "\n"
    "account work : base\n"
    "from work@example.com\n"
    "auth cram-md5\n"
    "\n"
    "account plain\n"
    "host 127.0.0.1\n"
    "port 2525\n"
    "tls off\n"
    "proxy_host 127.0.0.1\n"
    "proxy_type http\n"
    "proxy_port 3128\n"
    "source_ip 127.0.0.2\n"
    "domain client.example\n"
    "greeting_timeout 5\n"
    "\n"
    "account implicit : base\n"
    "tls_starttls off\n"
    "tls_min_version 1.1\n"
    "tls_max_version 1.3\n"
    "passwordeval \"pass show mail\"\n"
    "\n"
    "account default : work\n";

TEST(config_file_accounts)
{
    smtp_settings st;
    const char *path = write_conf(CONF, 0600);
    CHECK_EQ_INT(smtp_config_load(&st, path, NULL), SMTP_OK);
    CHECK_EQ_STR(st.account, "default");
    CHECK_EQ_STR(st.cfg.host, "mail.example.com");
    CHECK_EQ_INT(st.cfg.port, 587);
    CHECK_EQ_STR(st.cfg.from, "work@example.com");              /* the child wins */
    CHECK_EQ_STR(st.cfg.username, "base user");
    CHECK_EQ_STR(st.cfg.password, "pa ss\"word");
    CHECK_EQ_INT(st.cfg.allowed_auth, SMTP_AUTH_CRAM_MD5);
    CHECK_EQ_INT(st.cfg.security, SMTP_SECURITY_STARTTLS);
    CHECK_EQ_STR(st.cfg.ca_file, "/etc/ssl/certs/ca-certificates.crt");
    CHECK_EQ_INT(st.cfg.timeout_ms, 20000);
    CHECK_CONTAINS(st.notes, ":6: logfile ignored");
    smtp_settings_free(&st);
    CHECK_EQ_INT(smtp_config_load(&st, path, "plain"), SMTP_OK);
    CHECK_EQ_INT(st.cfg.security, SMTP_SECURITY_NONE);
    CHECK_EQ_INT(st.cfg.proxy.type, SMTP_PROXY_HTTP);
    CHECK_EQ_INT(st.cfg.proxy.port, 3128);
    CHECK_EQ_STR(st.cfg.local_address, "127.0.0.2");
    CHECK_EQ_STR(st.cfg.helo_name, "client.example");
    CHECK_EQ_INT(st.cfg.greeting_timeout_ms, 5000);
    CHECK_EQ_INT(st.cfg.timeout_ms, 20000);                     /* from defaults */
    CHECK(st.cfg.username == NULL);
    smtp_settings_free(&st);
    CHECK_EQ_INT(smtp_config_load(&st, path, "implicit"), SMTP_OK);
    CHECK_EQ_INT(st.cfg.security, SMTP_SECURITY_IMPLICIT);
    CHECK_EQ_INT(st.cfg.tls_versions, SMTP_TLS_1_1 | SMTP_TLS_1_2);   /* 1.3 dropped */
    CHECK_EQ_STR(st.passwordeval, "pass show mail");
    CHECK_EQ_STR(st.cfg.from, "base@example.com");
    smtp_settings_free(&st);
    /* no tls line: our default (AUTO, TLS required), not msmtp's cleartext */
    path = write_conf("account default\nhost h.example\n", 0644);
    CHECK_EQ_INT(smtp_config_load(&st, path, NULL), SMTP_OK);
    CHECK_EQ_INT(st.cfg.security, SMTP_SECURITY_AUTO);
    CHECK_EQ_STR(st.notes, "");
    smtp_settings_free(&st);
    unlink(path);
    /* the same file with CRLF line ends (saved on Windows): the same accounts */
    {
        static char crlf[4096];
        size_t i, o = 0;
        for (i = 0; CONF[i] && o + 2 < sizeof crlf; i++) {
            if (CONF[i] == '\n') crlf[o++] = '\r';
            crlf[o++] = CONF[i];
        }
        crlf[o] = 0;
        path = write_conf(crlf, 0600);
        CHECK_EQ_INT(smtp_config_load(&st, path, NULL), SMTP_OK);
        CHECK_EQ_STR(st.account, "default");
        CHECK_EQ_STR(st.cfg.password, "pa ss\"word");
        CHECK_EQ_INT(st.cfg.timeout_ms, 20000);                    /* from defaults */
        CHECK_EQ_INT(st.cfg.security, SMTP_SECURITY_STARTTLS);
        smtp_settings_free(&st);
        unlink(path);
    }
}

TEST(config_file_errors)
{
    static const struct { const char *text; const char *says; } bad[] = {
        { "account a\nhost h\nfrobnicate yes\n", ":3: unknown key \"frobnicate\"" },
        { "account a\nport 99999\n", ":2: port: takes 1..65535 (got \"99999\")" },
        { "account a\nhost \"unterminated\n", ":2: unterminated quote" },
        { "account a\nhost h\n", "no account \"default\"" },
        { "account a : a\nhost h\naccount default : a\n", ":1: account \"a\" inherits from itself" },
        { "account a : b\naccount b : a\naccount default : a\n", "inherits from itself" },
        { "account a : nosuch\naccount default : a\n", "\"nosuch\", which is not defined" },
        { "host h\n", ":1: host: outside any account" },
        { "account default\ntls maybe\n", ":2: tls: takes on|off (got \"maybe\")" },
        { "account default\ntimeout soon\n", ":2: timeout:" },
        { "account default\ntls_fingerprint 12:34\n", "SHA-256" },
    };
    smtp_settings st;
    size_t i;
    for (i = 0; i < sizeof bad / sizeof *bad; i++) {
        const char *path = write_conf(bad[i].text, 0600);
        CHECK_EQ_INT(smtp_config_load(&st, path, NULL), SMTP_ERR_CONFIG);
        CHECK_CONTAINS(st.detail, bad[i].says);
        CHECK_CONTAINS(st.detail, path);
        smtp_settings_free(&st);
    }
    /* a password in a file others can read: refused, as msmtp does (not
       on Windows: no Unix modes there, and msmtp does not check them) */
    {
        const char *path = write_conf("account default\nhost h\npassword secret\n", 0644);
#ifdef _WIN32
        CHECK_EQ_INT(smtp_config_load(&st, path, NULL), SMTP_OK);
#else
        CHECK_EQ_INT(smtp_config_load(&st, path, NULL), SMTP_ERR_CONFIG);
        CHECK_CONTAINS(st.detail, "chmod 600");
#endif
        smtp_settings_free(&st);
        chmod(path, 0600);
        CHECK_EQ_INT(smtp_config_load(&st, path, NULL), SMTP_OK);
        smtp_settings_free(&st);
        unlink(path);
    }
    CHECK_EQ_INT(smtp_config_load(&st, "/nonexistent/msmtprc", NULL), SMTP_ERR_CONFIG);
    CHECK_CONTAINS(st.detail, "/nonexistent/msmtprc");
    smtp_settings_free(&st);
}

TEST(url_table)
{
    static const struct {
        const char *url; smtp_result r; smtp_security sec; const char *host; int port;
        const char *user, *pass, *helo; int timeout;
    } t[] = {
        { "smtps://user%40x:p%3Ass@mail.example.com:465/client.example?timeout=30", SMTP_OK, SMTP_SECURITY_IMPLICIT,
          "mail.example.com", 465, "user@x", "p:ss", "client.example", 30000 },
        { "smtp://[::1]:2525?security=none", SMTP_OK, SMTP_SECURITY_NONE, "::1", 2525, NULL, NULL, NULL, 0 },
        { "smtp://mail.example.com", SMTP_OK, SMTP_SECURITY_STARTTLS, "mail.example.com", 0, NULL, NULL, NULL, 0 },
        { "SMTP://bob@h.example:587/", SMTP_OK, SMTP_SECURITY_STARTTLS, "h.example", 587, "bob", NULL, NULL, 0 },
        { "smtp://a:b@c@h.example?security=starttls-if-available&connect_timeout=3", SMTP_OK,
          SMTP_SECURITY_STARTTLS_IF_AVAILABLE, "h.example", 0, "a", "b@c", NULL, 0 },
        { "http://h.example", SMTP_ERR_CONFIG, SMTP_SECURITY_AUTO, NULL, 0, NULL, NULL, NULL, 0 },
        { "smtp://", SMTP_ERR_CONFIG, SMTP_SECURITY_AUTO, NULL, 0, NULL, NULL, NULL, 0 },
        { "smtp://h:99999", SMTP_ERR_CONFIG, SMTP_SECURITY_AUTO, NULL, 0, NULL, NULL, NULL, 0 },
        { "smtp://h:abc", SMTP_ERR_CONFIG, SMTP_SECURITY_AUTO, NULL, 0, NULL, NULL, NULL, 0 },
        { "smtp://[::1", SMTP_ERR_CONFIG, SMTP_SECURITY_AUTO, NULL, 0, NULL, NULL, NULL, 0 },
        { "smtp://u:%zz@h", SMTP_ERR_CONFIG, SMTP_SECURITY_AUTO, NULL, 0, NULL, NULL, NULL, 0 },
        { "smtp://u:%0d%0a@h", SMTP_ERR_CONFIG, SMTP_SECURITY_AUTO, NULL, 0, NULL, NULL, NULL, 0 },
        { "smtp://h?bogus=1", SMTP_ERR_CONFIG, SMTP_SECURITY_AUTO, NULL, 0, NULL, NULL, NULL, 0 },
        { "smtp://h?timeout=soon", SMTP_ERR_CONFIG, SMTP_SECURITY_AUTO, NULL, 0, NULL, NULL, NULL, 0 },
        { "smtp://h/a%00b", SMTP_ERR_CONFIG, SMTP_SECURITY_AUTO, NULL, 0, NULL, NULL, NULL, 0 },
        { "smtp://h?security", SMTP_ERR_CONFIG, SMTP_SECURITY_AUTO, NULL, 0, NULL, NULL, NULL, 0 },
    };
    size_t i;
    for (i = 0; i < sizeof t / sizeof *t; i++) {
        smtp_settings st;
        smtp_result r = smtp_config_from_url(&st, t[i].url);
        CHECK_EQ_INT(r, t[i].r);
        if (r != t[i].r) printf("    url %s: %s\n", t[i].url, st.detail);
        if (r == SMTP_OK && t[i].r == SMTP_OK) {
            CHECK_EQ_INT(st.cfg.security, t[i].sec);
            CHECK_EQ_STR(st.cfg.host, t[i].host);
            CHECK_EQ_INT(st.cfg.port, t[i].port);
            if (t[i].user) CHECK_EQ_STR(st.cfg.username, t[i].user); else CHECK(st.cfg.username == NULL);
            if (t[i].pass) CHECK_EQ_STR(st.cfg.password, t[i].pass); else CHECK(st.cfg.password == NULL);
            if (t[i].helo) CHECK_EQ_STR(st.cfg.helo_name, t[i].helo); else CHECK(st.cfg.helo_name == NULL);
            CHECK_EQ_INT(st.cfg.timeout_ms, t[i].timeout);
        } else if (r != SMTP_OK) CHECK_CONTAINS(st.detail, "URL");
        smtp_settings_free(&st);
    }
}

TEST(settings_set_for_command_lines)
{
    smtp_settings st;
    memset(&st, 0, sizeof st);
    CHECK_EQ_INT(smtp_settings_set(&st, "host", "mail.example.com"), SMTP_OK);
    CHECK_EQ_INT(smtp_settings_set(&st, "port", "465"), SMTP_OK);
    CHECK_EQ_INT(smtp_settings_set(&st, "tls", "on"), SMTP_OK);
    CHECK_EQ_INT(smtp_settings_set(&st, "tls_starttls", "off"), SMTP_OK);
    CHECK_EQ_INT(smtp_settings_set(&st, "proxy_host", "127.0.0.1"), SMTP_OK);
    CHECK_EQ_STR(st.cfg.host, "mail.example.com");
    CHECK_EQ_INT(st.cfg.port, 465);
    CHECK_EQ_INT(st.cfg.security, SMTP_SECURITY_IMPLICIT);
    CHECK_EQ_INT(st.cfg.proxy.type, SMTP_PROXY_SOCKS5);
    CHECK_EQ_INT(st.cfg.proxy.port, 1080);
    CHECK_EQ_INT(smtp_settings_set(&st, "port", "0"), SMTP_ERR_CONFIG);
    CHECK_CONTAINS(st.detail, "port");
    CHECK_EQ_INT(smtp_settings_set(&st, "nosuchkey", "1"), SMTP_ERR_CONFIG);
    smtp_settings_free(&st);
}

void unit_config(void)
{
    RUN(addresses);
    RUN(tls_version_setters);
    RUN(unsupported_and_bad_config);
    RUN(config_file_accounts);
    RUN(config_file_errors);
    RUN(url_table);
    RUN(settings_set_for_command_lines);
}
