/* abuse.c - what a careless caller does, each case with its expected
   result, against real servers (tests/run-integration.sh): NULLs, empty
   strings, CR/LF in every string field, 10,000 recipients through Postfix
   (452 after 1000: further transactions), a 100 KB subject, invalid UTF-8
   in the subject, a 100 MB body through smtp_data_write to a discarding
   sink, and a certificate chain of 20. */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include "test.h"
#include "itest.h"

TEST(null_and_empty_everywhere)
{
    smtp_config cfg;
    smtp_message m;
    const char *to[] = { "bob@example.com", NULL }, *empty[] = { "", NULL };
    CHECK_EQ_INT(smtp_open(NULL, NULL), SMTP_ERR_PARAM);
    CHECK_EQ_INT(smtp_close(NULL), SMTP_ERR_PARAM);
    CHECK_EQ_INT(smtp_send(NULL, NULL), SMTP_ERR_PARAM);
    CHECK_EQ_INT(smtp_noop(NULL), SMTP_ERR_PARAM);
    CHECK(smtp_error_detail(NULL) != NULL);
    CHECK(smtp_result_str((smtp_result)12345) != NULL);
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PARAM);          /* no host */
    CHECK_CONTAINS(smtp_error_detail(&S), "cfg.host");
    cfg.host = "";
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PARAM);
    cfg_plain(&cfg, AIO_PORT);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(smtp_send(&S, NULL), SMTP_ERR_PARAM);
    memset(&m, 0, sizeof m);
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_ERR_PARAM);            /* no from */
    m.from = "alice@example.com";
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_ERR_PARAM);            /* no recipient */
    m.to = empty;
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_ERR_PARAM);            /* "" is no recipient */
    m.to = to; m.from = "";
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_ERR_PARAM);            /* "" is no From */
    m.from = "alice@example.com";
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_OK);                   /* NULL subject and text: an empty message */
    CHECK_EQ_INT(smtp_data_write(&S, NULL, 0), SMTP_ERR_STATE);
    CHECK_EQ_INT(smtp_rcpt_to(&S, NULL), SMTP_ERR_STATE);
    CHECK_EQ_INT(smtp_mail_from(&S, NULL), SMTP_ERR_PARAM);
    CHECK_EQ_INT(smtp_close(&S), SMTP_OK);
}

TEST(cr_lf_in_every_string_field)
{
    static const char *bad = "x\r\nRCPT TO:<evil@example.com>";
    smtp_config cfg;
    smtp_message m;
    smtp_header hd[1];
    smtp_attachment at[1];
    const char *to[] = { "bob@example.com", NULL }, *badl[] = { "b@x.org\r\nDATA", NULL };
    int k, before;
    cfg_plain(&cfg, AIO_PORT);
    cfg.helo_name = "a\r\nMAIL FROM:<x@y>";
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PARAM);
    cfg.helo_name = NULL; cfg.username = "u\r\n"; cfg.password = "p";
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PARAM);
    cfg.username = NULL; cfg.password = NULL;
    cfg.host = "127.0.0.1\r\n";
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_ERR_PARAM);
    cfg_plain(&cfg, AIO_PORT);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    before = commands_from("aiosmtpd", 0, "MAIL");
    for (k = 0; k < 10; k++) {
        memset(&m, 0, sizeof m); memset(hd, 0, sizeof hd); memset(at, 0, sizeof at);
        m.from = "alice@example.com"; m.to = to; m.text = "t";
        switch (k) {
        case 0: m.from = bad; break;
        case 1: m.envelope_from = bad; break;
        case 2: m.to = badl; break;
        case 3: m.cc = badl; break;
        case 4: m.bcc = badl; break;
        case 5: m.subject = bad; break;
        case 6: hd[0].name = "X-A"; hd[0].value = bad; m.headers = hd; m.header_count = 1; break;
        case 7: hd[0].name = "X-A\r\nBcc"; hd[0].value = "v"; m.headers = hd; m.header_count = 1; break;
        case 8: at[0].data = "d"; at[0].size = 1; at[0].filename = bad; m.attachments = at; m.attachment_count = 1; break;
        default: m.dsn_envid = bad; break;
        }
        CHECK_EQ_INT(smtp_send(&S, &m), SMTP_ERR_PARAM);
    }
    CHECK_EQ_INT(smtp_rcpt_to(&S, bad), SMTP_ERR_STATE);
    CHECK_EQ_INT(smtp_mail_from(&S, bad), SMTP_ERR_PARAM);
    CHECK_EQ_INT(smtp_noop(&S), SMTP_OK);
    smtp_close(&S);
    usleep(100000);
    CHECK_EQ_INT(commands_from("aiosmtpd", 0, "MAIL"), before);   /* not one MAIL went out */
}

