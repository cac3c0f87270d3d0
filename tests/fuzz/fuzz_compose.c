/* fuzz_compose.c - the MIME composer (smtp__compose, as smtp_send drives
   it) with hostile addresses, display names, subject, extra headers,
   attachments from memory (file names, content types with parameters,
   content ids), with and without HTML, over a scripted server that offers
   a chosen set of extensions (SMTPUTF8, 8BITMIME, CHUNKING, SIZE,
   PIPELINING) and keeps the message exactly as it arrived (DATA: the
   dot-stuffing undone and checked; BDAT: the chunks joined).
   Input: three flag bytes, then NUL-separated fields (a missing field
   takes a harmless default):
     from, to[0], to[1], cc[0], subject, header 1 name, value, header 2
     name, value, text, html, then for each of two attachments: filename,
     content_type, content_id, data (each byte XOR 0x80, so NUL can occur)
   flags[0]: 1 SMTPUTF8, 2 8BITMIME, 4 CHUNKING, 8 SIZE, 16 PIPELINING,
             32 html, 64 attachment 1, 128 attachment 2
   flags[1]: 1 to[1], 2 cc, 4 subject, 8 header 1, 16 header 2, 32 a Bcc,
             64 text NULL, 128 no to[0]
   flags[2]: attachment 1: 1 filename, 2 content_type, 4 content_id;
             attachment 2: 8, 16, 32; 64 the header 1 pair twice
   When smtp_send succeeds, the message must be well formed:
   - every line ends in CRLF and has at most 998 octets; no NUL; a line
     of DATA that starts with '.' was stuffed; SIZE= declared >= sent;
   - the header block: ASCII unless MAIL carried SMTPUTF8; fields
     "Name: value", continuation lines start with white space and hold
     something else too; one Date, From, Message-ID, MIME-Version; To,
     Cc, Subject exactly when given; no Bcc, and the Bcc address nowhere;
     the Message-ID is <dot-atom-text@dot-atom-text> (RFC 5322 3.6.4);
     the headers of the parts are ASCII too unless SMTPUTF8;
   - From, To, Cc, Reply-To, Sender parse back as RFC 5322 address lists:
     quotes and angle brackets balanced, no comment and no group (smtp.h
     writes none: one can only come from a value), each mailbox "phrase
     <addr>" or a bare addr-spec; From, To, Cc hold exactly the addresses
     given (the domain in A-labels without SMTPUTF8), and the display name
     decodes (quoted strings, RFC 2047 words) to the one given (as it is,
     inside its quotes, or read as a phrase itself); Reply-To
     and Sender hold what the value holds when the value parses as an
     address list itself, else only addresses it contains;
   - Subject and the other extra headers decode to exactly the value
     (white space at either end aside; a run of white space may shrink);
   - the MIME structure: every multipart has a boundary of 1..70 RFC 2046
     characters, delimiter lines and one close delimiter, nothing before
     or after; the leaves, in order, are the text, the HTML, the inline
     parts, the attachments, under multipart/alternative, /related and
     /mixed as fits; each decodes (7bit, 8bit only with BODY=8BITMIME,
     quoted-printable with lines <= 76, base64 with lines <= 76) to exactly
     the text, HTML (line ends as CRLF) or data given; attachments carry
     their type (type/subtype RFC 2045 tokens, with the parameters given,
     none twice), file name (name= and filename=, RFC 2231 decoded),
     disposition and Content-ID (<the id given>, unfolded, not empty).
   When smtp_send fails, it is a parameter error (PARAM or UNSUPPORTED),
   and no DATA or BDAT was sent.
   FUZZ_VERBOSE=1 prints each message; FUZZ_COMPOSE_CHECKS=0 keeps only
   the sanitizers and the error-path check. */
#include "fuzz.h"

static smtp_session S;

/* ------------------------------------------------------------------ */
/* a growing byte buffer                                                */
typedef struct buf { unsigned char *p; size_t n, cap; } buf;

static void bput(buf *b, const void *p, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t c = b->cap ? b->cap : 256;
        while (b->n + n + 1 > c) c *= 2;
        b->p = (unsigned char *)realloc(b->p, c);
        FCHECK(b->p != NULL);
        b->cap = c;
    }
    if (n) memcpy(b->p + b->n, p, n);
    b->n += n;
    b->p[b->n] = 0;
}
static void bputc(buf *b, int c) { unsigned char x = (unsigned char)c; bput(b, &x, 1); }
static void bputs(buf *b, const char *s) { bput(b, s, strlen(s)); }
static void bfree(buf *b) { free(b->p); memset(b, 0, sizeof *b); }

/* ------------------------------------------------------------------ */
/* the scripted server                                                  */
static struct {
    unsigned ext;
    buf in;  size_t inpos;   /* replies not read yet */
    buf line;                /* the command line being received */
    buf wire;                /* DATA: the bytes as sent, after a virtual CRLF */
    buf msg;                 /* the message as received */
    buf mail;                /* the MAIL FROM line */
    int state;               /* 0 commands, 1 DATA, 2 BDAT chunk */
    size_t bdat_left; int bdat_last;
    int messages, data_cmds, mails, closed;
} T;

static void say(const char *s) { bputs(&T.in, s); }

static void on_cmd(const char *l, size_t n)
{
    if (n >= 4 && !strncasecmp(l, "EHLO", 4)) {
        say("250-mx.fuzz.test\r\n");
        if (T.ext & 1) say("250-SMTPUTF8\r\n");
        if (T.ext & 2) say("250-8BITMIME\r\n");
        if (T.ext & 4) say("250-CHUNKING\r\n");
        if (T.ext & 8) say("250-SIZE 52428800\r\n");
        if (T.ext & 16) say("250-PIPELINING\r\n");
        say("250 HELP\r\n");
    } else if (n >= 4 && !strncasecmp(l, "MAIL", 4)) {
        T.mails++;
        T.mail.n = 0;
        bput(&T.mail, l, n);
        say("250 2.1.0 ok\r\n");
    } else if (n >= 4 && !strncasecmp(l, "RCPT", 4)) say("250 2.1.5 ok\r\n");
    else if (n == 4 && !strncasecmp(l, "DATA", 4)) {
        T.data_cmds++;
        say("354 go ahead\r\n");
        T.state = 1;
        T.wire.n = 0;
        bputs(&T.wire, "\r\n");
        T.msg.n = 0;
    } else if (n >= 5 && !strncasecmp(l, "BDAT ", 5)) {
        char tmp[64];
        T.data_cmds++;
        FCHECK(n < sizeof tmp);
        memcpy(tmp, l, n); tmp[n] = 0;
        T.bdat_left = strtoul(tmp + 5, NULL, 10);
        T.bdat_last = strstr(tmp, " LAST") != NULL;
        T.state = 2;
        if (T.bdat_left == 0) { T.state = 0; say("250 ok\r\n"); if (T.bdat_last) T.messages++; }
    } else if (n >= 4 && !strncasecmp(l, "RSET", 4)) say("250 ok\r\n");
    else if (n >= 4 && !strncasecmp(l, "NOOP", 4)) say("250 ok\r\n");
    else if (n >= 4 && !strncasecmp(l, "QUIT", 4)) say("221 bye\r\n");
    else say("502 5.5.2 what\r\n");
}

/* DATA's wire bytes into the message: every line that starts with '.' was
   stuffed (RFC 5321 4.5.2), so it starts with "..". */
static void unstuff(const unsigned char *w, size_t n)
{
    size_t i = 0;
    T.msg.n = 0;
    while (i < n) {
        if (w[i] == '.') {
            FCHECK(i + 1 < n && w[i + 1] == '.');
            i++;
        }
        while (i < n) {
            bputc(&T.msg, w[i]);
            if (w[i++] == '\n') break;
        }
    }
}

