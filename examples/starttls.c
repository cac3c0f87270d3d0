/* starttls.c - STARTTLS, required (submission, port 587): the connection
   starts in cleartext and turns to TLS before anything else is said; the
   login goes inside TLS only. A server that does not offer STARTTLS gets
   nothing past EHLO: SMTP_ERR_NO_STARTTLS, never a cleartext fallback.
   Build: cc -std=c99 -o starttls examples/starttls.c -lbearssl */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include <stdio.h>
#include <stdlib.h>

static void from_args(int argc, char **argv, smtp_config *cfg);

int main(int argc, char **argv)
{
    smtp_config cfg = {0};
    smtp_message msg = {0};
    smtp_session s;
    const char *to[] = { "bob@example.com", NULL };
    cfg.host = "smtp.example.com"; cfg.port = 587;
    cfg.security = SMTP_SECURITY_STARTTLS;    /* certificate checked against the system CAs */
    cfg.username = "alice"; cfg.password = "s3cret pass";
    msg.from = "Alice <alice@example.com>"; msg.to = to;
    msg.subject = "Hello over STARTTLS"; msg.text = "Sent by examples/starttls.c.\n";
    from_args(argc, argv, &cfg);              /* optional: ./starttls HOST PORT CA_FILE */
    smtp_result r = smtp_open(&s, &cfg);      /* EHLO, STARTTLS, EHLO again, AUTH */
    if (r == SMTP_OK) {
        printf("STARTTLS to %s:%d: %s, %s\n", cfg.host, smtp_port_used(&s),
               smtp_tls_version(&s), smtp_tls_cipher(&s));
        r = smtp_send(&s, &msg);
    }
    if (r != SMTP_OK) fprintf(stderr, "%s: %s\n", smtp_result_str(r), smtp_error_detail(&s));
    smtp_close(&s);
    return r == SMTP_OK ? 0 : 1;
}

/* Not the lesson: tests point it at their servers and CA.
   ./starttls [HOST PORT [CA_FILE]] */
static void from_args(int argc, char **argv, smtp_config *cfg)
{
    if (argc > 2) { cfg->host = argv[1]; cfg->port = atoi(argv[2]); }
    if (argc > 3) cfg->ca_file = argv[3];
}
