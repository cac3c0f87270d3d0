/* fuzz_ehlo.c - the EHLO capability parser (smtp__ehlo_line). Each input
   line (LF-separated, a CR before it removed) is one ehlo-line, as the
   session passes it: the text after "250-". Checks: only known bits are
   ever set, bits only accumulate, the parse is ASCII case-insensitive
   (the line upper-cased gives the same result), and a SIZE line sets
   SMTP_EXT_SIZE. */
#include "fuzz.h"

#define EXT_ALL (SMTP_EXT_SIZE | SMTP_EXT_PIPELINING | SMTP_EXT_8BITMIME | SMTP_EXT_SMTPUTF8 | \
                 SMTP_EXT_STARTTLS | SMTP_EXT_AUTH | SMTP_EXT_CHUNKING | SMTP_EXT_DSN | \
                 SMTP_EXT_ENHANCEDSTATUSCODES)
#define AUTH_ALL (SMTP_AUTH_PLAIN | SMTP_AUTH_LOGIN | SMTP_AUTH_CRAM_MD5 | SMTP_AUTH_XOAUTH2 | \
                  SMTP_AUTH_OAUTHBEARER)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;
    unsigned ext = 0, auth = 0;
    unsigned long sz = 0;
    while (p <= end) {
        const char *nl = (const char *)memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl ? nl : end) - p), i;
        unsigned e1 = 0, a1 = 0, e2 = 0, a2 = 0, pe = ext, pa = auth;
        unsigned long s1 = 7, s2 = 7;
        char *up;
        if (n && p[n - 1] == '\r') n--;
        /* exactly n bytes on the heap: a read past the line is caught */
        up = (char *)malloc(n ? n : 1);
        FCHECK(up != NULL);
        memcpy(up, p, n);
        smtp__ehlo_line(up, n, &e1, &a1, &s1);
        for (i = 0; i < n; i++)
            if (up[i] >= 'a' && up[i] <= 'z') up[i] = (char)(up[i] - 32);
        smtp__ehlo_line(up, n, &e2, &a2, &s2);
        FCHECK(e1 == e2 && a1 == a2 && s1 == s2);
        FCHECK((e1 & ~(unsigned)EXT_ALL) == 0 && (a1 & ~(unsigned)AUTH_ALL) == 0);
        FCHECK(!a1 || (e1 & SMTP_EXT_AUTH));
        if (n >= 4 && !strncmp(up, "SIZE", 4) && (n == 4 || up[4] == ' ' || up[4] == '='))
            FCHECK(e1 == SMTP_EXT_SIZE);
        if (!(e1 & SMTP_EXT_SIZE)) FCHECK(s1 == 7);     /* size untouched by other keywords */
        /* at most one keyword per line */
        FCHECK((e1 & (e1 - 1)) == 0);
        free(up);
        /* accumulated the way the session does */
        smtp__ehlo_line(p, n, &ext, &auth, &sz);
        FCHECK((ext & pe) == pe && (auth & pa) == pa);
        FCHECK(ext == (pe | e1) && auth == (pa | a1));
        if (!nl) break;
        p = nl + 1;
    }
    return 0;
}
