/* implicit-tls.c - send one message over implicit TLS ("smtps", port
   465): TLS from the first byte, before the server's greeting.
   Shows: SMTP_SECURITY_IMPLICIT, its default port, certificate checks
   against the system CAs or a CA file, what was negotiated.
   Build: cc -std=c99 -o implicit-tls examples/implicit-tls.c -lbearssl
   Run:   ./implicit-tls HOST FROM TO [PORT [CA_FILE]]   (PORT 0 or none: 465)
          SMTP_USER and SMTP_PASSWORD in the environment log in. */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    smtp_config cfg = {0};
    smtp_message msg = {0};
    smtp_session s;
    const char *to[2] = {0};
    smtp_result r;
    if (argc < 4 || argc > 6) {
        fprintf(stderr, "usage: %s HOST FROM TO [PORT [CA_FILE]]\n", argv[0]);
        return 2;
    }
    cfg.host = argv[1];
    cfg.port = argc > 4 ? atoi(argv[4]) : 0;    /* 0: 465 */
    cfg.security = SMTP_SECURITY_IMPLICIT;
    if (argc > 5) cfg.ca_file = argv[5];
    cfg.username = getenv("SMTP_USER");
    cfg.password = getenv("SMTP_PASSWORD");
    to[0] = argv[3];
    msg.from = argv[2]; msg.to = to;
    msg.subject = "Hello over implicit TLS"; msg.text = "Sent by examples/implicit-tls.c.\n";

    r = smtp_open(&s, &cfg);
    if (r == SMTP_OK) {
        printf("implicit TLS to %s:%d: %s, %s\n", cfg.host, smtp_port_used(&s),
               smtp_tls_version(&s), smtp_tls_cipher(&s));
        r = smtp_send(&s, &msg);
    }
    if (r == SMTP_OK) printf("sent: %d %s\n", smtp_last_reply(&s)->code, smtp_last_reply(&s)->text);
    else fprintf(stderr, "%s: %s\n", smtp_result_str(r), smtp_error_detail(&s));
    smtp_close(&s);
    return r == SMTP_OK ? 0 : 1;
}
