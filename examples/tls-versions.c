/* tls-versions.c - choose TLS versions, the safe way and the strict way.
   BearSSL speaks TLS 1.0 to 1.2, not 1.3. smtp_config_set_tls_versions
   keeps what can be spoken (1.2|1.3 becomes 1.2), so the session opens;
   smtp_config_set_tls_versions_unsafe keeps the mask as given, and
   smtp_open then fails with SMTP_ERR_UNSUPPORTED before connecting.
   Build: cc -std=c99 -o tls-versions examples/tls-versions.c -lbearssl */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include <stdio.h>
#include <stdlib.h>

static void from_args(int argc, char **argv, smtp_config *cfg);

int main(int argc, char **argv)
{
    smtp_config cfg = {0};                    /* AUTO: TLS required; TLS 1.2 only by default */
    smtp_session s;
    int ok = 1;
    cfg.host = "smtp.example.com";
    from_args(argc, argv, &cfg);              /* optional: ./tls-versions HOST PORT CA_FILE */

    if (smtp_config_set_tls_versions(&cfg, SMTP_TLS_1_2 | SMTP_TLS_1_3) != SMTP_OK) return 1;   /* keeps 1.2 */
    smtp_result r = smtp_open(&s, &cfg);
    if (r == SMTP_OK) printf("safe setter: connected with %s\n", smtp_tls_version(&s));
    else { printf("safe setter: %s: %s\n", smtp_result_str(r), smtp_error_detail(&s)); ok = 0; }
    smtp_close(&s);

    if (smtp_config_set_tls_versions_unsafe(&cfg, SMTP_TLS_1_2 | SMTP_TLS_1_3) != SMTP_OK) return 1; /* keeps 1.3 */
    r = smtp_open(&s, &cfg);                  /* refused without a byte on the network */
    printf("unsafe setter: %s: %s\n", smtp_result_str(r), smtp_error_detail(&s));
    if (r != SMTP_ERR_UNSUPPORTED) ok = 0;
    smtp_close(&s);
    return ok ? 0 : 1;                        /* 0: both behaved as described */
}

/* Not the lesson: tests point it at their servers and CA.
   ./tls-versions [HOST PORT [CA_FILE]] */
static void from_args(int argc, char **argv, smtp_config *cfg)
{
    if (argc > 2) { cfg->host = argv[1]; cfg->port = atoi(argv[2]); }
    if (argc > 3) cfg->ca_file = argv[3];
}
