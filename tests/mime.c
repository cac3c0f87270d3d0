/* mime.c - messages and extensions against real servers (run by
   tests/run-integration.sh): a message with text, HTML, an inline image
   and two attachments (one of 10 MB read from a file, a UTF-8 file name),
   through Postfix, parsed back with Python's email package; SMTPUTF8 with
   and without the extension at aiosmtpd; 8BITMIME; SIZE; DSN parameters
   as aiosmtpd received them. */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include "test.h"
#include "itest.h"

static int run_check(const char *eml, const char *spec)
{
    char cmd[1400];
    int st;
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 tests/check_mime.py '%s' '%s'", eml, spec);
    st = system(cmd);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* a name whose encoding needs RFC 2231 sections (name*0*=UTF-8''..; name*1*=..) */
#define LONG_NAME "Jahresabschluss für die Geschäftsführung – Übersicht aller Konten 2026 (endgültige Fassung, bitte prüfen) tabelle.csv"

TEST(postfix_rich_message_parsed_back)
{
    smtp_config cfg;
    smtp_message m;
    smtp_attachment at[3];
    smtp_header hd[1];
    const char *to[] = { "bob@example.com", NULL };
    char big[600], small[600], png[600], spec[600], path[700], text[200];
    const char *subject = "Bericht über Größen — 10 MB ✓";
    const char *html = "<html><body><p>Grüße, <b>Bob</b></p><img src=\"cid:logo@smtp.h\"></body></html>";
    static unsigned char buf[1 << 16];
    FILE *f;
    size_t i, k;
    snprintf(big, sizeof big, "%s/big.bin", RUNDIR);
    snprintf(small, sizeof small, "%s/small.csv", RUNDIR);
    snprintf(png, sizeof png, "%s/logo.png", RUNDIR);
    f = fopen(big, "wb");
    for (k = 0; k < 160; k++) {                       /* 10 MB of every byte value */
        for (i = 0; i < sizeof buf; i++) buf[i] = (unsigned char)(i * 31 + k * 7 + (i >> 8));
        fwrite(buf, 1, sizeof buf, f);
    }
    fclose(f);
    f = fopen(small, "wb"); fputs("a,b\n1,2\n", f); fclose(f);
    f = fopen(png, "wb"); fwrite("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 1, 16, f); fclose(f);
    snprintf(text, sizeof text, "Hallo Bob,\n\nanbei der Bericht (%lld).\n.eine Zeile mit Punkt\n", now_ms());
    memset(at, 0, sizeof at);
    at[0].path = big; at[0].filename = "große Datei.bin";
    at[1].data = "a,b\n1,2\n"; at[1].size = 8; at[1].filename = LONG_NAME;   /* RFC 2231 sections */
    at[2].path = png; at[2].filename = "logo.png"; at[2].content_id = "logo@smtp.h";
    hd[0].name = "Reply-To"; hd[0].value = "Älice Example <alice@example.com>";
    memset(&m, 0, sizeof m);
    m.from = "Alice <alice@example.com>"; m.to = to; m.subject = subject; m.text = text; m.html = html;
    m.attachments = at; m.attachment_count = 3; m.headers = hd; m.header_count = 1;
    cfg_plain(&cfg, PF_PORT);                          /* CALM_MS: 10 MB through Postfix on a busy machine */
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_OK);
    CHECK_EQ_INT(smtp_close(&S), SMTP_OK);
    CHECK(pf_find(".eine Zeile mit Punkt", path, sizeof path));
    snprintf(spec, sizeof spec, "%s/spec.json", RUNDIR);
    f = fopen(spec, "w");
    fprintf(f, "{\"subject\": \"%s\", \"text\": \"", subject);
    for (i = 0; text[i]; i++) fputs(text[i] == '\n' ? "\\n" : (char[2]){ text[i], 0 }, f);
    fprintf(f, "\", \"html\": \"");
    for (i = 0; html[i]; i++) fputs(html[i] == '"' ? "\\\"" : (char[2]){ html[i], 0 }, f);
    fprintf(f, "\", \"attachments\": [{\"filename\": \"große Datei.bin\", \"file\": \"%s\"}, "
               "{\"filename\": \"" LONG_NAME "\", \"file\": \"%s\"}, {\"filename\": \"logo.png\", \"file\": \"%s\", "
               "\"inline\": true}]}", big, small, png);
    fclose(f);
    CHECK(run_check(path, spec));
}

TEST(aiosmtpd_smtputf8_and_a_labels)
{
    smtp_config cfg;
    smtp_message m;
    const char *to[] = { "jörg@bücher.example", NULL }, *to2[] = { "info@bücher.example", NULL };
    char *json;
    size_t len;
    int before = aio_count("aiosmtpd");
    cfg_plain(&cfg, AIO_PORT);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK(smtp_extensions(&S) & SMTP_EXT_SMTPUTF8);
    memset(&m, 0, sizeof m);
    m.from = "alice@example.com"; m.to = to; m.text = "utf8";
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_OK);
    smtp_close(&S);
    json = aio_msg("aiosmtpd", before + 1, "json", &len);
    CHECK_CONTAINS(json, "\"SMTPUTF8\"");
    CHECK_CONTAINS(json, "\"rcpt_tos\":[\"jörg@bücher.example\"]");
    free(json);
    /* a server without SMTPUTF8: the domain as A-labels; a UTF-8 local part refused */
    before = aio_count("aionoutf8");
    cfg_plain(&cfg, AIO_NOUTF8);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK(!(smtp_extensions(&S) & SMTP_EXT_SMTPUTF8));
    m.to = to2;
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_OK);
    m.to = to;
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_ERR_UNSUPPORTED);
    CHECK_CONTAINS(smtp_error_detail(&S), "jörg@bücher.example");
    smtp_close(&S);
    CHECK_EQ_INT(aio_count("aionoutf8"), before + 1);
    json = aio_msg("aionoutf8", before + 1, "json", &len);
    CHECK_CONTAINS(json, "\"rcpt_tos\":[\"info@xn--bcher-kva.example\"]");
    free(json);
}