static int t_write(smtp_session *s, const void *vb, size_t len, long long dl)
{
    const unsigned char *p = (const unsigned char *)vb;
    size_t i = 0;
    (void)s; (void)dl;
    FCHECK(!T.closed && len > 0);
    while (i < len) {
        if (T.state == 1) {   /* DATA: up to CRLF . CRLF */
            bputc(&T.wire, p[i++]);
            if (T.wire.n >= 5 && !memcmp(T.wire.p + T.wire.n - 5, "\r\n.\r\n", 5)) {
                unstuff(T.wire.p + 2, T.wire.n - 5);   /* through the CRLF before the dot */
                T.messages++;
                T.state = 0;
                say("250 2.0.0 queued\r\n");
            }
        } else if (T.state == 2) {
            size_t k = len - i < T.bdat_left ? len - i : T.bdat_left;
            bput(&T.msg, p + i, k);
            i += k; T.bdat_left -= k;
            if (!T.bdat_left) {
                T.state = 0;
                if (T.bdat_last) T.messages++;
                say("250 2.0.0 ok\r\n");
            }
        } else {
            bputc(&T.line, p[i++]);
            if (T.line.p[T.line.n - 1] == '\n') {
                FCHECK(T.line.n >= 2 && T.line.p[T.line.n - 2] == '\r');
                on_cmd((const char *)T.line.p, T.line.n - 2);
                T.line.n = 0;
            }
        }
    }
    return SMTP_OK;
}

static int t_read(smtp_session *s, void *b, size_t len, long long dl)
{
    size_t k = T.in.n - T.inpos;
    (void)s; (void)dl;
    FCHECK(!T.closed);
    if (k == 0) return SMTP_ERR_TIMEOUT;
    if (k > len) k = len;
    memcpy(b, T.in.p + T.inpos, k);
    T.inpos += k;
    return (int)k;
}

static void t_close(smtp_session *s) { (void)s; T.closed = 1; }

/* ------------------------------------------------------------------ */
/* decoding helpers                                                     */

static int p_is_ws(char c) { return c == ' ' || c == '\t'; }

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static int ieq(const char *a, size_t an, const char *b)
{
    size_t i, bn = strlen(b);
    if (an != bn) return 0;
    for (i = 0; i < an; i++) if (lower((unsigned char)a[i]) != lower((unsigned char)b[i])) return 0;
    return 1;
}

