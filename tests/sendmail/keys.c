/* keys.c - the configuration keys of smtp.h, for tests/sendmail/run.sh
   (every one must be a long option of smtp-send).

     keys          prints smtp_config_keys(), one name a line
     keys --check  reads candidate words on standard input, one a line (run.sh
                   gives every lower-case string literal of smtp.h), and
                   prints "unlisted NAME" for each that smtp_settings_set
                   takes as a key (whatever it says of the value) but
                   smtp_config_keys() does not list, then "accepted N": how
                   many it took (all of the table when the check works)

   Build: cc -std=c99 -o keys tests/sendmail/keys.c -lbearssl */
#define SMTP_IMPLEMENTATION
#include "../../smtp.h"
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    char line[256];
    size_t n, i, accepted = 0;
    const smtp_config_key *t = smtp_config_keys(&n);
    if (argc < 2 || strcmp(argv[1], "--check")) {
        for (i = 0; i < n; i++) puts(t[i].name);
        return 0;
    }
    while (fgets(line, sizeof line, stdin)) {
        smtp_settings st;
        smtp_result r;
        int listed = 0;
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0]) continue;
        memset(&st, 0, sizeof st);
        r = smtp_settings_set(&st, line, "x");
        for (i = 0; i < n; i++) if (!strcmp(t[i].name, line)) listed = 1;
        if (r == SMTP_OK || (r == SMTP_ERR_CONFIG && !strstr(st.detail, "unknown key"))) {
            accepted++;
            if (!listed) printf("unlisted %s\n", line);
        }
        smtp_settings_free(&st);
    }
    printf("accepted %lu\n", (unsigned long)accepted);
    return 0;
}