TEST(aiosmtpd_8bit_size_and_dsn)
{
    smtp_config cfg;
    smtp_message m;
    const char *to[] = { "bob@example.com", NULL };
    static char big[50000];
    char *json, *eml;
    size_t len, i;
    int before = aio_count("aiosmtpd"), cmds;
    cfg_plain(&cfg, AIO_PORT);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    memset(&m, 0, sizeof m);
    m.from = "alice@example.com"; m.to = to; m.text = "Grüße in 8 bits\n";
    m.dsn_notify = "SUCCESS,FAILURE"; m.dsn_ret = "HDRS"; m.dsn_envid = "batch+42"; m.dsn_orcpt = 1;
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_OK);
    smtp_close(&S);
    json = aio_msg("aiosmtpd", before + 1, "json", &len);
    CHECK_CONTAINS(json, "\"BODY=8BITMIME\"");
    CHECK_CONTAINS(json, "\"RET=HDRS\"");
    CHECK_CONTAINS(json, "\"ENVID=batch+2B42\"");
    CHECK_CONTAINS(json, "\"NOTIFY=SUCCESS,FAILURE\"");
    CHECK_CONTAINS(json, "\"ORCPT=rfc822;bob@example.com\"");
    free(json);
    eml = aio_msg("aiosmtpd", before + 1, "eml", &len);
    CHECK_CONTAINS(eml, "Content-Transfer-Encoding: 8bit");
    CHECK_CONTAINS(eml, "Grüße in 8 bits");
    free(eml);
    /* SIZE: declared below the limit, refused before MAIL above it */
    before = aio_count("aiosize");
    cfg_plain(&cfg, AIO_SIZE);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(smtp_size_limit(&S), 20000);
    m.dsn_notify = NULL; m.dsn_ret = NULL; m.dsn_envid = NULL; m.dsn_orcpt = 0;
    m.text = "small";
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_OK);
    memset(big, 'x', sizeof big - 1);
    for (i = 70; i < sizeof big - 1; i += 71) big[i] = '\n';
    m.text = big;
    cmds = commands_from("aiosize", 0, "MAIL");
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_ERR_TOO_LONG);
    CHECK_CONTAINS(smtp_error_detail(&S), "at most 20000");
    CHECK_EQ_INT(smtp_noop(&S), SMTP_OK);
    smtp_close(&S);
    usleep(100000);
    CHECK_EQ_INT(commands_from("aiosize", 0, "MAIL"), cmds);
    json = aio_msg("aiosize", before + 1, "json", &len);
    CHECK_CONTAINS(json, "\"SIZE=");
    free(json);
}

