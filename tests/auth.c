/* auth.c - AUTH against real servers on loopback, started by
   tests/run-integration.sh: Postfix with Cyrus SASL (sasldb; PLAIN LOGIN
   CRAM-MD5) and aiosmtpd. What the server recorded (the mechanism, the
   user, the number of AUTH commands) is checked, not just the success. */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include "test.h"
#include "itest.h"

static const char *USER = "alice", *PASS = "s3cret pass";

static void cfg_auth(smtp_config *c, const char *host, int port, smtp_security mode, const char *ca, unsigned mechs)
{
    memset(c, 0, sizeof *c);
    c->host = host; c->port = port; c->security = mode; c->ca_file = ca;
    c->helo_name = "client.test"; c->timeout_ms = CALM_MS;
    c->username = USER; c->password = PASS; c->allowed_auth = mechs;
}

/* Postfix logs "sasl_method=X, sasl_username=alice" per session. */
static int maillog_count(const char *needle)
{
    char path[600], *log, *p;
    int c = 0;
    snprintf(path, sizeof path, "%s/postfix/maillog", RUNDIR);
    log = slurp(path, NULL);
    for (p = log; p && (p = strstr(p, needle)) != NULL; p++) c++;
    free(log);
    return c;
}

static int wait_maillog(const char *needle, int want)
{
    long long end = now_ms() + CALM_MS;
    while (maillog_count(needle) < want && now_ms() < end) usleep(20000);
    return maillog_count(needle);
}

TEST(postfix_each_mechanism_over_starttls_and_implicit)
{
    static const unsigned mechs[] = { SMTP_AUTH_PLAIN, SMTP_AUTH_LOGIN, SMTP_AUTH_CRAM_MD5 };
    static const char *names[] = { "PLAIN", "LOGIN", "CRAM-MD5" };
    smtp_config cfg;
    char needle[100], text[100], path[700];
    int i, k;
    for (i = 0; i < 3; i++)
        for (k = 0; k < 2; k++) {
            int before;
            snprintf(needle, sizeof needle, "sasl_method=%s, sasl_username=alice", names[i]);
            before = maillog_count(needle);
            cfg_auth(&cfg, "localhost", k ? PF_IMPL : PF_SUB, k ? SMTP_SECURITY_IMPLICIT : SMTP_SECURITY_STARTTLS,
                     PF_CA, mechs[i]);
            CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
            CHECK_EQ_INT(smtp_supported_auth(&S), SMTP_AUTH_PLAIN | SMTP_AUTH_LOGIN | SMTP_AUTH_CRAM_MD5);
            snprintf(text, sizeof text, "relayed after AUTH %s %d %lld", names[i], k, now_ms());
            CHECK_EQ_INT(send_one(text), SMTP_OK);
            CHECK_EQ_INT(smtp_close(&S), SMTP_OK);
            CHECK_EQ_INT(wait_maillog(needle, before + 1), before + 1);
            CHECK(pf_find(text, path, sizeof path));
        }
}

TEST(postfix_auth_only_after_tls)
{
    smtp_config cfg;
    /* the plain port offers AUTH only inside TLS (smtpd_tls_auth_only): what we report is the EHLO after TLS */
    cfg_auth(&cfg, "localhost", PF_PORT, SMTP_SECURITY_STARTTLS, PF_CA, 0);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(smtp_supported_auth(&S), SMTP_AUTH_PLAIN | SMTP_AUTH_LOGIN | SMTP_AUTH_CRAM_MD5);
    smtp_close(&S);
    cfg_auth(&cfg, "127.0.0.1", PF_PORT, SMTP_SECURITY_NONE, NULL, 0);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_AUTH_UNAVAILABLE);
    CHECK_EQ_INT(smtp_supported_auth(&S), 0);
    CHECK_CONTAINS(smtp_error_detail(&S), "offers no AUTH");
    smtp_close(&S);
}

TEST(postfix_wrong_password_one_attempt)
{
    smtp_config cfg;
    int before = maillog_count("authentication failed");
    cfg_auth(&cfg, "localhost", PF_SUB, SMTP_SECURITY_STARTTLS, PF_CA, 0);
    cfg.password = "wrong password";
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_AUTH);
    CHECK_EQ_INT(smtp_last_reply(&S)->code, 535);
    CHECK_EQ_STR(smtp_last_reply(&S)->status, "5.7.8");
    CHECK_CONTAINS(smtp_error_detail(&S), "AUTH PLAIN");
    CHECK_CONTAINS(smtp_error_detail(&S), "535 5.7.8");
    smtp_close(&S);
    CHECK_EQ_INT(wait_maillog("authentication failed", before + 1), before + 1);
    usleep(200000);
    CHECK_EQ_INT(maillog_count("authentication failed"), before + 1);   /* exactly one attempt */
}