TEST(ten_thousand_recipients_through_postfix)
{
    static char addrs[10000][32];
    static const char *to[10001];
    static smtp_rcpt_result res[10000];
    smtp_config cfg;
    smtp_message m;
    int i, acc = 0;
    long long t0 = now_ms();
    for (i = 0; i < 10000; i++) { snprintf(addrs[i], sizeof addrs[i], "r%05d@example.com", i); to[i] = addrs[i]; }
    to[10000] = NULL;
    cfg_plain(&cfg, PF_PORT);
    cfg.trace = NULL;
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    memset(&m, 0, sizeof m);
    m.from = "alice@example.com"; m.bcc = to; m.subject = "many"; m.text = "ten thousand";
    m.results = res; m.results_cap = 10000;
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_OK);
    for (i = 0; i < 10000; i++) acc += res[i].accepted;
    CHECK_EQ_INT(acc, 10000);
    CHECK(strstr(res[9999].text, "queued") != NULL);
    CHECK_EQ_INT(smtp_close(&S), SMTP_OK);
    printf("  10,000 recipients in %lld ms\n", now_ms() - t0);
}

TEST(huge_subject_and_invalid_utf8)
{
    static char subj[100001];
    const char *to[] = { "bob@example.com", NULL };
    smtp_config cfg;
    smtp_message m;
    char *eml;
    size_t len, i, run = 0, longest = 0;
    int before = aio_count("aiosmtpd");
    for (i = 0; i < sizeof subj - 1; i++) subj[i] = (char)("abcdefgh "[i % 9]);
    cfg_plain(&cfg, AIO_PORT);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    memset(&m, 0, sizeof m);
    m.from = "alice@example.com"; m.to = to; m.subject = subj; m.text = "100 KB subject";
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_OK);       /* folded into many lines, each under 78 */
    eml = aio_msg("aiosmtpd", before + 1, "eml", &len);
    for (i = 0; eml && i < len; i++) { if (eml[i] == '\n') run = 0; else if (++run > longest) longest = run; }
    CHECK(longest <= 79);
    free(eml);
    /* invalid UTF-8: encoded as RFC 2047 words so a reader gets the very bytes back (decided, documented) */
    m.subject = "bad \xff\xfe bytes \xc3";
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_OK);
    eml = aio_msg("aiosmtpd", before + 2, "eml", &len);
    CHECK_CONTAINS(eml, "Subject: =?UTF-8?B?YmFkIP/+IGJ5dGVzIMM=?=");
    free(eml);
    smtp_close(&S);
}

TEST(hundred_megabytes_through_data_write)
{
    static char chunk[1 << 16];
    smtp_config cfg;
    size_t i, sent = 0;
    long long t0;
    for (i = 0; i < sizeof chunk; i++) chunk[i] = (i % 100 == 99) ? '\n' : (i % 100 == 0 ? '.' : 'm');
    cfg_plain(&cfg, SINK_PORT);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(smtp_mail_from(&S, "alice@example.com"), SMTP_OK);
    CHECK_EQ_INT(smtp_rcpt_to(&S, "sink@example.com"), SMTP_OK);
    CHECK_EQ_INT(smtp_data_begin(&S), SMTP_OK);
    t0 = now_ms();
    while (sent < 100u << 20) {
        if (smtp_data_write(&S, chunk, sizeof chunk) != SMTP_OK) break;
        sent += sizeof chunk;
    }
    CHECK_EQ_INT(sent, 100u << 20);
    CHECK_EQ_INT(smtp_data_end(&S), SMTP_OK);
    printf("  100 MB through smtp_data_write in %lld ms\n", now_ms() - t0);
    CHECK_EQ_INT(smtp_close(&S), SMTP_OK);
}

TEST(chain_of_twenty_certificates)
{
    smtp_config cfg;
    smtp_result r;
    memset(&cfg, 0, sizeof cfg);
    cfg.host = "localhost"; cfg.port = HOSTILE + 20; cfg.security = SMTP_SECURITY_IMPLICIT; cfg.ca_file = CA;
    cfg.timeout_ms = CALM_MS;
    r = smtp_open(&S, &cfg);
    /* BearSSL walks all 20 to the CA and verifies them (a check that accepted failure could not fail) */
    CHECK_EQ_INT(r, SMTP_OK);
    CHECK_EQ_STR(smtp_tls_version(&S), "TLSv1.2");
    printf("  a 20-certificate chain: %s (%s)\n", smtp_result_str(r), r ? smtp_error_detail(&S) : smtp_tls_version(&S));
    smtp_close(&S);
}

int main(void)
{
    itest_env();
    RUN(null_and_empty_everywhere);
    RUN(cr_lf_in_every_string_field);
    RUN(ten_thousand_recipients_through_postfix);
    RUN(huge_subject_and_invalid_utf8);
    RUN(hundred_megabytes_through_data_write);
    RUN(chain_of_twenty_certificates);
    return TEST_END();
}