/* Postfix advertising SIZE 100000: a bigger message is refused before MAIL. */
TEST(postfix_size_limit)
{
    smtp_config cfg;
    smtp_message m;
    smtp_attachment at[1];
    const char *to[] = { "bob@example.com", NULL };
    static char blob[200000];
    char path[700], text[80];
    memset(blob, 7, sizeof blob);
    cfg_plain(&cfg, PF_SMALL);
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(smtp_size_limit(&S), 100000);
    memset(&m, 0, sizeof m); memset(at, 0, sizeof at);
    at[0].data = blob; at[0].size = sizeof blob; at[0].filename = "blob.bin";
    m.from = "alice@example.com"; m.to = to; m.text = "too big"; m.attachments = at; m.attachment_count = 1;
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_ERR_TOO_LONG);
    CHECK_CONTAINS(smtp_error_detail(&S), "at most 100000");
    at[0].size = 50000;                                    /* under the limit: declared and delivered */
    snprintf(text, sizeof text, "fits %lld", now_ms());
    m.text = text;
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_OK);
    CHECK_EQ_INT(smtp_close(&S), SMTP_OK);
    CHECK(pf_find(text, path, sizeof path));
}

TEST(no_8bitmime_server_gets_no_8bit_byte)
{
    smtp_config cfg;
    smtp_message m;
    const char *to[] = { "bob@example.com", NULL };
    char path[600], *log;
    size_t len, i;
    int eight = 0;
    cfg_plain(&cfg, HOSTILE + 13);                     /* answers HELO only: no extensions */
    CHECK_EQ_INT(smtp_open(&S, &cfg), SMTP_OK);
    memset(&m, 0, sizeof m);
    m.from = "alice@example.com"; m.to = to; m.subject = "Grüße"; m.text = "Grüße ohne 8BITMIME\n";
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_OK);
    CHECK_EQ_INT(smtp_mail_from(&S, "alice@example.com"), SMTP_OK);
    CHECK_EQ_INT(smtp_rcpt_to(&S, "bob@example.com"), SMTP_OK);
    CHECK_EQ_INT(smtp_data_begin(&S), SMTP_OK);
    CHECK_EQ_INT(smtp_data_write(&S, "raw \xc3\xbc\n", 7), SMTP_ERR_UNSUPPORTED);
    smtp_close(&S);
    usleep(100000);
    snprintf(path, sizeof path, "%s/hostile/no_ehlo.log", RUNDIR);
    log = slurp(path, &len);
    CHECK(log != NULL);
    for (i = 0; log && i < len; i++) if ((unsigned char)log[i] >= 0x80) eight = 1;
    CHECK(!eight);
    CHECK_CONTAINS(log, "quoted-printable");
    free(log);
}

int main(void)
{
    itest_env();
    RUN(postfix_rich_message_parsed_back);
    RUN(aiosmtpd_smtputf8_and_a_labels);
    RUN(aiosmtpd_8bit_size_and_dsn);
    RUN(postfix_size_limit);
    RUN(no_8bitmime_server_gets_no_8bit_byte);
    return TEST_END();
}
