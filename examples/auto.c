/* auto.c - let smtp.h find how a server speaks TLS. AUTO (the zero
   value) never falls back to cleartext. Port 0: implicit TLS on 465, then
   STARTTLS on 587, then on 25. A port given: the mode it suggests (465:
   implicit, else STARTTLS), then the other one on that port.
   Shows: SMTP_SECURITY_AUTO, a short greeting_timeout_ms (a wrong guess
   against a silent server costs that much), smtp_security_used() and
   smtp_port_used(), and the list of attempts when all fail.
   Build: cc -std=c99 -o auto examples/auto.c -lbearssl
   Run:   ./auto HOST FROM TO [PORT [CA_FILE]]         (no PORT: 0)
          GREETING_MS in the environment: the greeting timeout (default 3000). */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include <stdio.h>
#include <stdlib.h>

static const char *mode_name(smtp_security m)
{
    switch (m) {
    case SMTP_SECURITY_IMPLICIT: return "implicit TLS";
    case SMTP_SECURITY_STARTTLS: return "STARTTLS";
    case SMTP_SECURITY_STARTTLS_IF_AVAILABLE: return "STARTTLS if available";
    case SMTP_SECURITY_NONE: return "cleartext";
    case SMTP_SECURITY_AUTO: break;
    }
    return "auto";
}

int main(int argc, char **argv)
{
    smtp_config cfg = {0};
    smtp_message msg = {0};
    smtp_session s;
    const char *to[2] = {0};
    const char *gms = getenv("GREETING_MS");
    smtp_result r;
    if (argc < 4 || argc > 6) {
        fprintf(stderr, "usage: %s HOST FROM TO [PORT [CA_FILE]]\n", argv[0]);
        return 2;
    }
    cfg.host = argv[1];
    cfg.port = argc > 4 ? atoi(argv[4]) : 0;
    cfg.security = SMTP_SECURITY_AUTO;          /* also what {0} gives */
    if (argc > 5) cfg.ca_file = argv[5];
    cfg.greeting_timeout_ms = gms ? atoi(gms) : 3000;
    cfg.username = getenv("SMTP_USER");
    cfg.password = getenv("SMTP_PASSWORD");
    to[0] = argv[3];
    msg.from = argv[2]; msg.to = to;
    msg.subject = "Hello, found by AUTO"; msg.text = "Sent by examples/auto.c.\n";

    r = smtp_open(&s, &cfg);
    if (r == SMTP_OK) {
        printf("AUTO chose %s on port %d (%s, %s)\n", mode_name(smtp_security_used(&s)),
               smtp_port_used(&s), smtp_tls_version(&s), smtp_tls_cipher(&s));
        r = smtp_send(&s, &msg);
    }
    if (r == SMTP_OK) printf("sent: %d %s\n", smtp_last_reply(&s)->code, smtp_last_reply(&s)->text);
    else fprintf(stderr, "%s: %s\n", smtp_result_str(r), smtp_error_detail(&s));
    smtp_close(&s);
    return r == SMTP_OK ? 0 : 1;
}