/* ---- aiosmtpd: AIOAUTH (STARTTLS) and AIOAUTH_IMPL (implicit) offer PLAIN LOGIN
   CRAM-MD5 XOAUTH2 OAUTHBEARER; AIOAUTH_PLAIN is cleartext; AIOAUTH_TWO offers PLAIN LOGIN ---- */


static char *last_json(const char *spool)
{
    size_t len;
    return aio_msg(spool, aio_count(spool), "json", &len);
}

TEST(aiosmtpd_each_mechanism_recorded)
{
    static const unsigned mechs[] = { SMTP_AUTH_PLAIN, SMTP_AUTH_LOGIN, SMTP_AUTH_CRAM_MD5 };
    static const char *names[] = { "PLAIN", "LOGIN", "CRAM-MD5" };
    smtp_config cfg;
    char want[80], *json;
    int i, k;
    for (i = 0; i < 3; i++)
        for (k = 0; k < 2; k++) {
            cfg_auth(&cfg, "localhost", k ? AIOAUTH_IMPL : AIOAUTH, k ? SMTP_SECURITY_IMPLICIT : SMTP_SECURITY_STARTTLS,
                     CA, mechs[i]);
            CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
            CHECK_EQ_INT(send_one(names[i]), SMTP_OK);
            smtp_close(&S);
            json = last_json("aioauth");
            snprintf(want, sizeof want, "\"auth_mech\":\"%s\"", names[i]);
            CHECK_CONTAINS(json, want);
            CHECK_CONTAINS(json, "\"auth\":\"alice\"");
            free(json);
        }
    /* CRAM-MD5 is the one mechanism allowed outside TLS */
    cfg_auth(&cfg, "127.0.0.1", AIOAUTH_PLAIN, SMTP_SECURITY_NONE, NULL, 0);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(send_one("CRAM-MD5 in cleartext"), SMTP_OK);
    smtp_close(&S);
    json = last_json("aioauthplain");
    CHECK_CONTAINS(json, "\"auth_mech\":\"CRAM-MD5\"");
    free(json);
}

TEST(aiosmtpd_allowed_mechanisms)
{
    smtp_config cfg;
    char *json;
    int before;
    /* CRAM-MD5 only, against a server offering all: CRAM-MD5 is used */
    cfg_auth(&cfg, "localhost", AIOAUTH, SMTP_SECURITY_STARTTLS, CA, SMTP_AUTH_CRAM_MD5);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(send_one("allowed CRAM-MD5"), SMTP_OK);
    smtp_close(&S);
    json = last_json("aioauth");
    CHECK_CONTAINS(json, "\"auth_mech\":\"CRAM-MD5\"");
    free(json);
    /* the same against a server offering PLAIN LOGIN: unavailable, and no AUTH reaches it */
    before = commands_from("aioauthtwo", 0, "AUTH");
    cfg_auth(&cfg, "localhost", AIOAUTH_TWO, SMTP_SECURITY_STARTTLS, CA, SMTP_AUTH_CRAM_MD5);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_AUTH_UNAVAILABLE);
    CHECK_CONTAINS(smtp_error_detail(&S), "offers PLAIN LOGIN");
    CHECK_EQ_INT(smtp_supported_auth(&S), SMTP_AUTH_PLAIN | SMTP_AUTH_LOGIN);
    smtp_close(&S);
    usleep(100000);
    CHECK_EQ_INT(commands_from("aioauthtwo", 0, "AUTH"), before);
    /* PLAIN over cleartext without allow_cleartext_auth: refused here, nothing sent */
    before = commands_from("aioauthplain", 0, "AUTH");
    cfg_auth(&cfg, "127.0.0.1", AIOAUTH_PLAIN, SMTP_SECURITY_NONE, NULL, SMTP_AUTH_PLAIN | SMTP_AUTH_LOGIN);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_AUTH_UNAVAILABLE);
    CHECK_CONTAINS(smtp_error_detail(&S), "cleartext");
    smtp_close(&S);
    usleep(100000);
    CHECK_EQ_INT(commands_from("aioauthplain", 0, "AUTH"), before);
    /* ... and with it, PLAIN goes */
    cfg.allow_cleartext_auth = 1;
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    smtp_close(&S);
}

