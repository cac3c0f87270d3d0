/* fuzz_config.c - smtp_config_load over any file content (written to a
   private file, mode 600): no crash, no leak, no hang (inheritance cycles
   end); a failure names the file and a line. The first byte picks the
   account asked for. */
#include "fuzz.h"
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char path[64];
    static const char *accounts[] = { NULL, "a", "b", "default", "work" };
    smtp_settings st;
    smtp_result r;
    FILE *f;
    if (size < 1 || size > 20000) return 0;
    if (!path[0]) snprintf(path, sizeof path, "/tmp/fuzz-config-%d.conf", (int)getpid());
    f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(data + 1, 1, size - 1, f);
    fclose(f);
    chmod(path, 0600);
    r = smtp_config_load(&st, path, accounts[data[0] % 5]);
    FCHECK(r == SMTP_OK || r == SMTP_ERR_CONFIG || r == SMTP_ERR_NOMEM);
    if (r == SMTP_ERR_CONFIG) FCHECK(strstr(st.detail, path) != NULL);
    if (r == SMTP_OK) {
        FCHECK(st.account != NULL);
        FCHECK(st.notes != NULL);
        FCHECK(st.cfg.port >= 0 && st.cfg.port <= 65535);
    }
    smtp_settings_free(&st);
    return 0;
}
