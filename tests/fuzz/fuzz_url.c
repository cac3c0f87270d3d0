/* fuzz_url.c - smtp_config_from_url over any bytes: no crash, no leak; on
   success the fields are sane (a host, a port in range, strings without
   control characters); on failure a detail that names the URL. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char url[2048];
    smtp_settings st;
    smtp_result r;
    const char *p;
    if (size >= sizeof url) return 0;
    memcpy(url, data, size);
    url[size] = 0;
    r = smtp_config_from_url(&st, url);
    FCHECK(r == SMTP_OK || r == SMTP_ERR_CONFIG || r == SMTP_ERR_NOMEM);
    if (r == SMTP_OK) {
        FCHECK(st.cfg.host && *st.cfg.host);
        FCHECK(st.cfg.port >= 0 && st.cfg.port <= 65535);
        for (p = st.cfg.host; *p; p++) FCHECK((unsigned char)*p >= 0x20);
        if (st.cfg.username) for (p = st.cfg.username; *p; p++) FCHECK((unsigned char)*p >= 0x20 || *p == '\t');
        if (st.cfg.password) for (p = st.cfg.password; *p; p++) FCHECK((unsigned char)*p >= 0x20 || *p == '\t');
        if (st.cfg.helo_name) FCHECK(!strchr(st.cfg.helo_name, ' '));
    } else if (r == SMTP_ERR_CONFIG) {
        FCHECK(strstr(st.detail, "URL") != NULL);
    }
    smtp_settings_free(&st);
    return 0;
}