TEST(aiosmtpd_wrong_password_one_attempt)
{
    smtp_config cfg;
    int before = commands_from("aioauth", 0, "AUTH");
    cfg_auth(&cfg, "localhost", AIOAUTH, SMTP_SECURITY_STARTTLS, CA, 0);
    cfg.password = "not it";
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_AUTH);
    CHECK_EQ_INT(smtp_last_reply(&S)->code, 535);
    smtp_close(&S);
    usleep(100000);
    CHECK_EQ_INT(commands_from("aioauth", 0, "AUTH"), before + 1);
}

TEST(aiosmtpd_bearer_tokens)
{
    static const unsigned mechs[] = { SMTP_AUTH_XOAUTH2, SMTP_AUTH_OAUTHBEARER };
    static const char *names[] = { "XOAUTH2", "OAUTHBEARER" };
    smtp_config cfg;
    char want[80], *json;
    int i;
    for (i = 0; i < 2; i++) {
        cfg_auth(&cfg, "localhost", AIOAUTH, SMTP_SECURITY_STARTTLS, CA, mechs[i]);
        cfg.password = "good-token";
        CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
        CHECK_EQ_INT(send_one(names[i]), SMTP_OK);
        smtp_close(&S);
        json = last_json("aioauth");
        snprintf(want, sizeof want, "\"auth_mech\":\"%s\"", names[i]);
        CHECK_CONTAINS(json, want);
        free(json);
        cfg.password = "expired-token";
        CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_AUTH);
        CHECK_EQ_INT(smtp_last_reply(&S)->code, 535);
        CHECK_CONTAINS(smtp_error_detail(&S), i ? "invalid_token" : "\"status\":\"401\"");
        smtp_close(&S);
    }
    /* the zero mask never uses a token mechanism, even when offered */
    cfg_auth(&cfg, "localhost", AIOAUTH, SMTP_SECURITY_STARTTLS, CA, 0);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(send_one("zero mask"), SMTP_OK);
    smtp_close(&S);
    json = last_json("aioauth");
    CHECK_CONTAINS(json, "\"auth_mech\":\"PLAIN\"");
    free(json);
}

/* The config test: defaults, two accounts, inheritance; loaded and
   used to send through Postfix with STARTTLS and CRAM-MD5. */
TEST(config_file_through_postfix)
{
    smtp_settings st;
    char path[600], text[1400], mail[700];
    FILE *f;
    int before = maillog_count("sasl_method=CRAM-MD5, sasl_username=alice");
    snprintf(path, sizeof path, "%s/auth-test.msmtprc", RUNDIR);
    snprintf(text, sizeof text,
             "defaults\nport %d\ntls on\ntls_trust_file %s\nlogfile /dev/null\n\n"
             "account base\nhost localhost\nuser alice\npassword \"s3cret pass\"\nfrom alice@example.com\n\n"
             "account work : base\nauth cram-md5\ndomain client.test\n\naccount default : work\n", PF_SUB, PF_CA);
    f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    chmod(path, 0600);
    CHECK_EQ_INT(smtp_config_load(&st, path, NULL), SMTP_OK);
    CHECK_EQ_INT(st.cfg.security, SMTP_SECURITY_STARTTLS);
    CHECK_EQ_INT(st.cfg.allowed_auth, SMTP_AUTH_CRAM_MD5);
    CHECK_CONTAINS(st.notes, "logfile ignored");
    CHECK_EQ_INT(smtp_open(&S, &st.cfg), SMTP_OK);
    snprintf(text, sizeof text, "from a config file %lld", now_ms());
    {
        smtp_message m;
        const char *to[] = { "bob@example.net", NULL };
        memset(&m, 0, sizeof m);
        m.to = to; m.text = text;                       /* from: the file's "from" */
        CHECK_EQ_INT(smtp_send(&S, &m), SMTP_OK);
    }
    smtp_close(&S);
    smtp_settings_free(&st);
    CHECK_EQ_INT(wait_maillog("sasl_method=CRAM-MD5, sasl_username=alice", before + 1), before + 1);
    CHECK(pf_find(text, mail, sizeof mail));
}

int main(void)
{
    itest_env();
    SEND_TO = "bob@example.net";   /* not a local domain: relaying needs AUTH */
    SEND_SUBJECT = "authenticated";
    RUN(postfix_each_mechanism_over_starttls_and_implicit);
    RUN(postfix_auth_only_after_tls);
    RUN(postfix_wrong_password_one_attempt);
    RUN(aiosmtpd_each_mechanism_recorded);
    RUN(aiosmtpd_allowed_mechanisms);
    RUN(aiosmtpd_wrong_password_one_attempt);
    RUN(aiosmtpd_bearer_tokens);
    RUN(config_file_through_postfix);
    return TEST_END();
}
