/* tls.c - trust a private CA. Certificates are always checked: the chain,
   the dates and the name (cfg.host). By default against the system CAs;
   a server whose certificate comes from your own CA needs its PEM file in
   cfg.ca_file (or pin the certificate: cfg.tls_fingerprint, SHA-256 hex).
   A refused certificate is SMTP_ERR_CERT, the cause in the detail.
   Build: cc -std=c99 -o tls examples/tls.c -lbearssl */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void from_args(int argc, char **argv, smtp_config *cfg, smtp_message *msg);

int main(int argc, char **argv)
{
    smtp_config cfg = {0};                    /* AUTO: TLS required */
    smtp_message msg = {0};
    smtp_session s;
    const char *to[] = { "bob@example.com", NULL };
    cfg.host = "mail.internal.example";       /* must match the certificate's names */
    cfg.ca_file = "internal-ca.pem";          /* instead of the system CAs */
    msg.from = "Alice <alice@example.com>"; msg.to = to;
    msg.subject = "Hello over TLS"; msg.text = "Sent by examples/tls.c.\n";
    from_args(argc, argv, &cfg, &msg);        /* optional: ./tls HOST PORT FROM TO MODE CA_FILE */
    smtp_result r = smtp_open(&s, &cfg);
    if (r == SMTP_OK) {
        printf("certificate accepted; %s on port %d, %s, %s\n",
               smtp_security_used(&s) == SMTP_SECURITY_IMPLICIT ? "implicit TLS" : "STARTTLS",
               smtp_port_used(&s), smtp_tls_version(&s), smtp_tls_cipher(&s));
        r = smtp_send(&s, &msg);
    }
    if (r != SMTP_OK) fprintf(stderr, "%s: %s\n", smtp_result_str(r), smtp_error_detail(&s));
    smtp_close(&s);
    return r == SMTP_OK ? 0 : 1;
}

/* Not the lesson: tests point it at their servers and CA.
   ./tls [HOST PORT [FROM [TO [auto|implicit|starttls [CA_FILE]]]]] */
static void from_args(int argc, char **argv, smtp_config *cfg, smtp_message *msg)
{
    static const char *to[2];
    if (argc > 2) { cfg->host = argv[1]; cfg->port = atoi(argv[2]); }
    if (argc > 3) msg->from = argv[3];
    if (argc > 4) { to[0] = argv[4]; msg->to = to; }
    if (argc > 5 && !strcmp(argv[5], "implicit")) cfg->security = SMTP_SECURITY_IMPLICIT;
    if (argc > 5 && !strcmp(argv[5], "starttls")) cfg->security = SMTP_SECURITY_STARTTLS;
    if (argc > 6) cfg->ca_file = argv[6];
}
