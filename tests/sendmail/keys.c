/* keys.c - the configuration keys smtp.h accepts, for tests/sendmail/run.sh
   (every one must be a long option of smtp-send).

   Reads candidate words on standard input, one a line (run.sh gives every
   lower-case string literal of smtp.h), and prints those that
   smtp_settings_set does not call an unknown key, whatever it says of the
   value. smtp.h does not list its keys yet; once it does, this program
   prints that list instead.

   Build: cc -std=c99 -o keys tests/sendmail/keys.c -lbearssl */
#define SMTP_IMPLEMENTATION
#include "../../smtp.h"
#include <stdio.h>
#include <string.h>

int main(void)
{
    char line[256];
    while (fgets(line, sizeof line, stdin)) {
        smtp_settings st;
        smtp_result r;
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0]) continue;
        memset(&st, 0, sizeof st);
        r = smtp_settings_set(&st, line, "x");
        if (r == SMTP_OK || (r == SMTP_ERR_CONFIG && !strstr(st.detail, "unknown key"))) puts(line);
        else if (r != SMTP_ERR_CONFIG) { fprintf(stderr, "keys: %s: %s\n", line, smtp_result_str(r)); return 1; }
        smtp_settings_free(&st);
    }
    return 0;
}
