/* fuzz_writer.c - the body writer (smtp__dot_encode, smtp__dot_finish):
   CRLF normalisation and dot-stuffing in pieces. The first two input
   bytes seed the piece sizes and output capacities (2 and up, as the
   session never offers less) and pick DATA (dot-stuffing, end-of-data
   line) or BDAT (RFC 3030: neither); the rest is the body. The result must be
   byte for byte what a plain one-byte-at-a-time reference gives; each
   call writes only inside its capacity (an exact heap buffer) and always
   makes progress. */
#include "fuzz.h"

/* The rules written plainly: every CR, LF and CRLF becomes CRLF, a '.'
   that starts a line gets another; then CRLF unless at a line start, and
   ".CRLF". BDAT: the line ends only. */
static size_t reference(const unsigned char *in, size_t n, int bdat, unsigned char *out)
{
    size_t i, o = 0;
    int bol = 1, cr = 0;
    for (i = 0; i < n; i++) {
        unsigned char c = in[i];
        if (c == '\n' && cr) { cr = 0; continue; }
        cr = c == '\r';
        if (c == '\r' || c == '\n') { out[o++] = '\r'; out[o++] = '\n'; bol = 1; continue; }
        if (bol && c == '.' && !bdat) out[o++] = '.';
        out[o++] = c; bol = 0;
    }
    if (bdat) return o;
    if (!bol) { out[o++] = '\r'; out[o++] = '\n'; }
    out[o++] = '.'; out[o++] = '\r'; out[o++] = '\n';
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const unsigned char *in;
    size_t n, pos = 0, o = 0, max, ro;
    unsigned char *got, *want;
    uint32_t rs;
    smtp__dot st;
    int mode, bdat;
    if (size < 2) return 0;
    rs = (uint32_t)data[0] << 8 | data[1];
    mode = data[0] & 3;
    bdat = (data[0] >> 2) & 1;
    in = data + 2; n = size - 2;
    max = 2 * n + 5;
    got = (unsigned char *)malloc(max);
    want = (unsigned char *)malloc(max);
    FCHECK(got && want);
    memset(&st, 0, sizeof st);
    st.bol = 1;
    st.nostuff = bdat;
    while (pos < n) {
        /* a piece as smtp_data_write might get it */
        size_t piece = mode == 0 ? n - pos : 1 + fuzz_rng(&rs) % (mode == 1 ? 4 : mode == 2 ? 64 : n - pos);
        size_t end = pos + (piece > n - pos ? n - pos : piece);
        while (pos < end) {
            size_t cap = mode == 0 ? 2 + fuzz_rng(&rs) % 8 : 2 + fuzz_rng(&rs) % (mode == 3 ? 4096 : 100);
            unsigned char *room = (unsigned char *)malloc(cap);
            size_t used = 0, w;
            FCHECK(room != NULL);
            w = smtp__dot_encode(&st, in + pos, end - pos, room, cap, &used);
            FCHECK(w <= cap);
            FCHECK(used >= 1 && used <= end - pos);  /* progress, within the piece */
            FCHECK(w <= 2 * used);
            FCHECK(o + w <= max);
            memcpy(got + o, room, w);
            free(room);
            o += w; pos += used;
        }
    }
    if (!bdat) {
        unsigned char fin[5];
        size_t f = smtp__dot_finish(&st, fin);
        FCHECK(f == 3 || f == 5);
        FCHECK(o + f <= max);
        memcpy(got + o, fin, f);
        o += f;
    }
    ro = reference(in, n, bdat, want);
    if (o != ro || memcmp(got, want, o) != 0) {
        fprintf(stderr, "writer: got %zu bytes, reference %zu\n", o, ro);
        FCHECK(0);
    }
    free(got); free(want);
    return 0;
}
