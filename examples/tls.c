/* tls.c - send one message over TLS: AUTO (the default), implicit TLS or
   STARTTLS, with the server's certificate checked against the system CAs
   or a CA file. Shows: security modes, trust, what was negotiated.
   Build: cc -std=c99 -o tls examples/tls.c -lbearssl
   Run:   ./tls HOST PORT FROM TO [auto|implicit|starttls] [CA_FILE]
          PORT 0 lets AUTO try 465, 587 and 25 in turn. */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    smtp_config cfg = {0};
    smtp_message msg = {0};
    smtp_session s;
    const char *to[2] = {0};
    smtp_result r;
    if (argc < 5) {
        fprintf(stderr, "usage: %s HOST PORT FROM TO [auto|implicit|starttls] [CA_FILE]\n", argv[0]);
        return 2;
    }
    cfg.host = argv[1]; cfg.port = atoi(argv[2]);
    cfg.security = SMTP_SECURITY_AUTO;
    if (argc > 5 && !strcmp(argv[5], "implicit")) cfg.security = SMTP_SECURITY_IMPLICIT;
    if (argc > 5 && !strcmp(argv[5], "starttls")) cfg.security = SMTP_SECURITY_STARTTLS;
    if (argc > 6) cfg.ca_file = argv[6];                /* else the system bundle */
    cfg.greeting_timeout_ms = 5000;                     /* a wrong AUTO guess costs 5 s at most */
    to[0] = argv[4];
    msg.from = argv[3]; msg.to = to;
    msg.subject = "Hello over TLS"; msg.text = "Sent by examples/tls.c.\n";
    r = smtp_open(&s, &cfg);
    if (r == SMTP_OK) {
        printf("connected: %s on port %d, %s, %s\n",
               smtp_security_used(&s) == SMTP_SECURITY_IMPLICIT ? "implicit TLS" : "STARTTLS",
               smtp_port_used(&s), smtp_tls_version(&s), smtp_tls_cipher(&s));
        r = smtp_send(&s, &msg);
    }
    if (r != SMTP_OK) fprintf(stderr, "%s: %s\n", smtp_result_str(r), smtp_error_detail(&s));
    else printf("sent: %d %s\n", smtp_last_reply(&s)->code, smtp_last_reply(&s)->text);
    smtp_close(&s);
    return r == SMTP_OK ? 0 : 1;
}
