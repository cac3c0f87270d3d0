/* config-file.c - take the settings from an msmtp configuration file
   (~/.msmtprc format): host, port, TLS, login, proxy, from, per account.
   smtp_config_load fills st.cfg, ready for smtp_open; keys that do not
   concern sending are listed in st.notes; st.detail names the file, line
   and key of an error. A file holding a password must be mode 600.
   Build: cc -std=c99 -o config-file examples/config-file.c -lbearssl */
#define SMTP_IMPLEMENTATION
#include "../smtp.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char password[512];
static int run_passwordeval(const char *cmd, char *out, size_t n);

int main(int argc, char **argv)
{
    smtp_settings st;
    smtp_message msg = {0};
    smtp_session s;
    const char *to[] = { "bob@example.com", NULL };
    const char *file = argc > 1 ? argv[1] : "msmtprc", *account = argc > 2 ? argv[2] : "work";
    smtp_result r = smtp_config_load(&st, file, account);   /* account NULL: "default" */
    if (r != SMTP_OK) fprintf(stderr, "%s: %s\n", smtp_result_str(r), st.detail);
    if (r == SMTP_OK && *st.notes) printf("notes:\n%s", st.notes);
    if (r == SMTP_OK && st.passwordeval && (!st.cfg.password || !*st.cfg.password)) {   /* the library never runs commands */
        if (!run_passwordeval(st.passwordeval, password, sizeof password)) r = SMTP_ERR_CONFIG;
        st.cfg.password = password;
    }
    msg.from = NULL;                          /* NULL: the account's from */
    msg.to = to;
    msg.subject = "Hello from a config file"; msg.text = "Sent by examples/config-file.c.\n";
    if (r == SMTP_OK) {
        r = smtp_open(&s, &st.cfg);           /* st.cfg's strings live until smtp_settings_free */
        if (r == SMTP_OK) r = smtp_send(&s, &msg);
        if (r != SMTP_OK) fprintf(stderr, "%s: %s\n", smtp_result_str(r), smtp_error_detail(&s));
        smtp_close(&s);
    }
    memset(password, 0, sizeof password);
    smtp_settings_free(&st);                  /* also after a failed load */
    return r == SMTP_OK ? 0 : 1;
}

/* msmtp's passwordeval: the first line the command prints is the password */
static int run_passwordeval(const char *cmd, char *out, size_t n)
{
    FILE *p = popen(cmd, "r");
    int ok;
    if (!p) return 0;
    ok = fgets(out, (int)n, p) != NULL;
    if (pclose(p) != 0) ok = 0;
    out[strcspn(out, "\r\n")] = 0;
    if (!ok) fprintf(stderr, "passwordeval \"%s\" failed\n", cmd);
    return ok;
}