static int hexv(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

static int b64v(int c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* base64 (strict) of t[0..n) appended to out; -1 when malformed */
static int unb64(const char *t, size_t n, buf *out)
{
    size_t i;
    if (n % 4) return -1;
    for (i = 0; i < n; i += 4) {
        int a = b64v(t[i]), b = b64v(t[i + 1]), c = t[i + 2] == '=' ? -2 : b64v(t[i + 2]),
            d = t[i + 3] == '=' ? -2 : b64v(t[i + 3]);
        if (a < 0 || b < 0 || c == -1 || d == -1) return -1;
        if ((c == -2 || d == -2) && i + 4 != n) return -1;
        if (c == -2 && d != -2) return -1;
        bputc(out, a << 2 | b >> 4);
        if (c >= 0) bputc(out, (b & 15) << 4 | c >> 2);
        if (d >= 0) bputc(out, (c & 3) << 6 | d);
    }
    return 0;
}

/* An RFC 2047 encoded word at p[0..n): its length, its bytes into out;
   0 when p does not start with one. */
static size_t eword(const char *p, size_t n, buf *out)
{
    size_t i = 2, cs, enc, txt;
    buf tmp = { 0, 0, 0 };
    if (n < 8 || p[0] != '=' || p[1] != '?') return 0;
    for (cs = i; i < n && p[i] != '?' && p[i] != ' ' && p[i] != '\t'; i++) {}
    if (i >= n || p[i] != '?' || i == cs) return 0;
    enc = ++i;
    if (i + 1 >= n || p[i + 1] != '?') return 0;
    i += 2;
    for (txt = i; i + 1 < n && !(p[i] == '?' && p[i + 1] == '='); i++)
        if (p[i] == ' ' || p[i] == '\t' || p[i] == '?') return 0;
    if (i + 1 >= n) return 0;
    if (lower(p[enc]) == 'b') {
        if (unb64(p + txt, i - txt, &tmp) != 0) { bfree(&tmp); return 0; }
    } else if (lower(p[enc]) == 'q') {
        size_t k;
        for (k = txt; k < i; k++) {
            if (p[k] == '_') bputc(&tmp, ' ');
            else if (p[k] == '=' && k + 2 < i + 1 && hexv(p[k + 1]) >= 0 && hexv(p[k + 2]) >= 0) {
                bputc(&tmp, hexv(p[k + 1]) << 4 | hexv(p[k + 2])); k += 2;
            } else if (p[k] == '=') { bfree(&tmp); return 0; }
            else bputc(&tmp, p[k]);
        }
    } else return 0;
    bput(out, tmp.p, tmp.n);
    bfree(&tmp);
    return i + 2;
}

/* The tokens of p[0..n): runs of white space, quoted strings (when
   quotes is set: RFC 5322 phrases), and the rest (atoms). Into out: white
   space as it is, except between two encoded words (RFC 2047 6.2), quoted
   strings unquoted, atoms that are one encoded word decoded, other atoms
   as they are. */
static void detokens(const char *p, size_t n, int quotes, buf *out)
{
    size_t i = 0, ws_at = 0, ws_n = 0;
    int prev_word = 0;
    while (i < n) {
        size_t s0 = i, k;
        if (p_is_ws(p[i])) {
            while (i < n && p_is_ws(p[i])) i++;
            ws_at = s0; ws_n = i - s0;
            continue;
        }
        if (quotes && p[i] == '"') {
            bput(out, p + ws_at, ws_n); ws_n = 0;
            for (i++; i < n && p[i] != '"'; i++) {
                if (p[i] == '\\' && i + 1 < n) i++;
                bputc(out, p[i]);
            }
            i++;
            prev_word = 0;
            continue;
        }
        while (i < n && !p_is_ws(p[i]) && !(quotes && p[i] == '"')) i++;
        {
            buf w = { 0, 0, 0 };
            k = eword(p + s0, i - s0, &w);
            if (k == i - s0) {
                if (!prev_word) bput(out, p + ws_at, ws_n);
                bput(out, w.p, w.n);
                prev_word = 1;
            } else {
                bput(out, p + ws_at, ws_n);
                bput(out, p + s0, i - s0);
                prev_word = 0;
            }
            ws_n = 0;
            bfree(&w);
        }
    }
    bput(out, p + ws_at, ws_n);   /* trailing white space */
}

/* Unstructured text (RFC 5322 3.2.5 with RFC 2047). */
static void unstructured(const char *p, size_t n, buf *out) { detokens(p, n, 0, out); }

/* ------------------------------------------------------------------ */
/* address lists (RFC 5322 3.4), strict                                 */
#define MAXMB 64
typedef struct mbox { buf name, addr; int has_name, angle; } mbox;
typedef struct mlist { mbox m[MAXMB]; int n; const char *why; } mlist;

static void mlist_free(mlist *l)
{
    int i;
    for (i = 0; i < MAXMB; i++) { bfree(&l->m[i].name); bfree(&l->m[i].addr); }
    memset(l, 0, sizeof *l);
}

/* The display name of phrase tokens in p[0..n), trimmed. */
static void phrase(const char *p, size_t n, buf *out)
{
    size_t i = 0;
    while (i < n && p_is_ws(p[i])) i++;
    while (n > i && p_is_ws(p[n - 1])) n--;
    detokens(p + i, n - i, 1, out);
    if (!out->p) bput(out, "", 0);
}

/* Parses an address list; 0, or -1 with l->why. */
static int parse_list(const char *v, size_t n, mlist *l)
{
    size_t i = 0;
    memset(l, 0, sizeof *l);
    for (;;) {
        size_t start = i, lt = (size_t)-1, gt = 0;
        mbox *m;
        int any = 0;
        while (i < n && p_is_ws(v[i])) i++;
        for (; i < n && v[i] != ','; i++) {
            char c = v[i];
            if (c == '"') {
                if (lt != (size_t)-1 && gt) { l->why = "text after '>'"; return -1; }
                for (i++; i < n && v[i] != '"'; i++) if (v[i] == '\\') i++;
                if (i >= n) { l->why = "an unterminated quoted string"; return -1; }
                any = 1;
            } else if (c == '<') {
                if (lt != (size_t)-1) { l->why = "a second '<'"; return -1; }
                lt = i;
                for (i++; i < n && v[i] != '>'; i++) {
                    if (v[i] == '"') {
                        for (i++; i < n && v[i] != '"'; i++) if (v[i] == '\\') i++;
                        if (i >= n) { l->why = "an unterminated quoted string in <>"; return -1; }
                    } else if (v[i] == '<' || v[i] == '(' || v[i] == ')' || v[i] == ',' || v[i] == ' ' ||
                               v[i] == '\t') { l->why = "a '<', '(', ')', ',' or white space in <>"; return -1; }
                }
                if (i >= n) { l->why = "'<' without '>'"; return -1; }
                gt = i;
                any = 1;
            } else if (c == '(' || c == ')') { l->why = "a comment"; return -1; }
            else if (c == '>') { l->why = "'>' without '<'"; return -1; }
            else if (c == ':' || c == ';') { l->why = "a group"; return -1; }
            else if (c == '\\') { l->why = "a backslash outside quotes"; return -1; }
            else if (!p_is_ws(c)) {
                if (lt != (size_t)-1) { l->why = "text after '>'"; return -1; }
                any = 1;
            }
        }
        if (!any) { l->why = "an empty mailbox"; return -1; }
        if (l->n == MAXMB) { l->why = "too many mailboxes"; return -1; }
        m = &l->m[l->n++];
        if (lt != (size_t)-1) {
            m->angle = 1;
            bput(&m->addr, v + lt + 1, gt - lt - 1);
            phrase(v + start, lt - start, &m->name);
            {
                size_t k;
                for (k = start; k < lt; k++) if (!p_is_ws(v[k])) m->has_name = 1;
            }
        } else {
            size_t a = start, e = i, k;
            while (a < e && p_is_ws(v[a])) a++;
            while (e > a && p_is_ws(v[e - 1])) e--;
            for (k = a; k < e; k++) {
                if (v[k] == '"') { for (k++; k < e && v[k] != '"'; k++) if (v[k] == '\\') k++; }
                else if (p_is_ws(v[k])) { l->why = "a phrase without <address>"; return -1; }
            }
            bput(&m->addr, v + a, e - a);
        }
        if (i >= n) return 0;
        i++;   /* the comma */
    }
}

/* ------------------------------------------------------------------ */
/* the header block                                                     */
#define MAXF 256
typedef struct hfield { const char *name; size_t nn; buf v; } hfield;
static hfield HF[MAXF];
static int NHF;

static void fail(const char *what, const char *p, size_t n)
{
    fprintf(stderr, "compose: %s: \"%.*s\"\n", what, (int)(n > 300 ? 300 : n), p);
    FCHECK(0);
}

/* Header fields of p[0..n) (lines with their CRLF) into f[]; returns the
   offset of the body (after the empty line). */
static size_t headers(const char *p, size_t n, hfield *f, int *nf, int part)
{
    size_t i = 0;
    *nf = 0;
    for (;;) {
        const char *e = (const char *)memmem(p + i, n - i, "\r\n", 2);
        size_t len, k;
        if (!e) fail(part ? "a part's header without an empty line" : "a header block without an empty line", p + i, n - i);
        len = (size_t)(e - (p + i));
        if (len == 0) return i + 2;
        for (k = 0; k < len && p_is_ws(p[i + k]); k++) {}
        if (k == len) fail("a header line of only white space", p + i, len);
        if (k > 0) {   /* continuation */
            if (*nf == 0) fail("a continuation line first", p + i, len);
            bput(&f[*nf - 1].v, p + i, len);
        } else {
            const char *c = (const char *)memchr(p + i, ':', len);
            size_t j;
            if (!c || c == p + i) fail("a header line that is not Name: value", p + i, len);
            for (j = 0; p + i + j < c; j++)
                if ((unsigned char)p[i + j] <= 32 || (unsigned char)p[i + j] >= 127)
                    fail("a header name with a byte outside 33..126", p + i, len);
            if (*nf == MAXF) fail("too many header fields", p + i, len);
            f[*nf].name = p + i; f[*nf].nn = (size_t)(c - (p + i));
            f[*nf].v.n = 0;
            bput(&f[*nf].v, c + 1, len - (size_t)(c + 1 - (p + i)));
            (*nf)++;
        }
        i += len + 2;
    }
}

static int count_fields(hfield *f, int nf, const char *name)
{
    int i, c = 0;
    for (i = 0; i < nf; i++) if (ieq(f[i].name, f[i].nn, name)) c++;
    return c;
}

/* the k-th field named name, or NULL */
static hfield *field_n(hfield *f, int nf, const char *name, int k)
{
    int i;
    for (i = 0; i < nf; i++) if (ieq(f[i].name, f[i].nn, name) && k-- == 0) return &f[i];
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Content-Type and -Disposition parameters (RFC 2045 5.1, RFC 2231)    */
#define MAXP 16
typedef struct params { char type[256]; int n; char attr[MAXP][1000]; buf val[MAXP]; } params;

static void params_free(params *pp)
{
    int i;
    for (i = 0; i < MAXP; i++) bfree(&pp->val[i]);
    memset(pp, 0, sizeof *pp);
}

static int tspecial(int c) { return c <= 32 || c >= 127 || strchr("()<>@,;:\\\"/[]?=", c) != NULL; }

/* "type/sub; a=b; c="d"; e*=UTF-8''%41; f*0=..; f*1*=.." -> pp (type
   lower case, attributes lower case, values decoded, continuations
   joined). -1 when malformed or a parameter repeats. */
static int parse_params(const char *v, size_t n, params *pp, int want_slash)
{
    size_t i = 0, t = 0;
    struct { char base[1000]; int sec, ext; buf raw; } piece[MAXP];
    int np = 0, k, j, rc = 0;
    memset(pp, 0, sizeof *pp);
    memset(piece, 0, sizeof piece);
    while (i < n && p_is_ws(v[i])) i++;
    while (i < n && v[i] != ';' && !p_is_ws(v[i])) {
        if (t + 1 >= sizeof pp->type) return -1;
        pp->type[t++] = (char)lower((unsigned char)v[i++]);
    }
    pp->type[t] = 0;
    if (!t || (want_slash && !strchr(pp->type, '/'))) return -1;
    {   /* type "/" subtype, each an RFC 2045 token */
        char *sl = strchr(pp->type, '/');
        size_t c;
        if (want_slash && (sl == pp->type || !sl[1])) return -1;
        for (c = 0; c < t; c++)
            if (tspecial((unsigned char)pp->type[c]) && !(want_slash && pp->type + c == sl)) return -1;
    }
    for (;;) {
        char attr[1000];
        size_t a = 0;
        while (i < n && p_is_ws(v[i])) i++;
        if (i >= n) break;
        if (v[i++] != ';') { rc = -1; goto out; }
        while (i < n && p_is_ws(v[i])) i++;
        if (i >= n) break;   /* a trailing ';' */
        while (i < n && v[i] != '=' && !p_is_ws(v[i])) {
            if (a + 1 >= sizeof attr || (tspecial((unsigned char)v[i]) && v[i] != '*')) { rc = -1; goto out; }
            attr[a++] = (char)lower((unsigned char)v[i++]);
        }
        attr[a] = 0;
        while (i < n && p_is_ws(v[i])) i++;
        if (!a || i >= n || v[i++] != '=') { rc = -1; goto out; }
        while (i < n && p_is_ws(v[i])) i++;
        if (np == MAXP) { rc = -1; goto out; }
        {
            char *star = strchr(attr, '*');
            snprintf(piece[np].base, sizeof piece[np].base, "%.*s", star ? (int)(star - attr) : (int)a, attr);
            piece[np].sec = -1;
            piece[np].ext = a > 0 && attr[a - 1] == '*';
            if (star && star[1] >= '0' && star[1] <= '9') piece[np].sec = atoi(star + 1);
        }
        if (i < n && v[i] == '"') {
            for (i++; i < n && v[i] != '"'; i++) {
                if (v[i] == '\\' && i + 1 < n) i++;
                bputc(&piece[np].raw, v[i]);
            }
            if (i >= n) { rc = -1; goto out; }
            i++;
        } else {
            size_t s0 = i;
            while (i < n && v[i] != ';' && !p_is_ws(v[i])) {
                if (tspecial((unsigned char)v[i]) && !(piece[np].ext && (v[i] == '%' || v[i] == '\''))) { rc = -1; goto out; }
                bputc(&piece[np].raw, v[i++]);
            }
            if (i == s0) { rc = -1; goto out; }
        }
        np++;
    }
    /* join by base name, in section order */
    for (k = 0; k < np; k++) {
        int sec;
        if (!piece[k].base[0]) continue;
        for (j = 0; j < pp->n; j++) if (!strcmp(pp->attr[j], piece[k].base)) break;
        if (j < pp->n) continue;   /* done with this base already */
        if (pp->n == MAXP) { rc = -1; goto out; }
        snprintf(pp->attr[pp->n], sizeof pp->attr[0], "%s", piece[k].base);
        for (sec = -1; sec < MAXP; sec++) {
            int found = 0;
            for (j = 0; j < np; j++) {
                const unsigned char *r;
                size_t x, rn;
                if (strcmp(piece[j].base, piece[k].base) || piece[j].sec != sec) continue;
                if (found++) { rc = -1; goto out; }   /* a repeated parameter */
                r = piece[j].raw.p; rn = piece[j].raw.n;
                x = 0;
                if (piece[j].ext && sec <= 0) {   /* charset'language' */
                    const unsigned char *q1 = rn ? memchr(r, '\'', rn) : NULL, *q2;
                    if (!q1) { rc = -1; goto out; }
                    q2 = memchr(q1 + 1, '\'', rn - (size_t)(q1 + 1 - r));
                    if (!q2) { rc = -1; goto out; }
                    x = (size_t)(q2 + 1 - r);
                }
                for (; x < rn; x++) {
                    if (piece[j].ext && r[x] == '%') {
                        if (x + 2 >= rn) { rc = -1; goto out; }
                        if (hexv(r[x + 1]) < 0 || hexv(r[x + 2]) < 0) { rc = -1; goto out; }
                        bputc(&pp->val[pp->n], hexv(r[x + 1]) << 4 | hexv(r[x + 2]));
                        x += 2;
                    } else bputc(&pp->val[pp->n], r[x]);
                }
            }
            if (!found && sec >= 0) break;
        }
        if (!pp->val[pp->n].p) bput(&pp->val[pp->n], "", 0);
        pp->n++;
    }
out:
    for (k = 0; k < MAXP; k++) bfree(&piece[k].raw);
    return rc;
}

static buf *param(params *pp, const char *attr)
{
    int i;
    for (i = 0; i < pp->n; i++) if (!strcmp(pp->attr[i], attr)) return &pp->val[i];
    return NULL;
}

/* ------------------------------------------------------------------ */
/* the MIME tree                                                        */
#define MAXLEAF 16
typedef struct leaf {
    params ct, cd; int has_cd;
    char parent[64];
    buf cid, body;
    int top;
} leaf;
static leaf L[MAXLEAF];
static int NL;
static int BODY8;   /* MAIL carried BODY=8BITMIME */
static int UTF8;    /* MAIL carried SMTPUTF8 */

static int bchar(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || strchr("'()+_,-./:=? ", c);
}

/* Decodes a leaf's content p[0..n) by its Content-Transfer-Encoding. */
static void decode_leaf(const char *cte, const char *p, size_t n, buf *out)
{
    size_t i = 0, col = 0;
    if (!cte[0] || !strcmp(cte, "7bit") || !strcmp(cte, "8bit")) {
        for (i = 0; i < n; i++) {
            if (!p[i]) fail("a NUL in a text part", p, n);
            if ((unsigned char)p[i] >= 0x80 && strcmp(cte, "8bit")) fail("an 8-bit byte in a 7bit part", p, n);
        }
        if (!strcmp(cte, "8bit") && !BODY8) fail("an 8bit part without BODY=8BITMIME", p, n);
        bput(out, p, n);
        return;
    }
    if (!strcmp(cte, "quoted-printable")) {
        for (i = 0; i < n; i++) {
            unsigned char c = (unsigned char)p[i];
            if (c == '\r') {   /* a line end (CRLF checked for the whole message) */
                if (i > 0 && p_is_ws(p[i - 1])) fail("white space at the end of a quoted-printable line", p, n);
                bput(out, "\r\n", 2); i++; col = 0; continue;
            }
            if (++col > 76) fail("a quoted-printable line over 76 characters", p, n);
            if (c == '=') {
                if (i + 2 < n && p[i + 1] == '\r' && p[i + 2] == '\n') { i += 2; col = 0; continue; }
                if (i + 2 >= n || hexv(p[i + 1]) < 0 || hexv(p[i + 2]) < 0) fail("a bad '=' in quoted-printable", p + i, n - i);
                bputc(out, hexv(p[i + 1]) << 4 | hexv(p[i + 2]));
                i += 2; col += 2;
                if (col > 76) fail("a quoted-printable line over 76 characters", p, n);
                continue;
            }
            if (!((c >= 33 && c <= 126) || c == ' ' || c == '\t')) fail("a raw byte in quoted-printable", p + i, n - i);
            bputc(out, c);
        }
        return;
    }
    if (!strcmp(cte, "base64")) {
        buf all = { 0, 0, 0 };
        while (i < n) {
            const char *e = (const char *)memmem(p + i, n - i, "\r\n", 2);
            size_t len = e ? (size_t)(e - (p + i)) : n - i;
            if (len > 76) fail("a base64 line over 76 characters", p + i, len);
            bput(&all, p + i, len);
            i += len + (e ? 2 : 0);
        }
        if (unb64(all.p ? (const char *)all.p : "", all.n, out) != 0) fail("malformed base64", (const char *)all.p, all.n);
        bfree(&all);
        return;
    }
    fail("an unknown Content-Transfer-Encoding", cte, strlen(cte));
}

static void entity(const char *p, size_t n, hfield *f, int nf, const char *parent, int depth);

/* The parts of a multipart body p[0..n) with boundary b. */
static void multipart(const char *p, size_t n, const char *b, size_t bl, const char *type, int depth)
{
    buf x = { 0, 0, 0 };
    size_t i, start = 0;
    int parts = 0, closed = 0;
    bputs(&x, "\r\n");
    bput(&x, p, n);
    i = 0;
    for (;;) {
        const unsigned char *d = i < x.n ? memmem(x.p + i, x.n - i, "\r\n--", 4) : NULL;
        size_t at, after;
        if (d && (size_t)(d - x.p) + 4 + bl <= x.n && !memcmp(d + 4, b, bl)) {
            at = (size_t)(d - x.p);
            after = at + 4 + bl;
        } else if (d) { i = (size_t)(d - x.p) + 1; continue; }
        else break;
        if (!parts && !start && at > 2)   /* the first delimiter opens the body: no preamble */
            fail("a multipart body that does not start with its delimiter", p, n);
        if (parts > 0) {   /* the part before this delimiter */
            hfield *pf = (hfield *)calloc(MAXF, sizeof *pf);
            int pn, k;
            size_t off;
            FCHECK(pf != NULL);
            off = headers((const char *)x.p + start, at - start + 2, pf, &pn, 1);
            if (!UTF8) {
                size_t q;
                for (q = 0; q < off && q < at - start; q++)
                    if (x.p[start + q] >= 0x80) fail("an 8-bit byte in a part's header without SMTPUTF8", (const char *)x.p + start, off);
            }
            if (off > at - start) off = at - start;
            entity((const char *)x.p + start + off, at - start - off, pf, pn, type, depth + 1);
            for (k = 0; k < MAXF; k++) bfree(&pf[k].v);
            free(pf);
        }
        if (after + 2 <= x.n && !memcmp(x.p + after, "--", 2)) {
            /* the close delimiter: nothing after it but a line end */
            size_t rest = x.n - after - 2;
            if (!(rest == 0 || (rest == 2 && !memcmp(x.p + after + 2, "\r\n", 2))))
                fail("text after a close delimiter", (const char *)x.p + after, x.n - after);
            closed = 1;
            break;
        }
        if (after + 2 > x.n || memcmp(x.p + after, "\r\n", 2))
            fail("a boundary that is the prefix of a line", (const char *)x.p + at + 2, x.n - at - 2);
        parts++;
        start = after + 2;
        i = start > 2 ? start - 2 : 0;
    }
    if (!closed) fail("a multipart without its close delimiter", b, bl);
    if (!parts) fail("a multipart without parts", b, bl);
    bfree(&x);
}

/* An entity with fields f[0..nf) and body p[0..n). */
static void entity(const char *p, size_t n, hfield *f, int nf, const char *parent, int depth)
{
    hfield *ct = field_n(f, nf, "Content-Type", 0), *cte = field_n(f, nf, "Content-Transfer-Encoding", 0),
           *cd = field_n(f, nf, "Content-Disposition", 0), *cid = field_n(f, nf, "Content-ID", 0);
    params pp;
    char enc[40] = "";
    leaf *l;
    if (depth > 4) fail("multiparts nested too deep", p, n);
    if (count_fields(f, nf, "Content-Type") > 1 || count_fields(f, nf, "Content-Transfer-Encoding") > 1 ||
        count_fields(f, nf, "Content-Disposition") > 1 || count_fields(f, nf, "Content-ID") > 1)
        fail("a Content- field twice", p, n);
    memset(&pp, 0, sizeof pp);
    if (ct) {
        if (parse_params((const char *)ct->v.p, ct->v.n, &pp, 1) != 0)
            fail("a Content-Type that does not parse", (const char *)ct->v.p, ct->v.n);
    } else snprintf(pp.type, sizeof pp.type, "text/plain");
    if (cte) {
        size_t i, k = 0;
        for (i = 0; i < cte->v.n; i++)
            if (!p_is_ws((char)cte->v.p[i]) && k + 1 < sizeof enc) enc[k++] = (char)lower(cte->v.p[i]);
        enc[k] = 0;
    }
    if (!strncmp(pp.type, "multipart/", 10)) {
        buf *b = param(&pp, "boundary");
        size_t i;
        char type[64];
        if (!b || b->n < 1 || b->n > 70 || b->p[b->n - 1] == ' ') fail("a multipart boundary missing or of a bad length", pp.type, strlen(pp.type));
        for (i = 0; i < b->n; i++) if (!bchar(b->p[i])) fail("a boundary with a byte outside RFC 2046's set", (const char *)b->p, b->n);
        if (enc[0] && strcmp(enc, "7bit") && strcmp(enc, "8bit")) fail("a multipart with an encoding", enc, strlen(enc));
        snprintf(type, sizeof type, "%s", pp.type);
        multipart(p, n, (const char *)b->p, b->n, type, depth);
        params_free(&pp);
        return;
    }
    if (NL == MAXLEAF) fail("too many parts", p, n);
    l = &L[NL++];
    l->ct = pp;
    snprintf(l->parent, sizeof l->parent, "%s", parent);
    l->top = depth == 0;
    if (cd) {
        if (parse_params((const char *)cd->v.p, cd->v.n, &l->cd, 0) != 0)
            fail("a Content-Disposition that does not parse", (const char *)cd->v.p, cd->v.n);
        l->has_cd = 1;
    }
    if (cid) {
        size_t a = 0, e = cid->v.n;
        while (a < e && p_is_ws((char)cid->v.p[a])) a++;
        while (e > a && p_is_ws((char)cid->v.p[e - 1])) e--;
        bput(&l->cid, cid->v.p + a, e - a);
    }
    decode_leaf(enc, p, n, &l->body);
}

/* ------------------------------------------------------------------ */
/* what was asked for                                                   */

/* every CR, LF and CRLF as CRLF */
static void crlf(const char *s, buf *out)
{
    for (; *s; s++) {
        if (*s == '\r' || *s == '\n') {
            if (*s == '\r' && s[1] == '\n') s++;
            bput(out, "\r\n", 2);
        } else bputc(out, *s);
    }
}

/* The address of given as the header must show it. */
static void want_addr(const char *given, int utf8, buf *out)
{
    const char *a;
    size_t n;
    char conv[1200], bad[80];
    FCHECK(smtp__addr(given, 1, &a, &n) == NULL);   /* smtp_send checked it */
    if (!utf8 && !smtp__is_ascii(a, n) && !smtp__idna_addr(a, n, conv, sizeof conv, bad, sizeof bad)) {
        bputs(out, conv);
        return;
    }
    bput(out, a, n);
}

/* The display name given ("Name <a@b>"): trimmed; 0 when none. */
static int want_name(const char *given, const char **nb, const char **ne)
{
    const char *lt = strrchr(given, '<');
    if (!lt) return 0;
    *nb = given; *ne = lt;
    while (*nb < *ne && p_is_ws(**nb)) (*nb)++;
    while (*ne > *nb && p_is_ws((*ne)[-1])) (*ne)--;
    return *ne > *nb;
}

static int beq(const buf *b, const char *p, size_t n) { return b->n == n && (n == 0 || !memcmp(b->p, p, n)); }

/* The mailbox m shows exactly the address given, and its name. */
static void check_mailbox(const char *field, mbox *m, const char *given, int utf8)
{
    buf wa = { 0, 0, 0 };
    const char *nb, *ne;
    want_addr(given, utf8, &wa);
    if (!beq(&m->addr, (const char *)wa.p, wa.n)) {
        fprintf(stderr, "compose: %s shows the address \"%.*s\" for \"%s\" (want \"%.*s\")\n", field,
                (int)m->addr.n, m->addr.p, given, (int)wa.n, wa.p);
        FCHECK(0);
    }
    bfree(&wa);
    if (!want_name(given, &nb, &ne)) {
        if (m->has_name && m->name.n) {
            fprintf(stderr, "compose: %s shows a display name \"%.*s\" for \"%s\"\n", field, (int)m->name.n,
                    m->name.p, given);
            FCHECK(0);
        }
        return;
    }
    {
        /* the name as given; or inside its quotes; or that unescaped */
        size_t n = (size_t)(ne - nb);
        int ok = beq(&m->name, nb, n);
        if (!ok && n >= 2 && nb[0] == '"' && ne[-1] == '"') {
            buf u = { 0, 0, 0 };
            const char *q;
            ok = beq(&m->name, nb + 1, n - 2);
            for (q = nb + 1; q < ne - 1; q++) {
                if (*q == '\\' && q + 1 < ne - 1) q++;
                bputc(&u, *q);
            }
            if (!ok) ok = beq(&m->name, u.p ? (const char *)u.p : "", u.n);
            bfree(&u);
        }
        if (!ok) {
            /* or read as an RFC 5322 phrase (quoted strings unquoted, words
               decoded; a quote left open ends the name), white space at the
               ends aside */
            buf u = { 0, 0, 0 };
            const char *g = m->name.p ? (const char *)m->name.p : "", *w;
            size_t gn = m->name.n, wn;
            phrase(nb, n, &u);
            w = (const char *)u.p; wn = u.n;
            while (wn && p_is_ws(*w)) { w++; wn--; }
            while (wn && p_is_ws(w[wn - 1])) wn--;
            while (gn && p_is_ws(*g)) { g++; gn--; }
            while (gn && p_is_ws(g[gn - 1])) gn--;
            ok = gn == wn && !memcmp(g, w, gn);
            bfree(&u);
        }
        if (!ok) {
            fprintf(stderr, "compose: %s shows the display name \"%.*s\" for \"%s\"\n", field, (int)m->name.n,
                    m->name.p ? (const char *)m->name.p : "", given);
            FCHECK(0);
        }
    }
}

static void check_list(hfield *f, const char *field, const char *const *given, int n, int utf8)
{
    mlist l;
    int i;
    if (parse_list((const char *)f->v.p, f->v.n, &l) != 0) {
        fprintf(stderr, "compose: %s does not parse as an address list (%s): \"%.*s\"\n", field, l.why,
                (int)(f->v.n > 400 ? 400 : f->v.n), f->v.p);
        FCHECK(0);
    }
    if (l.n != n) {
        fprintf(stderr, "compose: %s shows %d mailboxes for %d given: \"%.*s\"\n", field, l.n, n,
                (int)(f->v.n > 400 ? 400 : f->v.n), f->v.p);
        FCHECK(0);
    }
    for (i = 0; i < n; i++) check_mailbox(field, &l.m[i], given[i], utf8);
    mlist_free(&l);
}

static const char *const ADDRESS_HEADERS[] = { "From", "To", "Cc", "Reply-To", "Sender" };

static int address_header(const char *name, size_t n)
{
    size_t i;
    for (i = 0; i < sizeof ADDRESS_HEADERS / sizeof *ADDRESS_HEADERS; i++)
        if (ieq(name, n, ADDRESS_HEADERS[i])) return 1;
    return 0;
}

/* Reply-To, Sender from message.headers: an address list that parses;
   when the value given parses as one, the same mailboxes. */
static void check_addr_header(hfield *f, const char *value, int utf8)
{
    mlist got, want;
    int i;
    if (parse_list((const char *)f->v.p, f->v.n, &got) != 0) {
        fprintf(stderr, "compose: %.*s does not parse as an address list (%s): \"%.*s\"\n", (int)f->nn, f->name,
                got.why, (int)(f->v.n > 400 ? 400 : f->v.n), f->v.p);
        FCHECK(0);
    }
    for (i = 0; i < got.n; i++) {
        const char *a;
        size_t an;
        char *z = (char *)malloc(got.m[i].addr.n + 1);
        FCHECK(z != NULL);
        memcpy(z, got.m[i].addr.p ? (const char *)got.m[i].addr.p : "", got.m[i].addr.n);
        z[got.m[i].addr.n] = 0;
        if (smtp__addr(z, 1, &a, &an) != NULL || !memchr(z, '@', got.m[i].addr.n)) {
            fprintf(stderr, "compose: %.*s shows \"%s\", which is not an address\n", (int)f->nn, f->name, z);
            FCHECK(0);
        }
        if (smtp__is_ascii(value, strlen(value)) && !strstr(value, z)) {
            fprintf(stderr, "compose: %.*s shows \"%s\", which is not in the value given\n", (int)f->nn, f->name, z);
            FCHECK(0);
        }
        free(z);
    }
    if (parse_list(value, strlen(value), &want) == 0) {
        if (want.n != got.n) {
            fprintf(stderr, "compose: %.*s shows %d mailboxes, the value given holds %d: \"%s\" -> \"%.*s\"\n",
                    (int)f->nn, f->name, got.n, want.n, value, (int)(f->v.n > 400 ? 400 : f->v.n), f->v.p);
            FCHECK(0);
        }
        for (i = 0; i < got.n; i++) {
            if (!want.m[i].addr.n) continue;
            {
                char *z = (char *)malloc(want.m[i].addr.n + 1);
                buf wa = { 0, 0, 0 };
                FCHECK(z != NULL);
                memcpy(z, want.m[i].addr.p, want.m[i].addr.n);
                z[want.m[i].addr.n] = 0;
                if (smtp__addr(z, 1, &(const char *){ 0 }, &(size_t){ 0 }) == NULL) want_addr(z, utf8, &wa);
                else bput(&wa, z, strlen(z));
                if (!beq(&got.m[i].addr, (const char *)wa.p, wa.n) ||
                    !beq(&got.m[i].name, want.m[i].name.p ? (const char *)want.m[i].name.p : "", want.m[i].name.n)) {
                    fprintf(stderr, "compose: %.*s mailbox %d is \"%.*s\" <%.*s>, the value given holds \"%.*s\" <%s>\n",
                            (int)f->nn, f->name, i, (int)got.m[i].name.n, got.m[i].name.p, (int)got.m[i].addr.n,
                            got.m[i].addr.p, (int)want.m[i].name.n, want.m[i].name.p, z);
                    FCHECK(0);
                }
                bfree(&wa);
                free(z);
            }
        }
    }
    mlist_free(&got);
    mlist_free(&want);
}

/* a[0..an) and b[0..bn) equal, a run of white space matching any other */
static int ws_eq(const char *a, size_t an, const char *b, size_t bn)
{
    size_t i = 0, j = 0;
    while (i < an && j < bn) {
        if (p_is_ws(a[i]) && p_is_ws(b[j])) {
            while (i < an && p_is_ws(a[i])) i++;
            while (j < bn && p_is_ws(b[j])) j++;
            continue;
        }
        if (a[i] != b[j]) return 0;
        i++; j++;
    }
    return i == an && j == bn;
}

/* An unstructured field shows the text given: the same words, the same
   bytes between them; white space at either end aside (readers drop it,
   and a fold may not leave it), and a run of white space may come out
   shorter (a folder that keeps no line of white space alone may drop
   some; that is a fidelity loss, not a changed meaning). */
static void check_text(hfield *f, const char *value)
{
    buf d = { 0, 0, 0 };
    const char *v = (const char *)f->v.p, *w = value, *we = value + strlen(value), *g;
    size_t n = f->v.n;
    unstructured(v, n, &d);
    while (w < we && p_is_ws(*w)) w++;
    while (we > w && p_is_ws(we[-1])) we--;
    g = d.p ? (const char *)d.p : "";
    n = d.n;
    while (n && p_is_ws(*g)) { g++; n--; }
    while (n && p_is_ws(g[n - 1])) n--;
    if (!ws_eq(g, n, w, (size_t)(we - w))) {
        fprintf(stderr, "compose: %.*s decodes to \"%.*s\", given \"%s\"\n", (int)f->nn, f->name, (int)d.n,
                d.p ? (const char *)d.p : "", value);
        FCHECK(0);
    }
    bfree(&d);
}

/* ------------------------------------------------------------------ */
/* the input                                                            */

static const char *next_field(char **p, char *end, const char *def)
{
    char *f = *p;
    if (f >= end) return def;
    *p = f + strlen(f) + 1;
    return f;
}

static int verbose(void)
{
    static int v = -1;
    if (v < 0) { const char *e = getenv("FUZZ_VERBOSE"); v = e && *e == '1'; }
    return v;
}

/* FUZZ_COMPOSE_CHECKS=0: only the sanitizers and the error path (to hunt
   memory errors past invariant failures that are already known) */
static int checks(void)
{
    static int v = -1;
    if (v < 0) { const char *e = getenv("FUZZ_COMPOSE_CHECKS"); v = !(e && *e == '0'); }
    return v;
}

#define BCC "hidden-bcc-7f3a@bcc.example"

static void check_leaf_text(leaf *l, const char *sub, const char *given)
{
    buf w = { 0, 0, 0 };
    buf *cs = param(&l->ct, "charset");
    char t[32];
    snprintf(t, sizeof t, "text/%s", sub);
    if (strcmp(l->ct.type, t)) fail("a text part of another type", l->ct.type, strlen(l->ct.type));
    if (!cs || !ieq((const char *)cs->p, cs->n, "utf-8")) fail("a text part without charset=utf-8", t, strlen(t));
    crlf(given, &w);
    /* the message's own body: its last line end may be the one added at the end of data */
    if (l->top && l->body.n >= 2 && !memcmp(l->body.p + l->body.n - 2, "\r\n", 2) &&
        !(w.n >= 2 && !memcmp(w.p + w.n - 2, "\r\n", 2)))
        l->body.n -= 2;
    if (!beq(&l->body, w.p ? (const char *)w.p : "", w.n)) {
        fprintf(stderr, "compose: the %s part decodes to %zu bytes \"%.*s\", given %zu \"%.*s\"\n", t, l->body.n,
                (int)(l->body.n > 300 ? 300 : l->body.n), l->body.p, w.n, (int)(w.n > 300 ? 300 : w.n), w.p);
        FCHECK(0);
    }
    bfree(&w);
}

static void check_leaf_att(leaf *l, const smtp_attachment *a, const char *want_parent)
{
    params gp;
    int i;
    char want_type[256];
    buf *nm = param(&l->ct, "name"), *fn = param(&l->cd, "filename");
    if (strcmp(l->parent, want_parent)) {
        fprintf(stderr, "compose: an attachment in %s, want %s\n", l->parent, want_parent);
        FCHECK(0);
    }
    if (!beq(&l->body, (const char *)a->data, a->size)) fail("an attachment that decodes to other bytes", (const char *)l->body.p, l->body.n);
    memset(&gp, 0, sizeof gp);
    if (a->content_type && parse_params(a->content_type, strlen(a->content_type), &gp, 1) == 0) {
        snprintf(want_type, sizeof want_type, "%s", gp.type);
        for (i = 0; i < gp.n; i++) {
            buf *v = param(&l->ct, gp.attr[i]);
            if (!v || !beq(v, gp.val[i].p ? (const char *)gp.val[i].p : "", gp.val[i].n)) {
                fprintf(stderr, "compose: the attachment's Content-Type lost the parameter %s given\n", gp.attr[i]);
                FCHECK(0);
            }
        }
    } else if (a->content_type) {
        size_t k;
        for (k = 0; a->content_type[k] && a->content_type[k] != ';' && k + 1 < sizeof want_type; k++)
            want_type[k] = (char)lower((unsigned char)a->content_type[k]);
        want_type[k] = 0;
        while (k > 0 && p_is_ws(want_type[k - 1])) want_type[--k] = 0;
    } else {
        size_t k;
        snprintf(want_type, sizeof want_type, "%s", smtp__mime_type(a->filename));
        for (k = 0; want_type[k]; k++) want_type[k] = (char)lower((unsigned char)want_type[k]);
    }
    params_free(&gp);
    if (strcmp(l->ct.type, want_type)) {
        fprintf(stderr, "compose: an attachment of type %s, given %s\n", l->ct.type, want_type);
        FCHECK(0);
    }
    if (!l->has_cd || strcmp(l->cd.type, a->content_id ? "inline" : "attachment"))
        fail("an attachment with the wrong disposition", l->cd.type, strlen(l->cd.type));
    if (a->filename) {
        size_t fl = strlen(a->filename);
        if (!nm || !beq(nm, a->filename, fl) || !fn || !beq(fn, a->filename, fl)) {
            fprintf(stderr, "compose: the file name \"%s\" shows as name=\"%.*s\" filename=\"%.*s\"\n", a->filename,
                    nm ? (int)nm->n : 0, nm ? (const char *)nm->p : "", fn ? (int)fn->n : 0, fn ? (const char *)fn->p : "");
            FCHECK(0);
        }
    } else if (fn) fail("a file name nobody gave", (const char *)fn->p, fn->n);
    if (a->content_id) {
        buf w = { 0, 0, 0 };
        bputs(&w, "<"); bputs(&w, a->content_id); bputs(&w, ">");
        if (!beq(&l->cid, (const char *)w.p, w.n)) fail("a Content-ID other than the one given", (const char *)l->cid.p, l->cid.n);
        if (!a->content_id[0]) fail("an empty Content-ID", "<>", 2);
        bfree(&w);
    } else if (l->cid.n) fail("a Content-ID nobody gave", (const char *)l->cid.p, l->cid.n);
}

static void check_message(const smtp_message *m, const char *msg, size_t n, const char *input, size_t in_n)
{
    size_t i, col = 0, body;
    int utf8 = strstr((const char *)T.mail.p, " SMTPUTF8") != NULL, k;
    const char *sz = strstr((const char *)T.mail.p, " SIZE=");
    BODY8 = strstr((const char *)T.mail.p, " BODY=8BITMIME") != NULL;
    UTF8 = utf8;
    /* lines */
    if (n < 2 || memcmp(msg + n - 2, "\r\n", 2)) fail("a message that does not end with CRLF", msg, n);
    for (i = 0; i < n; i++) {
        if (!msg[i]) fail("a NUL", msg + i, n - i);
        if (msg[i] == '\r' && (i + 1 == n || msg[i + 1] != '\n')) fail("a CR without LF", msg + i, n - i);
        if (msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r')) fail("an LF without CR", msg + i, n - i);
        if (msg[i] == '\r') col = 0;
        else if (msg[i] != '\n' && ++col > 998) fail("a line over 998 octets", msg + i - 997, 998);
        if ((unsigned char)msg[i] >= 0x80 && !BODY8 && !utf8) fail("an 8-bit byte without BODY=8BITMIME or SMTPUTF8", msg + i, n - i);
    }
    if (sz && strtoull(sz + 6, NULL, 10) < n) {
        fprintf(stderr, "compose: SIZE=%s declared, %zu bytes sent\n", sz + 6, n);
        FCHECK(0);
    }
    /* the header block */
    body = headers(msg, n, HF, &NHF, 0);
    if (!utf8)
        for (i = 0; i < body; i++)
            if ((unsigned char)msg[i] >= 0x80) fail("an 8-bit byte in the header without SMTPUTF8", msg + i, body - i);
    if (count_fields(HF, NHF, "Date") != 1 || count_fields(HF, NHF, "From") != 1 ||
        count_fields(HF, NHF, "Message-ID") != 1 || count_fields(HF, NHF, "MIME-Version") != 1)
        fail("not one Date, From, Message-ID, MIME-Version each", msg, body);
    if (count_fields(HF, NHF, "To") != (m->to && m->to[0] ? 1 : 0) || count_fields(HF, NHF, "Cc") != (m->cc && m->cc[0] ? 1 : 0) ||
        count_fields(HF, NHF, "Subject") != (m->subject ? 1 : 0))
        fail("To, Cc or Subject not exactly when given", msg, body);
    if (count_fields(HF, NHF, "Bcc") || count_fields(HF, NHF, "Resent-Bcc")) fail("a Bcc header", msg, body);
    if (m->bcc && !memmem(input, in_n, BCC, strlen(BCC)) && memmem(msg, body, BCC, strlen(BCC)))
        fail("the Bcc address in the header", msg, body);
    /* Message-ID: "<" dot-atom-text "@" dot-atom-text ">" (RFC 5322 3.6.4; UTF-8 with SMTPUTF8, RFC 6532) */
    {
        hfield *mf = field_n(HF, NHF, "Message-ID", 0);
        const char *v = (const char *)mf->v.p, *e = v + mf->v.n, *at = NULL, *q;
        while (v < e && p_is_ws(*v)) v++;
        while (e > v && p_is_ws(e[-1])) e--;
        if (e - v < 5 || *v != '<' || e[-1] != '>') fail("a Message-ID that is not <...>", v, (size_t)(e - v));
        for (q = v + 1; q < e - 1; q++) {
            unsigned char c = (unsigned char)*q;
            if (c == '@') { if (at) fail("a Message-ID with two '@'", v, (size_t)(e - v)); at = q; continue; }
            if (c == '.' && (q == v + 1 || q[-1] == '.' || q[-1] == '@' || q[1] == '@' || q + 1 == e - 1))
                fail("a Message-ID with an empty atom", v, (size_t)(e - v));
            if (!(c >= 0x80 && utf8) && (c < 33 || c > 126 || strchr("()<>[]:;@\\,\"", c)))
                fail("a Message-ID with a byte outside atext", v, (size_t)(e - v));
        }
        if (!at || at == v + 1 || at == e - 2) fail("a Message-ID without id-left@id-right", v, (size_t)(e - v));
    }
    /* address fields */
    check_list(field_n(HF, NHF, "From", 0), "From", &m->from, 1, utf8);
    if (m->to && m->to[0]) { for (k = 0; m->to[k]; k++) {} check_list(field_n(HF, NHF, "To", 0), "To", m->to, k, utf8); }
    if (m->cc && m->cc[0]) { for (k = 0; m->cc[k]; k++) {} check_list(field_n(HF, NHF, "Cc", 0), "Cc", m->cc, k, utf8); }
    if (m->subject) check_text(field_n(HF, NHF, "Subject", 0), m->subject);
    /* extra headers, the k-th of a name to the k-th given */
    for (i = 0; i < m->header_count; i++) {
        size_t j;
        int nth = 0;
        hfield *f;
        for (j = 0; j < i; j++) if (!strcasecmp(m->headers[j].name, m->headers[i].name)) nth++;
        f = field_n(HF, NHF, m->headers[i].name, nth);
        if (!f) fail("an extra header missing", m->headers[i].name, strlen(m->headers[i].name));
        if (address_header(m->headers[i].name, strlen(m->headers[i].name))) check_addr_header(f, m->headers[i].value, utf8);
        else check_text(f, m->headers[i].value);
    }
    /* the MIME tree */
    NL = 0;
    entity(msg + body, n - body, HF, NHF, "", 0);
    {
        size_t inl = 0, att = 0, want = (m->html ? 2u : 1u) + m->attachment_count;
        int x = 0;
        for (i = 0; i < m->attachment_count; i++) { if (m->attachments[i].content_id) inl++; else att++; }
        if ((size_t)NL != want) {
            fprintf(stderr, "compose: %d parts, want %zu (text%s, %zu inline, %zu attachments)\n", NL, want,
                    m->html ? ", html" : "", inl, att);
            FCHECK(0);
        }
        check_leaf_text(&L[x++], "plain", m->text ? m->text : "");
        if (m->html) {
            if (strcmp(L[0].parent, "multipart/alternative")) fail("the text not in multipart/alternative", L[0].parent, strlen(L[0].parent));
            if (strcmp(L[1].parent, "multipart/alternative")) fail("the HTML not in multipart/alternative", L[1].parent, strlen(L[1].parent));
            check_leaf_text(&L[x++], "html", m->html);
        } else if (att + inl == 0 && !L[0].top) fail("a lone text part inside a multipart", L[0].parent, strlen(L[0].parent));
        for (i = 0; i < m->attachment_count; i++)
            if (m->attachments[i].content_id)
                check_leaf_att(&L[x++], &m->attachments[i], m->html ? "multipart/related" : "multipart/mixed");
        for (i = 0; i < m->attachment_count; i++)
            if (!m->attachments[i].content_id) check_leaf_att(&L[x++], &m->attachments[i], "multipart/mixed");
    }
    for (k = 0; k < NL; k++) { params_free(&L[k].ct); params_free(&L[k].cd); bfree(&L[k].cid); bfree(&L[k].body); }
    for (k = 0; k < MAXF; k++) HF[k].v.n = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy, *p, *end;
    const char *fv[19];
    static const char *const defs[19] = {
        "Alice <alice@example.com>", "Bob <bob@example.org>", "carol@example.net", "\"Doe, Dan\" <dan@example.net>",
        "Hello", "Reply-To", "Alice <alice@example.com>", "X-Mailer", "fuzz", "Hi.\n", "<p>Hi</p>",
        "report.pdf", "application/pdf", "logo@x", "%PDF", "data.csv", "text/csv", "c2@x", "a,b\n" };
    const char *to[3], *cc[2], *bcc[2] = { BCC, NULL };
    smtp_header hd[3];
    smtp_attachment at[2];
    unsigned char *adata[2] = { NULL, NULL };
    smtp_message m;
    smtp_config cfg;
    smtp_result r;
    uint8_t f0, f1, f2;
    int i, nto = 0;
    if (size < 3) return 0;
    f0 = data[0]; f1 = data[1]; f2 = data[2];
    copy = (char *)malloc(size - 3 + 1);
    FCHECK(copy != NULL);
    memcpy(copy, data + 3, size - 3);
    copy[size - 3] = 0;
    p = copy; end = copy + size - 3;
    for (i = 0; i < 19; i++) fv[i] = next_field(&p, end, defs[i]);

    memset(&m, 0, sizeof m);
    m.from = fv[0];
    if (!(f1 & 128)) to[nto++] = fv[1];
    if (f1 & 1) to[nto++] = fv[2];
    to[nto] = NULL;
    if (nto) m.to = to;
    cc[0] = fv[3]; cc[1] = NULL;
    if (f1 & 2) m.cc = cc;
    if (f1 & 4) m.subject = fv[4];
    if (f1 & 32) m.bcc = bcc;
    m.text = (f1 & 64) ? NULL : fv[9];
    if (f0 & 32) m.html = fv[10];
    if (f1 & 8) { hd[m.header_count].name = fv[5]; hd[m.header_count++].value = fv[6]; }
    if (f1 & 16) { hd[m.header_count].name = fv[7]; hd[m.header_count++].value = fv[8]; }
    if ((f1 & 8) && (f2 & 64)) { hd[m.header_count].name = fv[5]; hd[m.header_count++].value = fv[6]; }
    if (m.header_count) m.headers = hd;
    memset(at, 0, sizeof at);
    for (i = 0; i < 2; i++) {
        const char *const *a = fv + 11 + 4 * i;
        int fl = f2 >> (3 * i);
        size_t k, dn = strlen(a[3]);
        if (!(f0 & (64 << i))) continue;
        adata[i] = (unsigned char *)malloc(dn + 1);
        FCHECK(adata[i] != NULL);
        for (k = 0; k < dn; k++) adata[i][k] = (unsigned char)(a[3][k] ^ 0x80);
        at[m.attachment_count].data = adata[i];
        at[m.attachment_count].size = dn;
        if (fl & 1) at[m.attachment_count].filename = a[0];
        if (fl & 2) at[m.attachment_count].content_type = a[1];
        if (fl & 4) at[m.attachment_count].content_id = a[2];
        m.attachment_count++;
    }
    if (m.attachment_count) m.attachments = at;

    memset(&T, 0, sizeof T);
    T.ext = f0 & 31;
    say("220 mx.fuzz.test ESMTP\r\n");
    memset(&cfg, 0, sizeof cfg);
    cfg.host = "mx.fuzz.test";
    cfg.port = 25;
    cfg.security = SMTP_SECURITY_NONE;
    cfg.helo_name = "client.fuzz.test";
    FCHECK(smtp__init(&S, &cfg) == SMTP_OK);
    S.link.io.read = t_read; S.link.io.write = t_write; S.link.io.close = t_close;
    FCHECK(smtp__start(&S) == SMTP_OK);
    r = smtp_send(&S, &m);
    if (verbose()) {
        fprintf(stderr, "smtp_send: %s: %s\n%s\n", smtp_result_str(r), smtp_error_detail(&S),
                T.mail.p ? (const char *)T.mail.p : "(no MAIL)");
        if (T.messages) fprintf(stderr, "----\n%.*s----\n", (int)T.msg.n, (const char *)T.msg.p);
    }
    if (r == SMTP_OK) {
        FCHECK(T.messages == 1 && T.mails == 1);
        if (checks()) check_message(&m, (const char *)T.msg.p, T.msg.n, (const char *)data, size);
    } else {
        if (r != SMTP_ERR_PARAM && r != SMTP_ERR_UNSUPPORTED)
            fprintf(stderr, "compose: smtp_send: %s: %s\n", smtp_result_str(r), smtp_error_detail(&S));
        FCHECK(r == SMTP_ERR_PARAM || r == SMTP_ERR_UNSUPPORTED);
        FCHECK(T.data_cmds == 0 && T.messages == 0);   /* nothing written as DATA */
    }
    (void)smtp_close(&S);
    FCHECK(T.closed);
    bfree(&T.in); bfree(&T.line); bfree(&T.wire); bfree(&T.msg); bfree(&T.mail);
    free(adata[0]); free(adata[1]);
    free(copy);
    return 0;
}
