/* cram-md5.c - choose the login mechanism: cfg.allowed_auth. CRAM-MD5
   (RFC 2195) sends an HMAC-MD5 of the server's challenge, never the
   password, so smtp.h allows it outside TLS too (PLAIN and LOGIN only
   inside). smtp_supported_auth() says what the server offers. A refused
   login is SMTP_ERR_AUTH with the server's 535 in smtp_last_reply().
   Build: cc -std=c99 -o cram-md5 examples/cram-md5.c -lbearssl */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_mechanisms(const char *what, unsigned mask);
static void from_args(int argc, char **argv, smtp_config *cfg);

int main(int argc, char **argv)
{
    smtp_config cfg = {0};                    /* AUTO: TLS required */
    smtp_message msg = {0};
    smtp_session s;
    const char *to[] = { "bob@example.com", NULL };
    cfg.host = "smtp.example.com";
    cfg.username = "alice"; cfg.password = "s3cret pass";
    cfg.allowed_auth = SMTP_AUTH_CRAM_MD5;    /* nothing else, even if offered */
    msg.from = "Alice <alice@example.com>"; msg.to = to;
    msg.subject = "Hello after CRAM-MD5"; msg.text = "Sent by examples/cram-md5.c.\n";
    from_args(argc, argv, &cfg);              /* optional: ./cram-md5 HOST PORT CA_FILE|none PASSWORD */
    smtp_result r = smtp_open(&s, &cfg);      /* EHLO, then AUTH CRAM-MD5 */
    print_mechanisms("server offers", smtp_supported_auth(&s));   /* also after a refused login */
    if (r == SMTP_OK) r = smtp_send(&s, &msg);
    if (r != SMTP_OK) fprintf(stderr, "%s: %s\n", smtp_result_str(r), smtp_error_detail(&s));
    if (r == SMTP_ERR_AUTH)                   /* the server's own words: 535 5.7.8 ... */
        fprintf(stderr, "server said: %d %s %s\n", smtp_last_reply(&s)->code,
                smtp_last_reply(&s)->status, smtp_last_reply(&s)->text);
    smtp_close(&s);
    return r == SMTP_OK ? 0 : 1;
}

static void print_mechanisms(const char *what, unsigned mask)
{
    printf("%s:%s%s%s%s%s%s\n", what, mask & SMTP_AUTH_PLAIN ? " PLAIN" : "", mask & SMTP_AUTH_LOGIN ? " LOGIN" : "",
           mask & SMTP_AUTH_CRAM_MD5 ? " CRAM-MD5" : "", mask & SMTP_AUTH_XOAUTH2 ? " XOAUTH2" : "",
           mask & SMTP_AUTH_OAUTHBEARER ? " OAUTHBEARER" : "", mask ? "" : " (none)");
}

/* Not the lesson: tests point it at their servers.
   ./cram-md5 [HOST PORT [CA_FILE, or none for cleartext [PASSWORD]]] */
static void from_args(int argc, char **argv, smtp_config *cfg)
{
    if (argc > 2) { cfg->host = argv[1]; cfg->port = atoi(argv[2]); }
    if (argc > 3 && !strcmp(argv[3], "none")) cfg->security = SMTP_SECURITY_NONE;
    else if (argc > 3) cfg->ca_file = argv[3];
    if (argc > 4) cfg->password = argv[4];
}
