/* implicit-tls.c - implicit TLS ("smtps", port 465): the TLS handshake
   comes first, before the server's greeting; nothing ever goes in
   cleartext. Port 0 means 465 in this mode.
   Build: cc -std=c99 -o implicit-tls examples/implicit-tls.c -lbearssl */
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
    cfg.host = "smtp.example.com";            /* port 0: 465 */
    cfg.security = SMTP_SECURITY_IMPLICIT;    /* certificate checked against the system CAs */
    cfg.username = "alice"; cfg.password = "s3cret pass";
    msg.from = "Alice <alice@example.com>"; msg.to = to;
    msg.subject = "Hello over implicit TLS"; msg.text = "Sent by examples/implicit-tls.c.\n";
    from_args(argc, argv, &cfg);              /* optional: ./implicit-tls HOST PORT CA_FILE */
    smtp_result r = smtp_open(&s, &cfg);      /* TLS handshake, greeting, EHLO, AUTH */
    if (r == SMTP_OK) {
        printf("implicit TLS to %s:%d: %s, %s\n", cfg.host, smtp_port_used(&s),
               smtp_tls_version(&s), smtp_tls_cipher(&s));
        r = smtp_send(&s, &msg);
    }
    if (r != SMTP_OK) fprintf(stderr, "%s: %s\n", smtp_result_str(r), smtp_error_detail(&s));
    smtp_close(&s);
    return r == SMTP_OK ? 0 : 1;
}

/* Not the lesson: tests point it at their servers and CA.
   ./implicit-tls [HOST PORT [CA_FILE]] */
static void from_args(int argc, char **argv, smtp_config *cfg)
{
    if (argc > 2) { cfg->host = argv[1]; cfg->port = atoi(argv[2]); }
    if (argc > 3) cfg->ca_file = argv[3];
}
